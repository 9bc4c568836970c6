// Package muc is Multi-User Chat (XEP-0045) with room archives (XEP-0313
// "MUC archives"): a service on conference.<domain> for each hosted
// domain (the [muc] section's domain prefix), hosted through the router's
// Service interface, so every stanza addressed to the service, a room or
// an occupant comes here.
//
// What it does: rooms are created by their first occupant (§10.1) and
// stay locked until the owner configures them or accepts the instant room
// (an empty submitted form, as Conversations and Gajim send); entering
// and leaving (§7.2, §7.14) with the self-presence (status 110) last;
// rooms are non-anonymous by default (status 100: OMEMO needs real JIDs);
// several resources of one account may share a nick; nick changes (303);
// groupchat messages (§7.4) with <stanza-id by='room'/> and XEP-0421
// occupant ids, stored once in the room's archive through package mam,
// which this package extends (ARCHITECTURE.md), and purged when the room
// ends (destroyed, or temporary and empty); discussion history
// (§7.2.15) with XEP-0203 delays; the subject (§8.1); private messages
// (§7.5) and iqs between occupants (passed on under the room's ids; a
// vCard request is answered from the account behind the nick, through
// router.AnswerIQ, only to askers who see real JIDs: in semi-anonymous
// rooms it goes to the occupant's client); kick, ban, voice, voice requests (§7.13, §8.6) and
// affiliation lists (§8-9); the owner's
// configuration form (§10.2) and destroy (§10.9); XEP-0410 self-pings;
// mediated invitations (§7.8.2: at most five per message, ten at once per
// occupant then one each 6 s; declines only from JIDs the room invited,
// invite.go).
//
// Federation (remote.go): users of other servers are occupants too.
// Their stanzas arrive through router.HandleFromRemote, which hands a
// stanza to a service domain here with a transient session of the
// remote full JID, and the room's stanzas to them go over s2s from the
// room's JIDs (router.SendTo of a remote JID). They enter, chat, send and
// get private messages and iqs, read the room's archive, are invited
// (mediated invitations to remote JIDs go through router.RouteMessage),
// kicked and banned (affiliations are by bare JID, local or not); a
// remote occupant's vCard request goes to its client, its server being
// the one to answer. They never create rooms (not-allowed, §10.1.1), and
// max_remote_occupants_per_domain bounds one remote domain's occupant
// sessions over every room (service-unavailable, wait). A remote
// occupant leaves by unavailable presence or a presence error; and any
// occupant's session whose client or server answers a room's message
// with a delivery error (gone, item-not-found, recipient-unavailable,
// redirect, remote-server-not-found, remote-server-timeout,
// service-unavailable) is removed, with status 333 when its nick goes
// (occupanterror.go; XEP-0045 asks the service to remove an occupant
// after a delivery-related error) — router.Bounce hands the service
// such an error when a stanza to a remote occupant cannot be delivered.
// Not done: noticing a remote occupant's silent end when nothing is sent
// to it (clients' XEP-0410 self-pings then rejoin or drop);
// ForgetAccount and the user deletion hooks concern local accounts only.
//
// Layering: muc imports router, mam (which it extends) and the layers
// below; internal/server registers it.
//
// Locking: Module.createMu serialises room creation (max_rooms_per_account
// counts and adds in one step); it is taken first, before any room.mu or
// Module.mu, by a goroutine holding neither. Module.mu guards the room table; room.mu guards one room's
// state and is held while the room sends its stanzas, so every occupant
// sees one order of presence and messages, and while it archives a
// message, so archive order is broadcast order. room.mu may be held when
// taking Module.mu (a room removing itself) but never the reverse (but
// for a new room, locked by its creator before it enters the table, so no
// one can wait on it), and no
// goroutine holds two rooms' locks. Under room.mu only Session.Send and
// Router.SendTo (queue pushes, leaf locks) and the archive append are
// called; routing through the router's message hooks (invitations), an
// answer from the router's iq handlers (vCards) and archive queries are
// done with room.mu released. joinedRooms.mu, per session, and
// remoteOccupants.mu, taken under room.mu, are leaves.
package muc
