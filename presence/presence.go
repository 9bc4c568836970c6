package presence

import (
	"context"
	"log/slog"
	"strconv"
	"strings"

	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/jid"
	"github.com/skald-xmpp/skald/roster"
	"github.com/skald-xmpp/skald/router"
	"github.com/skald-xmpp/skald/stanza"
	"github.com/skald-xmpp/skald/storage"
)

// NSPreApproval is the stream feature announcing subscription
// pre-approval (RFC 6121 §3.4.1).
const NSPreApproval = "urn:xmpp:features:pre-approval"

// Presence types (RFC 6121 §4.7.1); "" is available.
const (
	typeAvailable    = ""
	typeUnavailable  = "unavailable"
	typeSubscribe    = "subscribe"
	typeSubscribed   = "subscribed"
	typeUnsubscribe  = "unsubscribe"
	typeUnsubscribed = "unsubscribed"
	typeProbe        = "probe"
	typeError        = "error"
)

// Module handles presence from local clients.
type Module struct {
	r       *router.Router
	rost    *roster.Module
	log     *slog.Logger
	blocker Blocker // nil: nothing is blocked (see SetBlocker)
	// requests keeps pending subscription requests (requests.go); nil:
	// they are delivered later without their content.
	requests storage.Documents
}

// New returns the presence module and installs it as rost's remove
// handler, so that removing a roster item cancels its subscriptions.
func New(r *router.Router, rost *roster.Module) *Module {
	m := &Module{r: r, rost: rost, log: slog.Default()}
	rost.SetRemoveHandler(m)
	return m
}

// Name implements router.Module.
func (m *Module) Name() string { return "presence" }

// HandlePresence implements router.PresenceHandler. p has 'from' stamped
// with the session's full JID; to is its parsed 'to' (zero if none).
func (m *Module) HandlePresence(ctx context.Context, s *router.Session, p *xml.Element, to jid.JID) error {
	if !to.IsZero() && m.blocks(ctx, s.JID(), to) {
		return blockedError() // XEP-0191 §3.3; never for type error (router)
	}
	switch typ := p.Attr("type"); typ {
	case typeAvailable, typeUnavailable:
		prio := 0
		if typ == typeAvailable {
			var err error
			if prio, err = checkAvailable(p); err != nil {
				return err
			}
		}
		if to.IsZero() {
			return m.broadcast(ctx, s, p, prio)
		}
		return m.directed(ctx, s, p, to)
	case typeSubscribe, typeSubscribed, typeUnsubscribe, typeUnsubscribed:
		if to.IsZero() {
			return stanza.E(stanza.BadRequest, "subscription stanza without 'to'")
		}
		return m.outbound(ctx, s.JID().Bare(), to.Bare(), typ, p)
	case typeProbe:
		if to.IsZero() {
			return stanza.E(stanza.BadRequest, "probe without 'to'")
		}
		return m.clientProbe(ctx, s, to.Bare())
	case typeError:
		if to.IsFull() {
			m.sendTo(ctx, s.JID(), to, p)
		}
		return nil
	default:
		return stanza.E(stanza.BadRequest, "unknown presence type")
	}
}

// SessionBound implements router.SessionObserver.
func (m *Module) SessionBound(context.Context, *router.Session) {}

// SessionEnded implements router.SessionObserver: a session that goes
// away without unavailable presence is made unavailable (RFC 6121 §4.5.3.1).
func (m *Module) SessionEnded(ctx context.Context, s *router.Session) {
	var covered map[jid.JID]bool
	if s.SetPresence(nil, 0) {
		un := xml.New(stanza.NSClient, "presence", "type", typeUnavailable, "from", s.JID().String())
		items, err := m.rost.Items(ctx, s.Bare())
		if err != nil {
			m.log.Error("presence: roster unavailable at session end", "jid", s.JID().String(), "err", err)
		}
		covered = m.toSubscribers(ctx, s.JID(), items, un)
		m.toOwnResources(s.JID().Bare(), un)
	}
	m.endDirected(ctx, s, covered)
}

// checkAvailable validates an available presence and returns its priority
// (RFC 6121 §4.7.2).
func checkAvailable(p *xml.Element) (int, error) {
	prio := 0
	if el := p.Child(p.Space, "priority"); el != nil {
		n, err := strconv.Atoi(strings.TrimSpace(el.Text()))
		if err != nil || n < -128 || n > 127 {
			return 0, stanza.E(stanza.BadRequest, "priority must be an integer from -128 to 127")
		}
		prio = n
	}
	if el := p.Child(p.Space, "show"); el != nil {
		switch el.Text() {
		case "away", "chat", "dnd", "xa":
		default:
			return 0, stanza.E(stanza.BadRequest, "unknown show value")
		}
	}
	return prio, nil
}

// send queues st for one session; a full queue is the transport's to
// handle (it cuts the client off), so the failure is only logged.
func (m *Module) send(s *router.Session, st *xml.Element) {
	if err := s.Send(st); err != nil {
		m.log.Debug("presence not queued", "to", s.JID().String(), "err", err)
	}
}

// addressed returns a copy of st with 'to' set.
func addressed(st *xml.Element, to jid.JID) *xml.Element {
	c := st.Clone()
	c.SetAttr("to", to.String())
	return c
}

func hasTo(it storage.RosterItem) bool {
	return it.Subscription == storage.SubTo || it.Subscription == storage.SubBoth
}

func hasFrom(it storage.RosterItem) bool {
	return it.Subscription == storage.SubFrom || it.Subscription == storage.SubBoth
}

// setSub sets the two directions of an item's subscription.
func setSub(it *storage.RosterItem, to, from bool) {
	switch {
	case to && from:
		it.Subscription = storage.SubBoth
	case to:
		it.Subscription = storage.SubTo
	case from:
		it.Subscription = storage.SubFrom
	default:
		it.Subscription = storage.SubNone
	}
}
