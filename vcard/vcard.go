package vcard

import (
	"context"
	"errors"
	"fmt"
	"strconv"

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
}

// DefaultConfig allows 64 KiB vCards: room for a small avatar.
func DefaultConfig() Config { return Config{MaxBytes: 64 << 10} }

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
}

// New returns the module storing vCards in store.
func New(cfg Config, store storage.Documents) *Module {
	return &Module{cfg: cfg, store: store}
}

// Name implements router.Module.
func (*Module) Name() string { return "vcard" }

// DiscoFeatures implements router.FeatureProvider (§4).
func (*Module) DiscoFeatures() (server, account []string) {
	return []string{NS}, []string{NS}
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
	b, err := m.store.Document(ctx, iq.To.String(), Kind, "")
	switch {
	case errors.Is(err, storage.ErrNotFound) && own:
		return stanza.Result(iq.Stanza).Append(xml.New(NS, "vCard")), nil
	case errors.Is(err, storage.ErrNotFound):
		return nil, stanza.E(stanza.ServiceUnavailable, "")
	case err != nil:
		return nil, err
	}
	// The vCard met the stream's depth and attribute limits when it was
	// set: no limits to apply again.
	els, err := xml.ParseElements(b, xml.Limits{})
	if err != nil {
		return nil, fmt.Errorf("vcard: stored vCard of %s: %w", iq.To, err)
	}
	if len(els) != 1 || !els[0].Is(NS, "vCard") {
		return nil, fmt.Errorf("vcard: stored vCard of %s holds %d elements", iq.To, len(els))
	}
	return stanza.Result(iq.Stanza).Append(els[0]), nil
}

func (m *Module) set(ctx context.Context, iq *router.IQ) (*xml.Element, error) {
	if iq.To != iq.From.Bare() {
		return nil, stanza.E(stanza.Forbidden, "")
	}
	b := iq.Payload.Bytes("")
	if len(b) > m.cfg.MaxBytes {
		return nil, stanza.E(stanza.PolicyViolation, "vCard larger than "+strconv.Itoa(m.cfg.MaxBytes)+" bytes")
	}
	if err := m.store.PutDocuments(ctx, iq.To.String(), Kind, []storage.Document{{XML: b}}, 0); err != nil {
		return nil, err
	}
	return stanza.Result(iq.Stanza), nil
}
