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
// ends (destroyed, or temporary and empty); archive results name each
// sender's bare JID in a muc#user <x/> for requesters who may see real
// JIDs at the time of the query (non-anonymous room, or a moderator:
// XEP-0313 "MUC Archives"), the one a sender put there being stripped;
// the archive is read by occupants and members, and by anyone not banned
// in a public open room without a password (iq.go, mayReadArchive); discussion history
// (§7.2.15) with XEP-0203 delays; the subject (§8.1); private messages
// (§7.5) and iqs between occupants (passed on under the room's ids; a
// vCard request is answered from the account behind the nick, through
// router.AnswerIQ, only to askers who see real JIDs: in semi-anonymous
// rooms it goes to the occupant's client); kick, ban, voice, voice requests (§7.13, §8.6) and
// affiliation lists (§8-9); the owner's
// configuration form (§10.2) and destroy (§10.9); XEP-0410 self-pings;
// room avatars (XEP-0486, avatar.go: an owner sets the room's vcard-temp
// vCard, anyone gets it, an empty vCard otherwise; the occupants get
// status 104; muc#roominfo_avatarhash lists the SHA-1 of each photo;
// a persistent room stores it; bounded by max_vcard_bytes);
// mediated invitations (§7.8.2: at most five per message, ten at once per
// account in a room, kept across its visits, then one each 6 s; declines only from JIDs the room invited,
// invite.go); the muc#roominfo form in a room's disco#info (§6.4,
// roominfo.go: description, language, contacts, subject mod, history
// size for anyone; subject and occupant count only for outsiders of
// public open rooms, §14.4) and the features muc#stable_id,
// muc#self-ping-optimization (XEP-0410 §3.3), jabber:iq:register and
// muc#request; registering with a room (§7.10, register.go: membership
// and a reserved nick, refused to others on entering and nick changes,
// x-roomuser-item of §7.12, <remove/>, member list nicks of §9.5, gone
// with the affiliation, so a ban removes it); ghosts (§18.1.2, ghost.go:
// a presence error, or a message error with a delivery condition, removes
// the session with status 333, §11.1); status 332 on shutdown (§11.2,
// shutdown.go).
//
// Retractions (moderate.go): XEP-0425 0.3.0 moderation
// (urn:xmpp:message-moderate:1, with XEP-0424 urn:xmpp:message-retract:1)
// and an author's own XEP-0424 retraction. A moderator's <iq
// type='set'><moderate id='stanza-id'><retract/><reason/></moderate>
// to the room is forbidden unless the requester is an occupant with the
// moderator role, bad-request without an id or a <retract/> (or as a
// get), item-not-found unless the id is one of the room's archive ids
// (also once expired or trimmed). The room then archives and broadcasts,
// from its bare JID and with its own stanza-id, <retract id='…'><moderated
// by='room/moderator-nick'><occupant-id/></moderated><reason/></retract>
// as XEP-0425 §3.1 shows, replaces the archived message by a tombstone
// (package mam: attributes, stanza-ids, origin-id, the author's
// occupant-id and the room's muc#user <x/> kept; content replaced by
// <retracted id='retraction id' stamp='…'> holding the same <moderated/>
// and reason), does the same to the discussion history's copy, and
// answers the iq; a message already retracted gets a result and nothing
// else. A groupchat message with <retract id='…'/> from an occupant is
// broadcast and archived as any message and, when the archived original's
// occupant-id is the sender's (the room stamps it from the bare JID),
// tombstones it the same way, with <retracted/> carrying the retraction's
// message id; somebody else's message stays as it is (clients check
// authorship too, XEP-0424). 'by' is the moderator's occupant JID, as in
// XEP-0425's example, not a real JID (semi-anonymous rooms). Rooms that
// archive advertise urn:xmpp:message-moderate:1, urn:xmpp:message-retract:1
// and urn:xmpp:message-retract:1#tombstone. Not done: the XEP-0425 0.2
// form (urn:xmpp:message-moderate:0 inside XEP-0422 <apply-to/>), which
// the XEP dropped with fastening; Converse.js, Gajim (nbxmpp) and
// Prosody's mod_muc_moderation speak :1 (a :0 request gets
// service-unavailable). Moderating a message that was never archived
// (a room without archiving) is item-not-found: there is no stanza-id to
// name it by. Metrics: skald_muc_moderations_total,
// skald_muc_retractions_total.
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
// sessions over every room (service-unavailable, wait), and the members
// of one remote domain up to which its users register with a room
// (register.go: otherwise one server could fill the affiliation lists
// and reserve every nick). A remote
// occupant leaves by unavailable presence or a presence error; and any
// occupant's session whose client or server answers a room's message
// with a delivery error (gone, item-not-found, recipient-unavailable,
// redirect, remote-server-not-found, remote-server-timeout,
// service-unavailable) is removed, with status 333 when its nick goes
// (ghost.go; XEP-0045 §18.1.2 asks the service to remove an occupant
// after a delivery-related error) — router.Bounce hands the service
// such an error when a stanza to a remote occupant cannot be delivered.
// Not done: noticing a remote occupant's silent end when nothing is sent
// to it (clients' XEP-0410 self-pings then rejoin or drop);
// ForgetAccount and the user deletion hooks concern local accounts only.
//
// Not done, and why: registration approval by admins (§9.9; a
// registration in an open room is granted at once, members-only rooms
// take none from non-members, moderated rooms none from users without
// voice); the groupchat 1.0 kick of §7.2.18 (110,
// 307, 333 for presence without <x/> from a non-occupant, RECOMMENDED):
// such presence still enters, as instant rooms for non-MUC clients rely
// on; nick lockdown and 210 (nicks are never rewritten); public logging
// (170 announces the MAM archive), muc#roomconfig_allowpm,
// _presencebroadcast, _getmemberlist, _roomadmins/_roomowners in the form
// (the admin protocol does those); the #traffic node (nothing is
// filtered); owner and admin lists for non-owners in non-anonymous rooms
// (a MAY); a session ending without unavailable presence is an ordinary
// exit, not 333 (its server leaves the rooms for it, RFC 6121 §4.6.3).
//
// Section numbers: roominfo.go, register.go, ghost.go, shutdown.go and
// their tests cite XEP-0045 1.35.5; some older comments cite an earlier
// version's numbering, one higher in §7.2 (§7.2.9 for the nick conflict
// that 1.35.5 numbers §7.2.8) and §15 for what is now the registrar's §16.
//
// Push notifications (push.go): a groupchat message other than a subject
// change that a room queued to local sessions that are dormant (detached
// awaiting XEP-0198 resumption, or inactive, XEP-0352) is told, with each
// recipient's nick and whether its account sent the message, to the
// router's GroupchatObservers once room.mu is released
// (router.GroupchatQueued); the push module decides (XEP-0357). The
// discussion history sent on entering, private messages and the room's
// own notices are not told.
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
// Router.SendTo (queue pushes, leaf locks), Router.Session and
// Session.Dormant (the same leaf locks), the archive append and the
// reads and replacement of one archived item a retraction makes are
// called; routing through the router's message hooks (invitations), an
// answer from the router's iq handlers (vCards) and archive queries are
// done with room.mu released. joinedRooms.mu, per session, and
// remoteOccupants.mu, taken under room.mu, are leaves.
package muc
