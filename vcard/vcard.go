package vcard

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"

	"github.com/skald-xmpp/skald/internal/keylock"
	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/router"
	"github.com/skald-xmpp/skald/stanza"
	"github.com/skald-xmpp/skald/storage"
)

// NS is the vcard-temp namespace (XEP-0054 §4).
const NS = "vcard-temp"

// Kind is the storage.Documents kind of vCards; each account has one,
// under the empty key.
const Kind = "vcard"

// Config configures the module.
type Config struct {
	// MaxBytes bounds a stored vCard's serialisation.
	MaxBytes int `toml:"max_bytes"`
	// AvatarConversion converts between vCard photos and XEP-0084
	// avatars and puts the photo's hash in presence (XEP-0398, avatar.go).
	AvatarConversion bool `toml:"avatar_conversion"`
}

// DefaultConfig allows 64 KiB vCards, room for a small avatar, and
// converts avatars.
func DefaultConfig() Config { return Config{MaxBytes: 64 << 10, AvatarConversion: true} }

// Validate reports a configuration that cannot work.
func (c Config) Validate() error {
	if c.MaxBytes < len(`<vCard xmlns="vcard-temp"/>`) {
		return errors.New("vcard: max_bytes must be at least 27 (an empty vCard)")
	}
	return nil
}

// Module answers vcard-temp requests.
type Module struct {
	cfg   Config
	store storage.Documents
	// pep, if set (SetPEP), is the PEP service avatars are converted
	// with; log reports conversions that fail outside a request.
	pep PEP
	log *slog.Logger
	// locks makes one account's vCard changes (a set, a conversion from
	// PEP) one step each. Taken before pep's lock, never under it.
	locks  keylock.Locks
	hashes photoHashes
}

// New returns the module storing vCards in store.
func New(cfg Config, store storage.Documents) *Module {
	return &Module{cfg: cfg, store: store}
}

// Name implements router.Module.
func (*Module) Name() string { return "vcard" }

// DiscoFeatures implements router.FeatureProvider (§4).
func (m *Module) DiscoFeatures() (server, account []string) {
	account = []string{NS}
	if m.pep != nil {
		account = append(account, FeatureConversion) // XEP-0398 §2
	}
	return []string{NS}, account
}

// RegisterIQ implements router.IQRegistrar. A get to an address with no
// account is left to the router's service-unavailable; a set there is
// this module's forbidden, as to any other account.
func (m *Module) RegisterIQ(r *router.Router) {
	r.HandleIQ(stanza.TypeGet, NS, "vCard", router.ToServer|router.ToAccount, router.IQHandlerFunc(m.get))
	r.HandleIQ(stanza.TypeSet, NS, "vCard", router.ToServer|router.ToAccount|router.ToNoAccount, router.IQHandlerFunc(m.set))
}

func (m *Module) get(ctx context.Context, iq *router.IQ) (*xml.Element, error) {
	if iq.To.Local() == "" {
		return nil, stanza.E(stanza.ItemNotFound, "")
	}
	own := iq.To == iq.From.Bare()
	v, err := m.stored(ctx, iq.To.String())
	switch {
	case err != nil:
		return nil, err
	case v == nil && own:
		return stanza.Result(iq.Stanza).Append(xml.New(NS, "vCard")), nil
	case v == nil:
		return nil, stanza.E(stanza.ServiceUnavailable, "")
	}
	return stanza.Result(iq.Stanza).Append(v), nil
}

// stored returns the account's vCard, nil if it has none.
func (m *Module) stored(ctx context.Context, account string) (*xml.Element, error) {
	b, err := m.store.Document(ctx, account, Kind, "")
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return nil, nil
	case err != nil:
		return nil, err
	}
	// The vCard met the stream's depth and attribute limits when it was
	// set: no limits to apply again.
	els, err := xml.ParseElements(b, xml.Limits{})
	if err != nil {
		return nil, fmt.Errorf("vcard: stored vCard of %s: %w", account, err)
	}
	if len(els) != 1 || !els[0].Is(NS, "vCard") {
		return nil, fmt.Errorf("vcard: stored vCard of %s holds %d elements", account, len(els))
	}
	return els[0], nil
}

func (m *Module) set(ctx context.Context, iq *router.IQ) (*xml.Element, error) {
	if iq.To != iq.From.Bare() {
		return nil, stanza.E(stanza.Forbidden, "")
	}
	b := iq.Payload.Bytes("")
	if len(b) > m.cfg.MaxBytes {
		return nil, stanza.E(stanza.PolicyViolation, "vCard larger than "+strconv.Itoa(m.cfg.MaxBytes)+" bytes")
	}
	account := iq.To.String()
	unlock := m.locks.Lock(account)
	defer unlock()
	if err := m.store.PutDocuments(ctx, account, Kind, []storage.Document{{XML: b}}, 0); err != nil {
		return nil, err
	}
	if m.pep != nil {
		hash := ""
		if p, ok := photoOf(iq.Payload); ok {
			hash = p.id
		}
		m.hashes.set(account, hash)
		// The vCard is stored: a conversion that fails is logged, not
		// answered (XEP-0398 §3.2 is the server's job, not the client's).
		if err := m.toPEP(ctx, iq.To, iq.Payload); err != nil {
			m.log.Warn("vcard: photo not converted to the XEP-0084 avatar", "account", account, "err", err)
		}
	}
	return stanza.Result(iq.Stanza), nil
}
