package muc

import (
	"time"

	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/jid"
	"github.com/skald-xmpp/skald/stanza"
)

// Mediated invitations (§7.8.2) make the room send messages to JIDs its
// occupants choose, so they are bounded: a few invitees per message, a
// token bucket per account in the room (kept when it leaves, so that
// entering again refills nothing), and declines only from JIDs the room
// invited, to the occupant's account that invited them, once.
const (
	// maxInvitesPerMessage bounds the <invite/> children of one message.
	maxInvitesPerMessage = 5
	// inviteBurst is how many invitations an occupant may send at once;
	// it earns one more every inviteEvery, up to the burst.
	inviteBurst = 10
	inviteEvery = 6 * time.Second
	// maxPendingInvites bounds the invitations a room remembers for
	// their declines; past it the oldest is forgotten (its decline is
	// refused, as if it had been answered).
	maxPendingInvites = 256
	// maxInviteBuckets bounds the allowances a room keeps by bare JID,
	// so that leaving and entering again gives none back. Past it the
	// allowances that have filled up again go first, then any.
	maxInviteBuckets = 256
)

// inviteBucket is an occupant's invitation allowance (a token bucket).
type inviteBucket struct {
	tokens float64
	at     time.Time // when tokens was last brought up to date
}

// take spends n tokens if the bucket holds them.
func (b *inviteBucket) take(n int, now time.Time) bool {
	if b.at.IsZero() {
		b.tokens = inviteBurst
	} else {
		b.tokens = min(inviteBurst, b.tokens+float64(now.Sub(b.at))/float64(inviteEvery))
	}
	b.at = now
	if b.tokens < float64(n) {
		return false
	}
	b.tokens -= float64(n)
	return true
}

// full reports whether the bucket holds its whole burst again by now.
func (b *inviteBucket) full(now time.Time) bool {
	return b.at.IsZero() || b.tokens+float64(now.Sub(b.at))/float64(inviteEvery) >= inviteBurst
}

// inviteBucketLocked returns the invitation allowance of an account in
// the room. It is the account's, not one visit's: kept after the account
// leaves, within maxInviteBuckets.
func (r *room) inviteBucketLocked(bare jid.JID, now time.Time) *inviteBucket {
	key := bare.String()
	if b := r.inviteBuckets[key]; b != nil {
		return b
	}
	if r.inviteBuckets == nil {
		r.inviteBuckets = make(map[string]*inviteBucket)
	}
	if len(r.inviteBuckets) >= maxInviteBuckets {
		for k, b := range r.inviteBuckets {
			if b.full(now) {
				delete(r.inviteBuckets, k)
			}
		}
		for k := range r.inviteBuckets {
			if len(r.inviteBuckets) < maxInviteBuckets {
				break
			}
			delete(r.inviteBuckets, k)
		}
	}
	b := &inviteBucket{}
	r.inviteBuckets[key] = b
	return b
}

// pendingInviteKey keys an invitation the room sent: the invitee's and
// the inviter's bare JIDs.
func pendingInviteKey(invitee, inviter jid.JID) string {
	return invitee.Bare().String() + " " + inviter.Bare().String()
}

// rememberInviteLocked records an invitation for its decline.
func (r *room) rememberInviteLocked(invitee, inviter jid.JID) {
	key := pendingInviteKey(invitee, inviter)
	if r.invited == nil {
		r.invited = make(map[string]bool)
	}
	if r.invited[key] {
		return
	}
	for len(r.invited) >= maxPendingInvites && len(r.invitedOrder) > 0 {
		delete(r.invited, r.invitedOrder[0])
		r.invitedOrder = r.invitedOrder[1:]
	}
	r.invited[key] = true
	r.invitedOrder = append(r.invitedOrder, key)
}

// forgetInviteLocked removes an invitation once declined, reporting
// whether the room had sent it.
func (r *room) forgetInviteLocked(invitee, inviter jid.JID) bool {
	key := pendingInviteKey(invitee, inviter)
	if !r.invited[key] {
		return false
	}
	delete(r.invited, key)
	for i, k := range r.invitedOrder {
		if k == key {
			r.invitedOrder = append(r.invitedOrder[:i], r.invitedOrder[i+1:]...)
			break
		}
	}
	return true
}

// invitationsLocked builds the room's mediated invitations (§7.8.2) for
// the caller to route once the room lock is released. Only occupants
// invite; in a members-only room only admins and owners, and the invitee
// becomes a member. More than maxInvitesPerMessage invitees, more than
// the occupant's bucket allows, or members past [muc] max_affiliations,
// is refused with policy-violation (RFC 6120 §8.3.3.12), and nothing is
// sent.
func (m *Module) invitationsLocked(rm *room, o *occupant, from jid.JID, st *xml.Element) ([]*xml.Element, error) {
	if o == nil {
		return nil, stanza.E(stanza.NotAcceptable, "only occupants may invite")
	}
	aff := rm.affiliation(o.bare)
	if rm.cfg.MembersOnly && affRank[aff] < affRank[affAdmin] {
		return nil, stanza.E(stanza.Forbidden, "only admins invite to a members-only room")
	}
	invites := st.Child(NSUser, "x").ChildrenNamed(NSUser, "invite")
	if len(invites) > maxInvitesPerMessage {
		return nil, stanza.E(stanza.PolicyViolation, "too many invitees in one message")
	}
	invitees := make([]jid.JID, 0, len(invites))
	for _, inv := range invites {
		to, err := jid.Parse(inv.Attr("to"))
		if err != nil || to.Local() == "" {
			return nil, stanza.E(stanza.JIDMalformed, "bad invitee")
		}
		invitees = append(invitees, to)
	}
	if rm.cfg.MembersOnly {
		// Each invitee becomes a member: the lists must have room.
		added := make(map[string]bool)
		for _, to := range invitees {
			if _, ok := rm.affs[to.Bare().String()]; !ok {
				added[to.Bare().String()] = true
			}
		}
		if len(added) > 0 && len(rm.affs)+len(added) > m.cfg.MaxAffiliations {
			return nil, stanza.E(stanza.PolicyViolation, "the room's affiliation lists are full")
		}
	}
	now := time.Now()
	if !rm.inviteBucketLocked(o.bare, now).take(len(invites), now) {
		return nil, stanza.E(stanza.PolicyViolation, "too many invitations: wait a while")
	}
	var out []*xml.Element
	for i, inv := range invites {
		to := invitees[i]
		if rm.cfg.MembersOnly && affRank[rm.affiliation(to.Bare())] < affRank[affMember] {
			rm.setAffiliation(to.Bare(), affMember)
			m.persistLocked(rm)
		}
		rm.rememberInviteLocked(to, o.bare)
		fwd := xml.New(NSUser, "invite", "from", from.String())
		if r := inv.Child(NSUser, "reason"); r != nil {
			fwd.Append(r.Clone())
		}
		x := xml.New(NSUser, "x").Append(fwd)
		if rm.cfg.Password != "" {
			x.Append(xml.New(NSUser, "password").AppendText(rm.cfg.Password))
		}
		msg := xml.New(nsClient, "message", "from", rm.jid.String(), "to", to.String())
		if id := st.Attr("id"); id != "" {
			msg.SetAttr("id", id)
		}
		out = append(out, msg.Append(x))
	}
	return out, nil
}

// declineLocked builds the room's message passing an invitee's decline
// to the inviter (§7.8.2), from the room, naming the invitee. Only a
// JID the room invited may decline, once, and only to the account that
// invited it: otherwise anyone could make the room message anyone.
func (m *Module) declineLocked(rm *room, from jid.JID, st *xml.Element) ([]*xml.Element, error) {
	d := st.Child(NSUser, "x").Child(NSUser, "decline")
	to, err := jid.Parse(d.Attr("to"))
	if err != nil || to.Local() == "" {
		return nil, stanza.E(stanza.JIDMalformed, "bad inviter")
	}
	if !rm.forgetInviteLocked(from, to) {
		return nil, stanza.E(stanza.NotAcceptable, "no invitation from that JID to decline")
	}
	fwd := xml.New(NSUser, "decline", "from", from.Bare().String())
	if r := d.Child(NSUser, "reason"); r != nil {
		fwd.Append(r.Clone())
	}
	msg := xml.New(nsClient, "message", "from", rm.jid.String(), "to", to.Bare().String())
	return []*xml.Element{msg.Append(xml.New(NSUser, "x").Append(fwd))}, nil
}
