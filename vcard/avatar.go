package vcard

import (
	"context"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"

	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/jid"
	"github.com/skald-xmpp/skald/router"
	"github.com/skald-xmpp/skald/storage"
)

// Namespaces of the avatar conversion (XEP-0398, see doc.go).
const (
	FeatureConversion = "urn:xmpp:pep-vcard-conversion:0" // XEP-0398 §2
	NSAvatarData      = "urn:xmpp:avatar:data"            // XEP-0084 node and payload
	NSAvatarMetadata  = "urn:xmpp:avatar:metadata"        // XEP-0084 node and payload
	NSUpdate          = "vcard-temp:x:update"             // XEP-0153 presence element
	nsPubSub          = "http://jabber.org/protocol/pubsub"
)

// maxCachedHashes bounds the photo hashes kept for presence; past it the
// cache starts over (each entry is re-read from storage on its next
// presence).
const maxCachedHashes = 100000

// PEP is what the avatar conversion needs of the account's PEP service
// (pep.Module has it): items of a node, and publishing as the account
// would, with publish-options.
type PEP interface {
	Items(ctx context.Context, owner jid.JID, node string, ids ...string) (items []*xml.Element, exists bool, err error)
	Publish(ctx context.Context, owner jid.JID, node string, item *xml.Element, options map[string]string) (string, error)
}

// SetPEP turns the XEP-0398 conversion on (before the server starts),
// unless Config.AvatarConversion is false. internal/server also makes
// the module pep's observer (PEPPublished) and the router calls
// RewritePresence.
func (m *Module) SetPEP(p PEP, log *slog.Logger) {
	if !m.cfg.AvatarConversion {
		return
	}
	if log == nil {
		log = slog.Default()
	}
	m.pep, m.log = p, log
}

// photoHashes caches the XEP-0153 hash of each account's vCard photo (""
// for none) for the presence it rewrites.
type photoHashes struct {
	mu sync.Mutex // a leaf
	m  map[string]string
}

func (h *photoHashes) get(account string) (string, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	v, ok := h.m[account]
	return v, ok
}

func (h *photoHashes) forget(account string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.m, account)
}

func (h *photoHashes) set(account, hash string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.m == nil || len(h.m) >= maxCachedHashes {
		h.m = map[string]string{}
	}
	h.m[account] = hash
}

// ForgetAccount drops what the module keeps in memory of a deleted
// account (its photo hash), which a new account of the same name must not
// inherit.
func (m *Module) ForgetAccount(account jid.JID) {
	// Under the account's lock, so that a presence that read the vCard
	// before the deletion does not cache its hash after this.
	bare := account.Bare().String()
	unlock := m.locks.Lock(bare)
	defer unlock()
	m.hashes.forget(bare)
}

// image is a vCard's image: its type, bytes and XEP-0084 id (SHA-1, hex).
type image struct {
	typ  string
	data []byte
	id   string
}

// photoOf returns the image of a vCard's PHOTO: a TYPE and a BINVAL that
// is base64 (whitespace allowed, as line-wrapped base64 often is); ok is
// false for none (no PHOTO, only an EXTVAL, bad base64).
func photoOf(v *xml.Element) (p image, ok bool) {
	el := v.Child(NS, "PHOTO")
	if el == nil {
		return image{}, false
	}
	data, err := decodeBase64(el.ChildText(NS, "BINVAL"))
	if err != nil || len(data) == 0 {
		return image{}, false
	}
	return image{typ: strings.TrimSpace(el.ChildText(NS, "TYPE")), data: data, id: sha1Hex(data)}, true
}

func decodeBase64(s string) ([]byte, error) {
	s = strings.Map(func(r rune) rune {
		if r == ' ' || r == '\t' || r == '\r' || r == '\n' {
			return -1
		}
		return r
	}, s)
	return base64.StdEncoding.DecodeString(s)
}

func sha1Hex(b []byte) string {
	sum := sha1.Sum(b)
	return hex.EncodeToString(sum[:])
}

// photoHash returns the hash of the account's vCard photo, "" for none.
// A miss reads the vCard under the account's lock, which every change of
// the vCard (a set, a conversion from PEP) holds while it stores and
// caches: a read that raced a set would otherwise cache the old photo's
// hash after the set cached the new one, for every later presence.
func (m *Module) photoHash(ctx context.Context, account string) (string, error) {
	if h, ok := m.hashes.get(account); ok {
		return h, nil
	}
	unlock := m.locks.Lock(account)
	defer unlock()
	if h, ok := m.hashes.get(account); ok {
		return h, nil // cached by the change we waited for
	}
	v, err := m.stored(ctx, account)
	if err != nil {
		return "", err
	}
	h := ""
	if v != nil {
		if p, ok := photoOf(v); ok {
			h = p.id
		}
	}
	m.hashes.set(account, h)
	return h, nil
}

// RewritePresence implements router.PresenceRewriter (XEP-0398 §4): an
// available presence, broadcast or directed (a room join too), carries
// the hash of the vCard photo, which the server knows and clients that
// upload with XEP-0084 do not. A presence with an empty <photo/> (the
// client says there is no avatar, or that it is not ready to tell) is
// left as it is; an <x/> without <photo/> gets one; a different hash is
// replaced (the spec allows it: the stored photo is the truth). With no
// photo stored, the presence says so with an empty <photo/>.
func (m *Module) RewritePresence(ctx context.Context, s *router.Session, p *xml.Element) {
	if m.pep == nil {
		return
	}
	x := p.Child(NSUpdate, "x")
	if x != nil {
		if ph := x.Child(NSUpdate, "photo"); ph != nil && strings.TrimSpace(ph.Text()) == "" {
			return
		}
	}
	hash, err := m.photoHash(ctx, s.JID().Bare().String())
	if err != nil {
		m.log.Warn("vcard: photo hash unavailable, presence sent as it came", "account", s.JID().Bare().String(), "err", err)
		return
	}
	if x == nil {
		x = xml.New(NSUpdate, "x")
		p.Append(x)
	}
	x.RemoveChildren(func(el *xml.Element) bool { return el.Is(NSUpdate, "photo") })
	x.Append(xml.New(NSUpdate, "photo").AppendText(hash))
}

// toPEP publishes the photo of a vCard the account set as its XEP-0084
// avatar (XEP-0398 §3.2): the image to urn:xmpp:avatar:data under its
// SHA-1, then urn:xmpp:avatar:metadata with one <info/> of the vCard's
// TYPE, notified to the metadata node's subscribers by pep. Nothing is
// published for a vCard without a usable photo (no TYPE, no BINVAL, bad
// base64), nor when the metadata's newest item already is this image (a
// vCard set again with the same photo, or one that came from PEP). A node the
// server creates is open: the vCard that holds the photo is readable by
// anyone (XEP-0398 §6), so the PEP copy hides nothing more; a node that
// exists keeps its configuration (no publish-options).
func (m *Module) toPEP(ctx context.Context, owner jid.JID, v *xml.Element) error {
	p, ok := photoOf(v)
	if !ok || p.typ == "" {
		return nil
	}
	meta, metaExists, err := m.pep.Items(ctx, owner, NSAvatarMetadata)
	if err != nil {
		return err
	}
	// The newest item is the current avatar (Items: oldest first); a node
	// that keeps more holds older avatars too, which this photo may be
	// again.
	if len(meta) > 0 && meta[len(meta)-1].Attr("id") == p.id {
		return nil
	}
	_, dataExists, err := m.pep.Items(ctx, owner, NSAvatarData, p.id)
	if err != nil {
		return err
	}
	data := xml.New(NSAvatarData, "data").AppendText(base64.StdEncoding.EncodeToString(p.data))
	if _, err := m.pep.Publish(ctx, owner, NSAvatarData, xml.New(nsPubSub, "item", "id", p.id).Append(data), openIfNew(dataExists)); err != nil {
		return fmt.Errorf("avatar data: %w", err)
	}
	info := xml.New(NSAvatarMetadata, "info", "bytes", strconv.Itoa(len(p.data)), "id", p.id, "type", p.typ)
	item := xml.New(nsPubSub, "item", "id", p.id).Append(xml.New(NSAvatarMetadata, "metadata").Append(info))
	if _, err := m.pep.Publish(ctx, owner, NSAvatarMetadata, item, openIfNew(metaExists)); err != nil {
		return fmt.Errorf("avatar metadata: %w", err)
	}
	return nil
}

// openIfNew is the publish-options of a conversion's publish: an open
// node if the publish creates it, none (the node as configured) if not.
func openIfNew(exists bool) map[string]string {
	if exists {
		return nil
	}
	return map[string]string{"pubsub#access_model": "open"}
}

// PEPPublished learns of the account's own PEP publishes (pep.Observer;
// never of the conversion's own, so the two directions cannot loop). A
// publish to urn:xmpp:avatar:metadata puts the image in the vCard's PHOTO
// (XEP-0398 §3.1): the first <info/> without a url names the item of
// urn:xmpp:avatar:data whose image, if its SHA-1 is that id (§3.1
// SHOULD verify), becomes the PHOTO with the info's type; the rest of the
// vCard stays. A metadata without <info/> (XEP-0084 §4.5: avatar
// disabled) removes the PHOTO. Failures are logged: the publish itself
// succeeded.
func (m *Module) PEPPublished(ctx context.Context, owner jid.JID, node, id string, payload *xml.Element) {
	if m.pep == nil || node != NSAvatarMetadata || !payload.Is(NSAvatarMetadata, "metadata") {
		return
	}
	if err := m.fromPEP(ctx, owner, payload); err != nil {
		m.log.Warn("vcard: avatar not converted to the vCard", "account", owner.String(), "err", err)
	}
}

// PEPRetracted learns of the account's own PEP retractions (pep.Observer):
// XEP-0398 converts publishes only.
func (*Module) PEPRetracted(context.Context, jid.JID, string, string) {}

func (m *Module) fromPEP(ctx context.Context, owner jid.JID, meta *xml.Element) error {
	infos := meta.ChildrenNamed(NSAvatarMetadata, "info")
	var photoEl *xml.Element // nil: remove the photo
	if len(infos) > 0 {
		var info *xml.Element
		for _, in := range infos {
			if in.Attr("url") == "" && in.Attr("id") != "" {
				info = in
				break
			}
		}
		if info == nil {
			return nil // only images elsewhere: nothing to put in a vCard
		}
		items, _, err := m.pep.Items(ctx, owner, NSAvatarData, info.Attr("id"))
		if err != nil {
			return err
		}
		if len(items) == 0 {
			return errors.New("metadata names an image not in " + NSAvatarData)
		}
		data, err := decodeBase64(items[0].ChildText(NSAvatarData, "data"))
		if err != nil || len(data) == 0 {
			return errors.New("the avatar data is no base64 image")
		}
		if sha1Hex(data) != strings.ToLower(info.Attr("id")) {
			return errors.New("the avatar's SHA-1 is not its id")
		}
		photoEl = xml.New(NS, "PHOTO").Append(
			xml.New(NS, "TYPE").AppendText(info.Attr("type")),
			xml.New(NS, "BINVAL").AppendText(base64.StdEncoding.EncodeToString(data)))
	}
	account := owner.Bare().String()
	unlock := m.locks.Lock(account)
	defer unlock()
	v, err := m.stored(ctx, account)
	if err != nil {
		return err
	}
	if v == nil {
		if photoEl == nil {
			return nil
		}
		v = xml.New(NS, "vCard")
	}
	v.RemoveChildren(func(el *xml.Element) bool { return el.Is(NS, "PHOTO") })
	if photoEl != nil {
		v.Append(photoEl)
	}
	b := v.Bytes("")
	if len(b) > m.cfg.MaxBytes {
		return errors.New("the vCard with the avatar would exceed max_bytes")
	}
	if err := m.store.PutDocuments(ctx, account, Kind, []storage.Document{{XML: b}}, 0); err != nil {
		return err
	}
	hash := ""
	if p, ok := photoOf(v); ok {
		hash = p.id
	}
	m.hashes.set(account, hash)
	return nil
}
