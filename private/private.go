package private

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"

	"github.com/skald-xmpp/skald/internal/keylock"
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
	// BookmarksCompat keeps XEP-0048 bookmarks (storage:bookmarks) and
	// the PEP node of XEP-0402 in step (XEP-0402 §5, bookmarks.go).
	BookmarksCompat bool `toml:"bookmarks_compat"`
}

// DefaultConfig allows 64 KiB per namespace (a few hundred bookmarks) and
// 1 MiB per account.
func DefaultConfig() Config {
	return Config{MaxBytesPerNamespace: 64 << 10, MaxTotalBytes: 1 << 20, BookmarksCompat: true}
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
	// pep, if set (SetPEP), is the account's PEP service that XEP-0048
	// bookmarks are kept in step with; log reports what fails there
	// outside a request.
	pep PEP
	log *slog.Logger
	// locks makes one account's bookmark changes one step each: the
	// comparison with the node, the publishes and retractions, and the
	// store.
	locks keylock.Locks
}

// New returns the module storing into store.
func New(cfg Config, store storage.Documents) *Module {
	return &Module{cfg: cfg, store: store}
}

// Name implements router.Module.
func (*Module) Name() string { return "private" }

// DiscoFeatures implements router.FeatureProvider.
func (m *Module) DiscoFeatures() (server, account []string) {
	if m.pep != nil {
		account = []string{FeatureCompat, FeatureCompatPEP} // XEP-0402 §5, §6
	}
	return []string{NS}, account
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
	converted := m.pep != nil && space == NSBookmarks
	if converted {
		// The stored list and the node read as one (a set changes both).
		unlock := m.locks.Lock(iq.To.String())
		defer unlock()
	}
	stored, err := m.stored(ctx, iq.To.String(), space)
	if err != nil {
		return nil, err
	}
	if converted {
		if stored, err = m.legacyBookmarks(ctx, iq.To, stored); err != nil {
			return nil, err
		}
	}
	if len(stored) == 0 {
		stored = els // nothing stored: the request's child as it came
	}
	query := xml.New(NS, "query")
	for _, el := range stored {
		query.Append(el)
	}
	return stanza.Result(iq.Stanza).Append(query), nil
}

// stored returns the account's stored elements of namespace space, none
// if there are none.
func (m *Module) stored(ctx context.Context, account, space string) ([]*xml.Element, error) {
	b, err := m.store.Document(ctx, account, Kind, space)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return nil, nil
	case err != nil:
		return nil, err
	}
	// The elements met the stream's depth and attribute limits when they
	// were set: no limits to apply again.
	stored, err := xml.ParseElements(b, xml.Limits{})
	if err != nil {
		return nil, fmt.Errorf("private: stored %s of %s: %w", space, account, err)
	}
	for _, el := range stored {
		if el.Space != space {
			return nil, fmt.Errorf("private: stored %s of %s holds {%s}%s", space, account, el.Space, el.Local)
		}
	}
	return stored, nil
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
	if bookmarks := storageOf(els); m.pep != nil && bookmarks != nil {
		// The node first: a node configured against XEP-0402 refuses the
		// first publish (precondition-not-met) before anything changed.
		unlock := m.locks.Lock(iq.To.String())
		defer unlock()
		if err := m.syncToPEP(ctx, iq.To, bookmarks); err != nil {
			return nil, err
		}
	}
	// The total is checked by the store in the transaction that writes
	// (storage.Documents), so two resources setting at once cannot both
	// pass it.
	err = m.store.PutDocuments(ctx, iq.To.String(), Kind, docs, m.cfg.MaxTotalBytes)
	if errors.Is(err, storage.ErrQuotaExceeded) {
		return nil, stanza.E(stanza.PolicyViolation, "more than "+strconv.Itoa(m.cfg.MaxTotalBytes)+" bytes of private data")
	}
	if err != nil {
		return nil, err
	}
	if bookmarks := storageOf(els); m.pep != nil && bookmarks != nil {
		// XEP-0048's PEP node follows (the lock is held since the sync).
		if err := m.mirrorToLegacyPEP(ctx, iq.To); err != nil {
			m.log.Warn("private: bookmarks not mirrored to the storage:bookmarks PEP node", "account", iq.To.String(), "err", err)
		}
	}
	return stanza.Result(iq.Stanza), nil
}
