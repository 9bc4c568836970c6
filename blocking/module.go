package blocking

import (
	"context"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/jid"
	"github.com/skald-xmpp/skald/router"
	"github.com/skald-xmpp/skald/stanza"
	"github.com/skald-xmpp/skald/storage"
)

// Namespaces (XEP-0191 §9.1).
const (
	NS       = "urn:xmpp:blocking"
	NSErrors = "urn:xmpp:blocking:errors"
)

// MaxItems bounds a blocklist, so that one account cannot grow its cached
// list (and the store) without limit; a block beyond it is refused with
// policy-violation and changes nothing.
const MaxItems = 1000

// Module implements Blocking Command.
type Module struct {
	store storage.Blocking
	r     *router.Router
	log   *slog.Logger
	pres  PresenceNotifier // nil: no presence is sent on changes

	pushSeq atomic.Uint64

	// lists maps an owner's bare JID to its *list. A sync.Map: every
	// routed message reads it, and entries are added once per account.
	lists sync.Map
}

// list is one account's cached blocklist. mu is held while it is loaded
// and while the stored list changes, so the cache never lags the store.
// change serialises whole block and unblock commands (store, presence,
// pushes), so that two resources changing the list at once push their
// changes, and send the presence they call for, in the order the store
// took them. Lock order: change, then mu; readers take only mu.
type list struct {
	change sync.Mutex
	mu     sync.RWMutex
	loaded bool
	jids   map[string]bool // nil when empty
}

// PresenceNotifier sends the presence a change of a blocklist calls for
// (XEP-0191 §3.3: unavailable to newly blocked contacts; §3.4: the
// current presence to unblocked ones). The presence module implements it;
// an interface so that blocking does not import presence. match accepts
// the JIDs (full JIDs of the contacts' resources, or directed-presence
// addressees) the change is about.
type PresenceNotifier interface {
	Blocked(ctx context.Context, user jid.JID, match func(jid.JID) bool)
	Unblocked(ctx context.Context, user jid.JID, match func(jid.JID) bool)
}

// SetPresence installs the presence notifier. It must be called before
// serving.
func (m *Module) SetPresence(p PresenceNotifier) { m.pres = p }

// requestedKey marks a session that has requested the blocklist.
type requestedKey struct{}

// New returns the blocking module.
func New(store storage.Blocking, r *router.Router, log *slog.Logger) *Module {
	if log == nil {
		log = slog.Default()
	}
	return &Module{store: store, r: r, log: log}
}

// Name implements router.Module.
func (*Module) Name() string { return "blocking" }

// DiscoFeatures implements router.FeatureProvider.
func (*Module) DiscoFeatures() (server, account []string) {
	return []string{NS}, []string{NS}
}

// RegisterIQ implements router.IQRegistrar.
func (m *Module) RegisterIQ(r *router.Router) {
	r.HandleIQ(stanza.TypeGet, NS, "blocklist", router.ToAccount, router.IQHandlerFunc(m.get))
	r.HandleIQ(stanza.TypeSet, NS, "block", router.ToAccount, router.IQHandlerFunc(m.block))
	r.HandleIQ(stanza.TypeSet, NS, "unblock", router.ToAccount, router.IQHandlerFunc(m.unblock))
}

func own(iq *router.IQ) error {
	if iq.To != iq.From.Bare() {
		return stanza.E(stanza.Forbidden, "")
	}
	return nil
}

// get answers a blocklist request (§3.2).
func (m *Module) get(ctx context.Context, iq *router.IQ) (*xml.Element, error) {
	if err := own(iq); err != nil {
		return nil, err
	}
	// Marked first: a change made while the list is read is then pushed.
	if iq.Session != nil {
		iq.Session.SetValue(requestedKey{}, true)
	}
	owner := iq.To.String()
	l, err := m.loaded(ctx, owner)
	if err != nil {
		return nil, err
	}
	l.mu.RLock()
	jids := make([]string, 0, len(l.jids))
	for j := range l.jids {
		jids = append(jids, j)
	}
	l.mu.RUnlock()
	slices.Sort(jids)
	return stanza.Result(iq.Stanza).Append(itemsElement("blocklist", jids)), nil
}

// items parses the <item/> children of a block or unblock command.
func items(p *xml.Element) ([]string, error) {
	var out []string
	for _, it := range p.ChildrenNamed(NS, "item") {
		j, err := jid.Parse(it.Attr("jid"))
		if err != nil {
			return nil, stanza.E(stanza.JIDMalformed, "")
		}
		if s := j.String(); !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out, nil
}

// command checks a block or unblock command (the account's own, well
// formed) and returns the account, the command's JIDs and the account's
// loaded list.
func (m *Module) command(ctx context.Context, iq *router.IQ) (owner string, jids []string, l *list, err error) {
	if err := own(iq); err != nil {
		return "", nil, nil, err
	}
	if jids, err = items(iq.Payload); err != nil {
		return "", nil, nil, err
	}
	owner = iq.To.String()
	if l, err = m.loaded(ctx, owner); err != nil {
		return "", nil, nil, err
	}
	return owner, jids, l, nil
}

// toSet returns jids as a set for matches.
func toSet(jids []string) map[string]bool {
	set := make(map[string]bool, len(jids))
	for _, j := range jids {
		set[j] = true
	}
	return set
}

// block handles a block command (§3.3).
func (m *Module) block(ctx context.Context, iq *router.IQ) (*xml.Element, error) {
	owner, jids, l, err := m.command(ctx, iq)
	if err != nil {
		return nil, err
	}
	if len(jids) == 0 {
		return nil, stanza.E(stanza.BadRequest, "block without items")
	}
	l.change.Lock()
	defer l.change.Unlock()
	l.mu.Lock()
	n := len(l.jids)
	for _, j := range jids {
		if !l.jids[j] {
			n++
		}
	}
	if n > MaxItems {
		l.mu.Unlock()
		return nil, stanza.E(stanza.PolicyViolation, "blocklist full")
	}
	added, err := m.store.Block(ctx, owner, jids)
	if err == nil {
		if l.jids == nil {
			l.jids = make(map[string]bool, len(jids))
		}
		for _, j := range jids {
			l.jids[j] = true
		}
	} else {
		l.loaded = false // the store may or may not hold them: read again
	}
	l.mu.Unlock()
	if err != nil {
		return nil, err
	}
	if m.pres != nil && len(added) > 0 {
		set := toSet(added)
		m.pres.Blocked(ctx, iq.To, func(j jid.JID) bool { return matches(set, j) })
	}
	m.push(owner, itemsElement("block", jids))
	return stanza.Result(iq.Stanza), nil
}

// unblock handles an unblock command, of some JIDs (§3.4) or of all (§3.5).
func (m *Module) unblock(ctx context.Context, iq *router.IQ) (*xml.Element, error) {
	owner, jids, l, err := m.command(ctx, iq)
	if err != nil {
		return nil, err
	}
	l.change.Lock()
	defer l.change.Unlock()
	l.mu.Lock()
	removed, err := m.store.Unblock(ctx, owner, jids)
	switch {
	case err != nil:
		l.loaded = false
	case len(jids) == 0:
		l.jids = nil
	default:
		for _, j := range jids {
			delete(l.jids, j)
		}
		if len(l.jids) == 0 {
			l.jids = nil
		}
	}
	l.mu.Unlock()
	if err != nil {
		return nil, err
	}
	if m.pres != nil && len(removed) > 0 {
		set := toSet(removed)
		m.pres.Unblocked(ctx, iq.To, func(j jid.JID) bool {
			if !matches(set, j) {
				return false
			}
			still, err := m.Blocks(ctx, owner, j) // another item may cover it
			return err == nil && !still
		})
	}
	m.push(owner, itemsElement("unblock", jids))
	return stanza.Result(iq.Stanza), nil
}

func itemsElement(local string, jids []string) *xml.Element {
	el := xml.New(NS, local)
	for _, j := range jids {
		el.Append(xml.New(NS, "item", "jid", j))
	}
	return el
}

// push sends payload in an iq set to every resource of owner that has
// requested the blocklist (§3.3-3.5).
func (m *Module) push(owner string, payload *xml.Element) {
	for _, s := range m.r.Sessions(owner) {
		if s.Value(requestedKey{}) != true {
			continue
		}
		iq := xml.New(stanza.NSClient, "iq",
			"type", stanza.TypeSet,
			"id", "block-push"+strconv.FormatUint(m.pushSeq.Add(1), 10),
			"to", s.JID().String())
		iq.Append(payload.Clone())
		// A full queue is the transport's to handle; the list is stored.
		if err := s.Send(iq); err != nil {
			m.log.Debug("blocklist push not queued", "to", s.JID().String(), "err", err)
		}
	}
}

// entry returns owner's cache entry, loaded or not.
func (m *Module) entry(owner string) *list {
	if l, ok := m.lists.Load(owner); ok {
		return l.(*list)
	}
	l, _ := m.lists.LoadOrStore(owner, &list{})
	return l.(*list)
}

// loaded returns owner's cache entry, loaded from storage if it was not.
func (m *Module) loaded(ctx context.Context, owner string) (*list, error) {
	l := m.entry(owner)
	l.mu.RLock()
	ok := l.loaded
	l.mu.RUnlock()
	if ok {
		return l, nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.loaded {
		return l, nil
	}
	jids, err := m.store.Blocklist(ctx, owner)
	if err != nil {
		return nil, err
	}
	l.jids = nil
	if len(jids) > 0 {
		l.jids = make(map[string]bool, len(jids))
		for _, j := range jids {
			l.jids[j] = true
		}
	}
	l.loaded = true
	return l, nil
}

// Blocks reports whether owner (a local bare JID) blocks peer (§6).
func (m *Module) Blocks(ctx context.Context, owner string, peer jid.JID) (bool, error) {
	l, err := m.loaded(ctx, owner)
	if err != nil {
		return false, err
	}
	l.mu.RLock()
	defer l.mu.RUnlock()
	return matches(l.jids, peer), nil
}

// matches applies §6's order: full JID, bare JID, domain/resource, domain
// (and the domains the peer's domain is a subdomain of).
func matches(set map[string]bool, peer jid.JID) bool {
	if len(set) == 0 || peer.IsZero() {
		return false
	}
	if set[peer.String()] {
		return true
	}
	if peer.IsFull() {
		if set[peer.Bare().String()] {
			return true
		}
		if peer.Local() != "" && set[peer.Domain()+"/"+peer.Resource()] {
			return true
		}
	}
	for d := peer.Domain(); ; {
		if set[d] {
			return true
		}
		i := strings.IndexByte(d, '.')
		if i < 0 {
			return false
		}
		d = d[i+1:]
	}
}
