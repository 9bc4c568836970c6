package muc

import (
	"context"
	"crypto/rand"
	"encoding/base64"

	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/jid"
	"github.com/skald-xmpp/skald/router"
	"github.com/skald-xmpp/skald/stanza"
)

// maxPendingIQs bounds the iqs a room has passed between occupants and
// waits to pass the answers of; past it the oldest is forgotten (its
// asker gets no answer, as when the target never answers).
const maxPendingIQs = 256

// pendingIQ is an iq passed from one occupant to another: who asked,
// under which id, and which session must answer.
type pendingIQ struct {
	asker  jid.JID // full
	id     string  // the asker's id
	target jid.JID // the session it was passed to
}

// occupantIQ answers or passes on an iq to an occupant JID. The sender
// must be an occupant (XEP-0410 §3: not-acceptable otherwise). A ping to
// one's own occupant JID is answered here (XEP-0410 self-ping). A vCard
// request is answered from the account behind the nick, as its server
// would answer it (clients do not serve their own vCards), but only to an
// asker who may see that account's real JID anyway (§7.2.4, §7.2.5: a
// non-anonymous room, or a moderator): in a semi-anonymous room the card,
// and even whether one exists, would tell the asker who is behind the
// nick, so there it is passed to the occupant's client like any other iq
// (§6.7: the service passes iqs to occupants under occupant JIDs, real
// JIDs hidden). Any other iq goes to the target's latest session with the
// sender's occupant JID and an id of the room's, and its answer comes
// back the same way. A nil reply with a nil error means passed on.
func (m *Module) occupantIQ(ctx context.Context, iq *router.IQ) (*xml.Element, error) {
	rm := m.lockRoom(iq.To.Bare())
	if rm == nil {
		return nil, stanza.E(stanza.NotAcceptable, "not in this room") // XEP-0410 §3
	}
	locked := true
	defer func() {
		if locked {
			rm.mu.Unlock()
		}
	}()
	sender := rm.bySession[iq.From]
	if sender == nil && (iq.Payload.Is(nsDiscoInfo, "query") || iq.Payload.Is(nsDiscoItems, "query")) {
		return nil, stanza.E(stanza.BadRequest, "not in this room") // §6.6
	}
	if sender == nil {
		return nil, stanza.E(stanza.NotAcceptable, "not in this room") // XEP-0410 §3
	}
	target := rm.occupants[iq.To.Resource()]
	switch {
	case iq.Type() == stanza.TypeGet && iq.Payload.Is(nsPing, "ping") && target == sender:
		return stanza.Result(iq.Stanza), nil
	case target == nil:
		return nil, stanza.E(stanza.ItemNotFound, "no such occupant")
	case iq.Type() == stanza.TypeGet && iq.Payload.Is(nsVCard, "vCard") && rm.seesRealJID(sender) && !m.r.IsRemote(target.bare):
		// A remote occupant's vCard is its server's to answer: the
		// request goes to its client below, like any other iq.
		// Asked of the account, with the room unlocked: the store is read.
		bare := target.bare
		rm.mu.Unlock()
		locked = false
		reply, err := m.r.AnswerIQ(ctx, iq.Stanza.Clone(), iq.From, bare)
		if err != nil {
			return nil, err
		}
		return reply, nil
	}
	fwd := iq.Stanza.Clone()
	id := newForwardID()
	to := target.order[len(target.order)-1]
	fwd.SetAttr("id", id)
	fwd.SetAttr("from", rm.occupantJID(sender.nick).String())
	if rm.pending == nil {
		rm.pending = make(map[string]pendingIQ)
	}
	if len(rm.pending) >= maxPendingIQs {
		rm.pending, rm.pendingOrder = forgetOldest(rm.pending, rm.pendingOrder)
	}
	rm.pending[id] = pendingIQ{asker: iq.From, id: iq.Stanza.Attr("id"), target: to}
	rm.pendingOrder = append(rm.pendingOrder, id)
	if len(rm.pendingOrder) > 2*maxPendingIQs {
		// Answered ids linger in the order until here: keep it bounded.
		live := rm.pendingOrder[:0]
		for _, pid := range rm.pendingOrder {
			if _, ok := rm.pending[pid]; ok {
				live = append(live, pid)
			}
		}
		rm.pendingOrder = live
	}
	m.send(to, fwd)
	return nil, nil
}

// forwardResponse passes an occupant's answer to an iq the room passed
// it back to the asker, from the answerer's occupant JID. Answers the
// room did not ask for, or from another session, are dropped.
func (m *Module) forwardResponse(s *router.Session, st *xml.Element, to jid.JID) {
	rm := m.lockRoom(to.Bare())
	if rm == nil {
		return
	}
	defer rm.mu.Unlock()
	p, ok := rm.pending[st.Attr("id")]
	answerer := rm.bySession[s.JID()]
	if !ok || p.target != s.JID() || answerer == nil {
		return
	}
	delete(rm.pending, st.Attr("id"))
	out := st.Clone()
	out.SetAttr("id", p.id)
	out.SetAttr("from", rm.occupantJID(answerer.nick).String())
	m.send(p.asker, out)
}

func newForwardID() string {
	var b [12]byte
	rand.Read(b[:])
	return "muc-" + base64.RawURLEncoding.EncodeToString(b[:])
}

// forgetOldest drops the oldest pending iq still pending.
func forgetOldest(pending map[string]pendingIQ, order []string) (map[string]pendingIQ, []string) {
	for len(order) > 0 {
		id := order[0]
		order = order[1:]
		if _, ok := pending[id]; ok {
			delete(pending, id)
			break
		}
	}
	return pending, order
}
