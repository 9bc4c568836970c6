package private

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"

	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/router"
	"github.com/skald-xmpp/skald/stanza"
	"github.com/skald-xmpp/skald/storage"
)

// NS is the jabber:iq:private namespace.
const NS = "jabber:iq:private"

// Kind is the storage.Documents kind of private XML; keys are namespaces.
const Kind = "private"

// reserved namespaces are refused as storage keys: see doc.go.
var reserved = []string{stanza.NSClient, "jabber:server", NS}

// Config configures the module.
type Config struct {
	// MaxBytesPerNamespace bounds one namespace's stored serialisation.
	MaxBytesPerNamespace int `toml:"max_bytes_per_namespace"`
	// MaxTotalBytes bounds all of one account's private XML.
	MaxTotalBytes int `toml:"max_total_bytes"`
}

// DefaultConfig allows 64 KiB per namespace (a few hundred bookmarks) and
// 1 MiB per account.
func DefaultConfig() Config {
	return Config{MaxBytesPerNamespace: 64 << 10, MaxTotalBytes: 1 << 20}
}

// Validate reports a configuration that cannot work.
func (c Config) Validate() error {
	if c.MaxBytesPerNamespace < 1 {
		return errors.New("private: max_bytes_per_namespace must be at least 1")
	}
	if c.MaxTotalBytes < c.MaxBytesPerNamespace {
		return errors.New("private: max_total_bytes must be at least max_bytes_per_namespace")
	}
	return nil
}

// Module answers jabber:iq:private requests.
type Module struct {
	cfg   Config
	store storage.Documents
}

// New returns the module storing into store.
func New(cfg Config, store storage.Documents) *Module {
	return &Module{cfg: cfg, store: store}
}

// Name implements router.Module.
func (*Module) Name() string { return "private" }

// DiscoFeatures implements router.FeatureProvider.
func (*Module) DiscoFeatures() (server, account []string) {
	return []string{NS}, nil
}

// RegisterIQ implements router.IQRegistrar. Addresses without an account
// are served too, so that they get the same forbidden as other accounts.
func (m *Module) RegisterIQ(r *router.Router) {
	to := router.ToAccount | router.ToNoAccount
	r.HandleIQ(stanza.TypeGet, NS, "query", to, router.IQHandlerFunc(m.get))
	r.HandleIQ(stanza.TypeSet, NS, "query", to, router.IQHandlerFunc(m.set))
}

// children checks the request (the own account's, at least one child, no
// reserved namespace) and returns the children of <query/>.
func children(iq *router.IQ) ([]*xml.Element, error) {
	if iq.To != iq.From.Bare() {
		return nil, stanza.E(stanza.Forbidden, "")
	}
	els := iq.Payload.Elements()
	if len(els) == 0 {
		return nil, stanza.E(stanza.NotAcceptable, "no element to store or retrieve")
	}
	for _, el := range els {
		if slices.Contains(reserved, el.Space) {
			return nil, stanza.E(stanza.NotAcceptable, "reserved namespace")
		}
	}
	return els, nil
}

func (m *Module) get(ctx context.Context, iq *router.IQ) (*xml.Element, error) {
	els, err := children(iq)
	if err != nil {
		return nil, err
	}
	space := els[0].Space
	for _, el := range els[1:] {
		if el.Space != space {
			return nil, stanza.E(stanza.BadRequest, "one namespace per get")
		}
	}
	query := xml.New(NS, "query")
	b, err := m.store.Document(ctx, iq.To.String(), Kind, space)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		for _, el := range els {
			query.Append(el)
		}
		return stanza.Result(iq.Stanza).Append(query), nil
	case err != nil:
		return nil, err
	}
	// The elements met the stream's depth and attribute limits when they
	// were set: no limits to apply again.
	stored, err := xml.ParseElements(b, xml.Limits{})
	if err != nil {
		return nil, fmt.Errorf("private: stored %s of %s: %w", space, iq.To, err)
	}
	for _, el := range stored {
		if el.Space != space {
			return nil, fmt.Errorf("private: stored %s of %s holds {%s}%s", space, iq.To, el.Space, el.Local)
		}
		query.Append(el)
	}
	return stanza.Result(iq.Stanza).Append(query), nil
}

func (m *Module) set(ctx context.Context, iq *router.IQ) (*xml.Element, error) {
	els, err := children(iq)
	if err != nil {
		return nil, err
	}
	// One document per namespace, in the order the namespaces first
	// appear; each element declares its namespace (Bytes("")), so the
	// document reads back on its own.
	var docs []storage.Document
	for _, el := range els {
		i := slices.IndexFunc(docs, func(d storage.Document) bool { return d.Key == el.Space })
		if i < 0 {
			docs = append(docs, storage.Document{Key: el.Space})
			i = len(docs) - 1
		}
		docs[i].XML = append(docs[i].XML, el.Bytes("")...)
	}
	for _, d := range docs {
		if len(d.XML) > m.cfg.MaxBytesPerNamespace {
			return nil, stanza.E(stanza.PolicyViolation, "more than "+strconv.Itoa(m.cfg.MaxBytesPerNamespace)+" bytes for one namespace")
		}
	}
	// The total is checked by the store in the transaction that writes
	// (storage.Documents), so two resources setting at once cannot both
	// pass it; the module holds no lock of its own.
	err = m.store.PutDocuments(ctx, iq.To.String(), Kind, docs, m.cfg.MaxTotalBytes)
	if errors.Is(err, storage.ErrQuotaExceeded) {
		return nil, stanza.E(stanza.PolicyViolation, "more than "+strconv.Itoa(m.cfg.MaxTotalBytes)+" bytes of private data")
	}
	if err != nil {
		return nil, err
	}
	return stanza.Result(iq.Stanza), nil
}
