package lastactivity

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/jid"
	"github.com/skald-xmpp/skald/router"
	"github.com/skald-xmpp/skald/stanza"
	"github.com/skald-xmpp/skald/storage"
)

// NS is the Last Activity namespace.
const NS = "jabber:iq:last"

// Kind is the storage.Documents kind of an account's last logout.
const Kind = "lastactivity"

// MaxStatusBytes bounds the status text kept with a logout.
const MaxStatusBytes = 1024

// nsStored qualifies the stored document: <last at='…'>status</last>.
const nsStored = "urn:skald:lastactivity"

// Rosters says whom an account lets see its presence.
type Rosters interface {
	Item(ctx context.Context, owner, contact string) (storage.RosterItem, bool, error)
}

// Blocker is the account's blocklist (XEP-0191).
type Blocker interface {
	// Blocks reports whether owner, a local bare JID, blocks peer.
	Blocks(ctx context.Context, owner string, peer jid.JID) (bool, error)
}

// Accounts knows accounts and their sessions (router.Router).
type Accounts interface {
	Sessions(bare string) []*router.Session
	UserExists(ctx context.Context, bare string) (bool, error)
}

// Module answers jabber:iq:last on the server and its accounts.
type Module struct {
	started  time.Time
	now      func() time.Time
	store    storage.Documents
	rosters  Rosters
	sessions Accounts
	blocker  Blocker
	log      *slog.Logger
}

// New returns the module for a server that started at started, keeping
// logouts in store, reading the clock now (time.Now when nil).
func New(started time.Time, store storage.Documents, rosters Rosters, sessions Accounts, now func() time.Time, log *slog.Logger) *Module {
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.Default()
	}
	return &Module{started: started, now: now, store: store, rosters: rosters, sessions: sessions, log: log}
}

// SetBlocker installs the blocklists honoured for requesters of other
// servers. It must be called before serving.
func (m *Module) SetBlocker(b Blocker) { m.blocker = b }

// Name implements router.Module.
func (*Module) Name() string { return "lastactivity" }

// DiscoFeatures implements router.FeatureProvider: on the server and on
// accounts' bare JIDs, which it answers for (§4; disco#info of an account
// is answered by the server too, to whom may see its presence).
func (*Module) DiscoFeatures() (server, account []string) { return []string{NS}, []string{NS} }

// RegisterIQ implements router.IQRegistrar.
func (m *Module) RegisterIQ(r *router.Router) {
	r.HandleIQ(stanza.TypeGet, NS, "query", router.ToServer, router.IQHandlerFunc(m.uptime))
	r.HandleIQ(stanza.TypeGet, NS, "query", router.ToAccount, router.IQHandlerFunc(m.account))
}

func (m *Module) uptime(_ context.Context, iq *router.IQ) (*xml.Element, error) {
	return answer(iq, m.now().Sub(m.started), ""), nil
}

// answer is the result with the whole seconds of d (never negative: a
// clock set back) and text.
func answer(iq *router.IQ, d time.Duration, text string) *xml.Element {
	secs := max(int64(d/time.Second), 0)
	q := xml.New(NS, "query", "seconds", strconv.FormatInt(secs, 10))
	if text != "" {
		q.AppendText(text)
	}
	return stanza.Result(iq.Stanza).Append(q)
}

// account answers §4 for iq.To, an existing account.
func (m *Module) account(ctx context.Context, iq *router.IQ) (*xml.Element, error) {
	owner := iq.To.String()
	if iq.From.Bare() != iq.To {
		ok, err := m.maySeePresence(ctx, owner, iq.From)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, stanza.E(stanza.Forbidden, "")
		}
	}
	for _, s := range m.sessions.Sessions(owner) {
		if s.Available() {
			return answer(iq, 0, ""), nil
		}
	}
	b, err := m.store.Document(ctx, owner, Kind, "")
	if errors.Is(err, storage.ErrNotFound) {
		return nil, stanza.E(stanza.ServiceUnavailable, "")
	}
	if err != nil {
		return nil, err
	}
	at, status, err := decode(b)
	if err != nil {
		return nil, err
	}
	return answer(iq, m.now().Sub(at), status), nil
}

// maySeePresence: a 'from' or 'both' subscription (RFC 6121 §2.1.2.5)
// and no block.
func (m *Module) maySeePresence(ctx context.Context, owner string, who jid.JID) (bool, error) {
	it, ok, err := m.rosters.Item(ctx, owner, who.Bare().String())
	if err != nil || !ok || it.Subscription != storage.SubFrom && it.Subscription != storage.SubBoth {
		return false, err
	}
	if m.blocker == nil {
		return true, nil
	}
	blocked, err := m.blocker.Blocks(ctx, owner, who)
	return !blocked, err
}

type availableKey struct{}

// SessionAvailable implements router.AvailabilityObserver: the session
// became available, so its end is a logout to record.
func (m *Module) SessionAvailable(_ context.Context, s *router.Session) {
	s.SetValue(availableKey{}, true)
}

// UnavailablePresenceHandled implements router.UnavailablePresenceObserver.
func (m *Module) UnavailablePresenceHandled(ctx context.Context, s *router.Session, p *xml.Element) {
	if s.Value(availableKey{}) == nil {
		return // unavailable again: the first one was recorded
	}
	s.SetValue(availableKey{}, nil)
	m.loggedOut(ctx, s, p.ChildText(p.Space, "status"))
}

// SessionBound implements router.SessionObserver.
func (*Module) SessionBound(context.Context, *router.Session) {}

// SessionEnded implements router.SessionObserver: a session that ends
// while available is a logout without status text.
func (m *Module) SessionEnded(ctx context.Context, s *router.Session) {
	if s.Value(availableKey{}) == nil {
		return
	}
	s.SetValue(availableKey{}, nil)
	m.loggedOut(ctx, s, "")
}

// loggedOut records the logout of s if it was the account's last
// available resource.
func (m *Module) loggedOut(ctx context.Context, s *router.Session, status string) {
	for _, other := range m.sessions.Sessions(s.Bare()) {
		if other != s && other.Available() {
			return
		}
	}
	// An account deleted while online (XEP-0077 cancellation) ends its
	// sessions after its data is gone: no record must outlive it, or a
	// new account of the same name would inherit it.
	if ok, err := m.sessions.UserExists(ctx, s.Bare()); err != nil || !ok {
		if err != nil {
			m.log.Error("lastactivity: logout not recorded", "jid", s.Bare(), "err", err)
		}
		return
	}
	doc := encode(m.now(), status)
	if err := m.store.PutDocuments(ctx, s.Bare(), Kind, []storage.Document{{XML: doc}}, 0); err != nil {
		m.log.Error("lastactivity: logout not recorded", "jid", s.Bare(), "err", err)
	}
}

func encode(at time.Time, status string) []byte {
	if len(status) > MaxStatusBytes {
		cut := MaxStatusBytes
		for cut > 0 && !utf8.RuneStart(status[cut]) {
			cut--
		}
		status = status[:cut]
	}
	e := xml.New(nsStored, "last", "at", at.UTC().Format(time.RFC3339Nano))
	if status != "" {
		e.AppendText(status)
	}
	return e.Bytes("")
}

func decode(b []byte) (time.Time, string, error) {
	els, err := xml.ParseElements(b, xml.Limits{})
	if err != nil {
		return time.Time{}, "", err
	}
	if len(els) != 1 || !els[0].Is(nsStored, "last") {
		return time.Time{}, "", errors.New("lastactivity: stored document is not <last/>")
	}
	at, err := time.Parse(time.RFC3339Nano, els[0].Attr("at"))
	return at, els[0].Text(), err
}
