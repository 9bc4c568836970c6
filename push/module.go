package push

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/skald-xmpp/skald/internal/keylock"
	"github.com/skald-xmpp/skald/internal/metrics"
	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/jid"
	"github.com/skald-xmpp/skald/router"
	"github.com/skald-xmpp/skald/stanza"
	"github.com/skald-xmpp/skald/storage"
)

// Namespaces.
const (
	NS              = "urn:xmpp:push:0"
	NSSummary       = "urn:xmpp:push:summary"
	NSPubSub        = "http://jabber.org/protocol/pubsub"
	NSPublishOption = "http://jabber.org/protocol/pubsub#publish-options"
	nsData          = "jabber:x:data"
)

// Limits on what a client may make the server keep and send for it.
const (
	// maxNodeBytes bounds a node name (XEP-0060 sets none; app servers use
	// tokens of a few dozen bytes).
	maxNodeBytes = 1024
	// maxOptionsBytes bounds a stored publish-options form (app servers
	// ask for a secret and a few settings).
	maxOptionsBytes = 4096
)

// Module implements XEP-0357 for the accounts of the server: see doc.go.
type Module struct {
	cfg   Config
	store storage.Documents
	r     *router.Router
	log   *slog.Logger

	// locks serialises changes to one account's registrations (enable,
	// disable, disabling after errors) and their first load.
	locks keylock.Locks

	mu    sync.Mutex                 // leaf: guards the maps below
	cache map[string][]*registration // account -> registrations (nil: none)
	// groupchatModes holds the accounts' own groupchat choices, once
	// read ("": the server's; settings.go)
	groupchatModes map[string]string
	errs           map[key]int    // errors in a row, per registration
	bursts         map[key]*burst // coalescing windows, see notify.go
	// waiting holds the registrations with a publish waiting for an
	// answer: at most one each (publish).
	waiting map[key]bool
	closed  bool           // Shutdown has begun
	wg      sync.WaitGroup // registrations being disabled after errors

	rooms roomNicks // nicks of local sessions in remote rooms (groupchat.go)

	inFlight atomic.Int64 // publishes waiting for an answer
	counters counters
}

type counters struct {
	enabled, disabled, sent, answered, failed, timedOut,
	unreachable, dropped, coalesced, autoDisabled metrics.Counter
}

// New returns the module; r sends the publishes (QueryRemote).
func New(cfg Config, store storage.Documents, r *router.Router, log *slog.Logger) *Module {
	if log == nil {
		log = slog.Default()
	}
	return &Module{
		cfg: cfg, store: store, r: r, log: log,
		cache:          make(map[string][]*registration),
		groupchatModes: make(map[string]string),
		errs:           make(map[key]int),
		bursts:         make(map[key]*burst),
		waiting:        make(map[key]bool),
	}
}

// Name implements router.Module.
func (*Module) Name() string { return "push" }

// DiscoFeatures implements router.FeatureProvider: urn:xmpp:push:0 on the
// account's bare JID (§4.1).
func (*Module) DiscoFeatures() (server, account []string) {
	return nil, []string{NS}
}

// RegisterIQ implements router.IQRegistrar.
func (m *Module) RegisterIQ(r *router.Router) {
	r.HandleIQ(stanza.TypeSet, NS, "enable", router.ToAccount, router.IQHandlerFunc(m.enable))
	r.HandleIQ(stanza.TypeSet, NS, "disable", router.ToAccount, router.IQHandlerFunc(m.disable))
}

// enable handles <enable jid='…' node='…'>[form]</enable> (§5).
func (m *Module) enable(ctx context.Context, iq *router.IQ) (*xml.Element, error) {
	if iq.To != iq.From.Bare() || iq.Session == nil {
		return nil, stanza.E(stanza.Forbidden, "")
	}
	service, err := m.serviceJID(iq.Payload)
	if err != nil {
		return nil, err
	}
	node := iq.Payload.Attr("node")
	switch {
	case node == "":
		// §5 and the schema: the node names what the app server provisioned;
		// a publish (XEP-0060 §7.1) needs one.
		return nil, stanza.E(stanza.BadRequest, "missing node")
	case len(node) > maxNodeBytes:
		return nil, stanza.E(stanza.PolicyViolation, "node too long")
	}
	options, err := publishOptions(iq.Payload)
	if err != nil {
		return nil, err
	}
	account := iq.To.String()
	reg := &registration{JID: service, Node: node, Resource: iq.From.Resource(), Options: options}
	unlock := m.locks.Lock(account)
	defer unlock()
	regs, err := m.loadLocked(ctx, account)
	if err != nil {
		return nil, err
	}
	// The same (jid, node) again replaces the old one, options and all
	// (§5: the last request's options); it becomes the newest.
	next := make([]*registration, 0, len(regs)+1)
	for _, r := range regs {
		if r.JID != service || r.Node != node {
			next = append(next, r)
		}
	}
	next = append(next, reg)
	for len(next) > m.cfg.MaxRegistrations {
		m.forgetErrors(next[0].key(account))
		next = next[1:]
	}
	if err := m.saveLocked(ctx, account, next); err != nil {
		return nil, err
	}
	m.forgetErrors(reg.key(account))
	m.counters.enabled.Inc()
	m.log.Debug("push enabled", "account", account, "service", service.String(), "resource", reg.Resource)
	return stanza.Result(iq.Stanza), nil
}

// disable handles <disable jid='…' [node='…']/> (§6): without a node every
// node of the JID goes. Disabling what is not enabled succeeds.
func (m *Module) disable(ctx context.Context, iq *router.IQ) (*xml.Element, error) {
	if iq.To != iq.From.Bare() || iq.Session == nil {
		return nil, stanza.E(stanza.Forbidden, "")
	}
	service, err := m.serviceJID(iq.Payload)
	if err != nil {
		return nil, err
	}
	n, err := m.remove(ctx, iq.To.String(), service, iq.Payload.Attr("node"))
	if err != nil {
		return nil, err
	}
	m.counters.disabled.Add(uint64(n))
	return stanza.Result(iq.Stanza), nil
}

// serviceJID reads the mandatory 'jid' attribute (§5, §6).
func (m *Module) serviceJID(el *xml.Element) (jid.JID, error) {
	raw := el.Attr("jid")
	if raw == "" {
		return jid.JID{}, stanza.E(stanza.BadRequest, "missing jid")
	}
	j, err := jid.Parse(raw)
	if err != nil {
		return jid.JID{}, stanza.E(stanza.JIDMalformed, "")
	}
	if el.Local == "enable" && (!m.r.IsRemote(j) || m.r.IsServiceDomain(j.Domain())) {
		// App servers are run by the clients' developers, elsewhere;
		// publishing to an entity of this server is not supported.
		return jid.JID{}, stanza.E(stanza.NotAcceptable, "the push service must be on another server")
	}
	return j, nil
}

// publishOptions returns the enable request's publish-options form, nil
// if it has none (§5: a form whose FORM_TYPE is pubsub#publish-options).
func publishOptions(enable *xml.Element) (*xml.Element, error) {
	forms := enable.ChildrenNamed(nsData, "x")
	switch {
	case len(forms) == 0:
		return nil, nil
	case len(forms) > 1:
		return nil, stanza.E(stanza.BadRequest, "more than one form")
	case formType(forms[0]) != NSPublishOption:
		return nil, stanza.E(stanza.BadRequest, "the form's FORM_TYPE must be "+NSPublishOption)
	case len(forms[0].Bytes("")) > maxOptionsBytes:
		return nil, stanza.E(stanza.PolicyViolation, "publish options too large")
	}
	return forms[0].Clone(), nil
}

// formType is a data form's FORM_TYPE value (XEP-0068).
func formType(x *xml.Element) string {
	for _, f := range x.ChildrenNamed(nsData, "field") {
		if f.Attr("var") == "FORM_TYPE" {
			return f.ChildText(nsData, "value")
		}
	}
	return ""
}

func (m *Module) forgetErrors(k key) {
	m.mu.Lock()
	delete(m.errs, k)
	m.mu.Unlock()
}

var (
	_ metrics.Source          = (*Module)(nil)
	_ router.DetachObserver   = (*Module)(nil)
	_ router.DeliveryObserver = (*Module)(nil)

	_ router.GroupchatObserver      = (*Module)(nil)
	_ router.RemotePresenceObserver = (*Module)(nil)
	_ router.SessionObserver        = (*Module)(nil)
)

// RegisterMetrics implements metrics.Source.
func (m *Module) RegisterMetrics(r *metrics.Registry) {
	c := &m.counters
	r.Counter("skald_push_enabled_total", "XEP-0357 registrations enabled (or enabled again) by clients.", &c.enabled)
	r.Counter("skald_push_disabled_total", "XEP-0357 registrations disabled by clients.", &c.disabled)
	r.Counter("skald_push_auto_disabled_total", "XEP-0357 registrations disabled after app server errors.", &c.autoDisabled)
	r.Counter("skald_push_sent_total", "Push notifications published to app servers.", &c.sent)
	r.Counter("skald_push_answered_total", "Push notifications the app server accepted.", &c.answered)
	r.Counter("skald_push_failed_total", "Push notifications answered with an error or bounced.", &c.failed)
	r.Counter("skald_push_timeouts_total", "Push notifications the app server did not answer in time.", &c.timedOut)
	r.Counter("skald_push_unreachable_total", "Push notifications that could not be sent: no federation, or the app server's domain refused at once.", &c.unreachable)
	r.Counter("skald_push_dropped_total", "Push notifications dropped: max_in_flight publishes were waiting, or one to the same registration was.", &c.dropped)
	r.Counter("skald_push_coalesced_total", "Messages folded into a later push by coalesce_interval.", &c.coalesced)
	r.GaugeFunc("skald_push_in_flight", "Push notifications waiting for the app server's answer.", func() float64 { return float64(m.inFlight.Load()) })
}
