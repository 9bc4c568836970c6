package c2s

import (
	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/stream"
)

// XEP-0352 Client State Indication (Config.CSI). A client that is not in
// use says <inactive/>; until it says <active/>, the session spares it
// traffic that can wait:
//
//   - Presence updates (available, or unavailable) are held, one per
//     sender: a newer update from the same full JID replaces the held one.
//   - Messages that carry nothing but chat states (XEP-0085), bare or in a
//     carbon copy (XEP-0280), are dropped: by the time the user looks,
//     "composing" is stale.
//
// Everything else (a message with a body, an iq, a subscription request,
// an error) is what the client is kept online for: it goes out at once,
// after the held presence, so the order on the wire is the order of
// routing. <active/>, a full hold (maxHeld senders) and a resumed stream
// (XEP-0352: the state is not kept across XEP-0198 resumption) flush the
// held presence too. Held presence is not yet "sent" for XEP-0198: it
// enters the unacknowledged queue when flushed, so a client that resumes
// gets it then; a session that ends while holding drops it, as its
// contacts' presence is probed afresh at the next login.
//
// State and held presence are guarded by session.mu, like the rest of
// what the session sends, so holding, flushing and sending are ordered.

// maxHeld bounds the senders whose presence one inactive session holds.
const maxHeld = 256

const (
	nsChatStates = "http://jabber.org/protocol/chatstates"
	nsHints      = "urn:xmpp:hints"
	nsSID        = "urn:xmpp:sid:0"
	nsDelay      = "urn:xmpp:delay"
	nsCarbons    = "urn:xmpp:carbons:2"
	nsForward    = "urn:xmpp:forward:0"
)

// csiState is a session's XEP-0352 state. Guarded by session.mu.
type csiState struct {
	inactive bool
	held     []heldPresence // oldest first, one per sender
}

type heldPresence struct {
	from string
	b    []byte
}

// csiAction is what an inactive session does with a stanza.
type csiAction int

const (
	csiSend csiAction = iota // now, after the held presence
	csiHold                  // hold, replacing the sender's held presence
	csiDrop                  // drop
)

// csiClassify decides what an inactive session does with st.
func csiClassify(st *xml.Element) csiAction {
	switch st.Local {
	case "presence":
		if t := st.Attr("type"); t == "" || t == "unavailable" {
			return csiHold
		}
	case "message":
		if chatStatesOnly(st, true) {
			return csiDrop
		}
	}
	return csiSend
}

// chatStatesOnly reports whether message m carries at least one XEP-0085
// chat state and nothing else a user would see: no body or subject, and
// no child but chat states, hints, stanza ids, a thread or a delay.
// carbon lets a carbon copy (one <sent/> or <received/> wrapping such a
// message) count too.
func chatStatesOnly(m *xml.Element, carbon bool) bool {
	states := 0
	for _, ch := range m.Elements() {
		switch ch.Space {
		case nsChatStates:
			states++
		case nsHints, nsSID, nsDelay:
		case stream.NSClient:
			if ch.Local != "thread" {
				return false
			}
		case nsCarbons:
			if !carbon || (ch.Local != "sent" && ch.Local != "received") {
				return false
			}
			fw := ch.Child(nsForward, "forwarded")
			if fw == nil {
				return false
			}
			inner := fw.Child(stream.NSClient, "message")
			if inner == nil || !chatStatesOnly(inner, false) {
				return false
			}
			states++
		default:
			return false
		}
	}
	return states > 0
}

// hold keeps b, st's serialisation, as the latest presence of its sender;
// it reports false when the hold is full and everything must go out.
func (c *csiState) hold(st *xml.Element, b []byte) bool {
	from := st.Attr("from")
	for i, h := range c.held {
		if h.from == from {
			c.held = append(c.held[:i], c.held[i+1:]...)
			break
		}
	}
	c.held = append(c.held, heldPresence{from: from, b: b})
	return len(c.held) <= maxHeld
}

// flushHeldLocked sends the held presence, oldest first, and stops at the
// first failure: the connection is then being cut (a full queue, too many
// unacknowledged stanzas) and the rest would only fail again. Caller holds
// s.mu.
func (s *session) flushHeldLocked() {
	held := s.csi.held
	s.csi.held = nil
	for _, h := range held {
		if s.sendLocked(h.b, true) != nil {
			return
		}
	}
}

// setActive handles <active/> (true) and <inactive/> (false).
func (s *session) setActive(active bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.csi.inactive = !active
	if active {
		s.flushHeldLocked()
	}
}

// handleCSI handles a nonza in the XEP-0352 namespace. It is answered with
// nothing; before a resource is bound there is no session to mark, and it
// is ignored.
func (c *conn) handleCSI(el *xml.Element) error {
	if !c.srv.cfg.CSI || (el.Local != "active" && el.Local != "inactive") {
		return stream.New(stream.UnsupportedStanzaType, "")
	}
	if c.sess != nil {
		c.sess.setActive(el.Local == "active")
	}
	return nil
}
