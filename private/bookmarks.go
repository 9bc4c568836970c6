package private

import (
	"bytes"
	"context"
	"log/slog"
	"slices"
	"strconv"

	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/jid"
	"github.com/skald-xmpp/skald/stanza"
)

// Bookmark namespaces and the features of their unification (see doc.go).
const (
	NSBookmarks      = "storage:bookmarks"          // XEP-0048, also its PEP node (XEP-0223)
	NSBookmarks2     = "urn:xmpp:bookmarks:1"       // XEP-0402, also its PEP node
	FeatureCompat    = NSBookmarks2 + "#compat"     // XEP-0402 §5: with private XML
	FeatureCompatPEP = NSBookmarks2 + "#compat-pep" // XEP-0402 §5: with XEP-0048's PEP node
	nsPubSub         = "http://jabber.org/protocol/pubsub"
)

// PEP is what the bookmark conversion needs of the account's PEP service
// (pep.Module has it): the items of a node, and publishing and
// retracting as the account would, with publish-options.
type PEP interface {
	Items(ctx context.Context, owner jid.JID, node string, ids ...string) (items []*xml.Element, exists bool, err error)
	Publish(ctx context.Context, owner jid.JID, node string, item *xml.Element, options map[string]string) (string, error)
	Retract(ctx context.Context, owner jid.JID, node, id string) error
	// MaxNodeItems is the most items a node keeps (pubsub#max_items
	// "max"): more bookmarks than that cannot be one node's items.
	MaxNodeItems() int
}

// SetPEP turns the XEP-0402 #compat conversion on (before the server
// starts), unless Config.BookmarksCompat is false.
func (m *Module) SetPEP(p PEP, log *slog.Logger) {
	if !m.cfg.BookmarksCompat {
		return
	}
	if log == nil {
		log = slog.Default()
	}
	m.pep, m.log = p, log
}

// nodeOptions are the publish-options XEP-0402 §3 gives the bookmarks
// node: private (whitelist: the owner only), every bookmark kept, never
// pushed on presence. The server publishes with them, so that it never
// writes bookmarks into a node the account made readable to others
// (conflict + <precondition-not-met/>).
var nodeOptions = map[string]string{
	"pubsub#persist_items":            "true",
	"pubsub#max_items":                "max",
	"pubsub#send_last_published_item": "never",
	"pubsub#access_model":             "whitelist",
}

// legacyOptions are the publish-options of XEP-0048's own PEP node
// (storage:bookmarks, XEP-0223 §3.1: persistent, whitelist); its one item
// is "current" (XEP-0048 §3.3).
var legacyOptions = map[string]string{
	"pubsub#persist_items": "true",
	"pubsub#access_model":  "whitelist",
}

// maxRoomJIDBytes is the longest room JID that can be an item id of
// urn:xmpp:bookmarks:1: pep takes item ids of at most 1024 bytes. A JID
// may be longer (RFC 7622: 1023 bytes per part).
const maxRoomJIDBytes = 1024

// legacyItemID is the id of the XEP-0048 list in its PEP node.
const legacyItemID = "current"

// PEPPublished learns of the account's own PEP publishes (pep.Observer,
// which internal/server installs; never of the server's own, so the
// conversions cannot loop). A bookmark published to urn:xmpp:bookmarks:1
// is mirrored into the XEP-0048 list of the storage:bookmarks PEP node; a
// list published there (XEP-0048 over XEP-0223) becomes the items of
// urn:xmpp:bookmarks:1, as a set in private XML does. Failures are
// logged: the publish itself succeeded.
func (m *Module) PEPPublished(ctx context.Context, owner jid.JID, node, id string, payload *xml.Element) {
	if m.pep == nil {
		return
	}
	var err error
	switch {
	case node == NSBookmarks2:
		err = m.changedInPEP(ctx, owner)
	case node == NSBookmarks && payload.Is(NSBookmarks, "storage"):
		unlock := m.locks.Lock(owner.String())
		defer unlock()
		err = m.syncToPEP(ctx, owner, payload)
	}
	if err != nil {
		m.log.Warn("private: bookmarks not converted", "account", owner.String(), "node", node, "err", err)
	}
}

// PEPRetracted learns of the account's own PEP retractions
// (pep.Observer): a bookmark retracted from urn:xmpp:bookmarks:1 leaves
// the list of the storage:bookmarks PEP node.
func (m *Module) PEPRetracted(ctx context.Context, owner jid.JID, node, id string) {
	if m.pep == nil || node != NSBookmarks2 {
		return
	}
	if err := m.changedInPEP(ctx, owner); err != nil {
		m.log.Warn("private: bookmarks not converted", "account", owner.String(), "node", node, "err", err)
	}
}

func (m *Module) changedInPEP(ctx context.Context, owner jid.JID) error {
	unlock := m.locks.Lock(owner.String())
	defer unlock()
	return m.mirrorToLegacyPEP(ctx, owner)
}

// mirrorToLegacyPEP publishes the account's bookmarks as the XEP-0048 list
// of the storage:bookmarks PEP node (XEP-0402 §5.1: the items collated
// into storage:bookmarks, the jid of each its item id), so that clients
// of XEP-0048's PEP storage read the same list: the view a private XML
// get answers, url bookmarks included. Nothing is published while
// urn:xmpp:bookmarks:1 does not exist, nor when the node holds that list
// already (no notification for nothing). A node the account configured
// against XEP-0223 (not whitelist) refuses it (precondition-not-met).
// The caller holds the account's lock.
func (m *Module) mirrorToLegacyPEP(ctx context.Context, owner jid.JID) error {
	stored, err := m.stored(ctx, owner.String(), NSBookmarks)
	if err != nil {
		return err
	}
	_, exists, err := m.pep.Items(ctx, owner, NSBookmarks2)
	if err != nil || !exists {
		return err
	}
	view, err := m.legacyBookmarks(ctx, owner, stored)
	if err != nil {
		return err
	}
	list := storageOf(view)
	if list == nil {
		return nil
	}
	current, _, err := m.pep.Items(ctx, owner, NSBookmarks, legacyItemID)
	if err != nil {
		return err
	}
	if len(current) == 1 && current[0].FirstElement() != nil && bytes.Equal(current[0].FirstElement().Bytes(""), list.Bytes("")) {
		return nil
	}
	item := xml.New(nsPubSub, "item", "id", legacyItemID).Append(list)
	_, err = m.pep.Publish(ctx, owner, NSBookmarks, item, legacyOptions)
	return err
}

// toNative converts an XEP-0048 <conference/> to the XEP-0402 payload and
// its item id, the room JID; ok is false when its jid is no bare JID or
// too long for an item id (it stays in private XML only). name and autojoin keep their meaning, nick
// and password their text; any other child (another client's metadata,
// Gajim's <minimize/>) goes into <extensions/>, which XEP-0402 has for
// them.
func toNative(c *xml.Element) (id string, payload *xml.Element, ok bool) {
	room, err := jid.Parse(c.Attr("jid"))
	if err != nil || room.Resource() != "" || room.Local() == "" || len(room.String()) > maxRoomJIDBytes {
		return "", nil, false
	}
	out := xml.New(NSBookmarks2, "conference")
	if c.HasAttr("name") {
		out.SetAttr("name", c.Attr("name"))
	}
	if autojoin(c.Attr("autojoin")) {
		out.SetAttr("autojoin", "true")
	}
	var ext *xml.Element
	for _, el := range c.Elements() {
		switch {
		case el.Is(NSBookmarks, "nick"), el.Is(NSBookmarks, "password"):
			out.Append(xml.New(NSBookmarks2, el.Local).AppendText(el.Text()))
		default:
			if ext == nil {
				ext = xml.New(NSBookmarks2, "extensions")
			}
			ext.Append(el.Clone())
		}
	}
	if ext != nil {
		out.Append(ext)
	}
	return room.String(), out, true
}

// toLegacy converts an XEP-0402 item (id, payload) to the XEP-0048
// <conference/>: the inverse of toNative.
func toLegacy(id string, p *xml.Element) *xml.Element {
	out := xml.New(NSBookmarks, "conference", "jid", id)
	if p.HasAttr("name") {
		out.SetAttr("name", p.Attr("name"))
	}
	if autojoin(p.Attr("autojoin")) {
		out.SetAttr("autojoin", "true")
	}
	for _, el := range p.Elements() {
		switch {
		case el.Is(NSBookmarks2, "nick"), el.Is(NSBookmarks2, "password"):
			out.Append(xml.New(NSBookmarks, el.Local).AppendText(el.Text()))
		case el.Is(NSBookmarks2, "extensions"):
			for _, x := range el.Elements() {
				out.Append(x.Clone())
			}
		}
	}
	return out
}

// autojoin reads the XML Schema boolean of both specifications.
func autojoin(v string) bool { return v == "true" || v == "1" }

// legacyBookmarks answers a get of storage:bookmarks while the conversion
// is on. The conferences are the PEP node's items (the one place
// bookmarks are kept once it exists); what XEP-0402 has no room for (url
// bookmarks, conferences without a usable room JID) comes from the
// stored document. An account whose node does not exist yet gets its
// stored list, which is first copied into the node (its bookmarks predate
// the conversion).
func (m *Module) legacyBookmarks(ctx context.Context, owner jid.JID, stored []*xml.Element) ([]*xml.Element, error) {
	items, exists, err := m.pep.Items(ctx, owner, NSBookmarks2)
	if err != nil {
		return nil, err
	}
	if !exists {
		if storage := storageOf(stored); storage != nil && len(storage.ChildrenNamed(NSBookmarks, "conference")) > 0 {
			err := m.syncToPEP(ctx, owner, storage)
			if err == nil {
				err = m.mirrorToLegacyPEP(ctx, owner)
			}
			if err != nil {
				m.log.Warn("private: bookmarks not copied to PEP", "account", owner.String(), "err", err)
			}
		}
		return stored, nil
	}
	out := xml.New(NSBookmarks, "storage")
	for _, it := range items {
		if p := it.FirstElement(); p != nil && p.Is(NSBookmarks2, "conference") {
			out.Append(toLegacy(it.Attr("id"), p))
		}
	}
	first := storageOf(stored)
	var rest []*xml.Element
	for _, el := range stored {
		if el != first {
			rest = append(rest, el)
			continue
		}
		for _, kid := range el.Elements() {
			if _, _, ok := toNative(kid); ok && kid.Is(NSBookmarks, "conference") {
				continue // the node's version counts
			}
			out.Append(kid)
		}
	}
	return append([]*xml.Element{out}, rest...), nil
}

// storageOf returns the first <storage/> of storage:bookmarks in els.
func storageOf(els []*xml.Element) *xml.Element {
	for _, el := range els {
		if el.Is(NSBookmarks, "storage") {
			return el
		}
	}
	return nil
}

// syncToPEP makes the PEP node hold the conferences of an XEP-0048 list
// (XEP-0402 §5.2): a bookmark that is new or changed is published, one
// that is gone is retracted, and one that is unchanged is not touched (no
// notification). Publishes come first: against a node configured
// otherwise the first one fails with precondition-not-met before
// anything changed.
func (m *Module) syncToPEP(ctx context.Context, owner jid.JID, storage *xml.Element) error {
	items, _, err := m.pep.Items(ctx, owner, NSBookmarks2)
	if err != nil {
		return err
	}
	have := map[string][]byte{}
	for _, it := range items {
		if p := it.FirstElement(); p != nil {
			// Compared as this module writes them, so that a bookmark a
			// client wrote differently (autojoin='1') is not republished.
			if _, norm, ok := toNative(toLegacy(it.Attr("id"), p)); ok {
				have[it.Attr("id")] = norm.Bytes("")
			}
		}
	}
	var keep []string
	var payloads []*xml.Element
	for _, c := range storage.ChildrenNamed(NSBookmarks, "conference") {
		id, payload, ok := toNative(c)
		if !ok || slices.Contains(keep, id) {
			continue // the first of duplicates counts
		}
		keep = append(keep, id)
		payloads = append(payloads, payload)
	}
	if max := m.pep.MaxNodeItems(); len(keep) > max {
		// Published one by one, the rooms past max would evict the
		// first ones from the node, where a get reads them.
		return stanza.E(stanza.PolicyViolation, "more than "+strconv.Itoa(max)+" bookmarked rooms")
	}
	for i, id := range keep {
		payload := payloads[i]
		if old, ok := have[id]; ok && bytes.Equal(old, payload.Bytes("")) {
			continue
		}
		item := xml.New(nsPubSub, "item", "id", id).Append(payload)
		if _, err := m.pep.Publish(ctx, owner, NSBookmarks2, item, nodeOptions); err != nil {
			return err
		}
	}
	for _, it := range items {
		if id := it.Attr("id"); !slices.Contains(keep, id) {
			if err := m.pep.Retract(ctx, owner, NSBookmarks2, id); err != nil {
				return err
			}
		}
	}
	return nil
}
