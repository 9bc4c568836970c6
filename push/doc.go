// Package push implements the user's-server side of Push Notifications
// (XEP-0357, version 0.4.1): a client on a platform that stops it in the
// background (iOS, Android: Monal, Siskin, Conversations) registers its
// developers' app server, and when a message arrives that the client
// would otherwise miss, the server publishes a notification there, which
// wakes the device.
//
// Protocol (iqs to the own account's bare JID; to another account, or
// from a remote entity: forbidden):
//
//   - <enable jid='push.example' node='…'>[publish-options form]</enable>
//     (§5) registers (jid, node) for the account. 'jid' is required
//     (bad-request without it, jid-malformed if unparsable); 'node' too,
//     as in the XEP's schema, since a publish (XEP-0060 §7.1) needs one
//     (bad-request). The optional form must be the only one and have the
//     FORM_TYPE http://jabber.org/protocol/pubsub#publish-options
//     (bad-request); it is kept as sent and sent as <publish-options/>
//     with every publish. Enabling (jid, node) again replaces it: the last
//     request's options win (§5), and the resource of the session that
//     sent it is remembered (see below). A JID on this server (its domains
//     or hosted services) is not-acceptable: app servers run elsewhere.
//   - <disable jid='…' [node='…']/> (§6) removes that node, or every node
//     of the JID; disabling what is not enabled succeeds.
//
// Registrations persist in storage.Documents (kind "push", one document
// per account), cached in memory once read (an entry, empty for most, per
// account that received a message worth a push since the start; deleting
// an account drops it, ForgetAccount). Shutdown, before the store closes,
// ends the coalescing windows and waits for registrations being disabled. An account has at most
// max_registrations; enabling one more drops the least recently enabled
// (stale installations vanish rather than block new ones). The limits
// on a node (1024 bytes) and a form (4096 bytes) are policy-violation.
//
// Feature: urn:xmpp:push:0 on the account's bare JID (§4.1).
//
// # When a push is sent
//
// For a message to the account that is worth one (below; room messages:
// "Group chats"), after the
// router has delivered it (router.DeliveryObserver), to each registration
// whose client would miss it:
//
//   - the message went to no session (offline storage, or only the
//     archive): every registration;
//   - otherwise, registration by registration, by the session bound to the
//     resource that enabled it: none (the client is not connected) — push
//     if the recipient's archive holds the message, which the woken client
//     fetches (Prosody's mod_cloud_notify does the same for archived
//     messages); dormant (router.Session.Dormant: detached and held for
//     XEP-0198 resumption, or its client said it is inactive, XEP-0352, as
//     iOS clients do before the system freezes them with the connection
//     still open) — push if the message was queued to it, or archived; live
//     — no push, it has the message.
//
// A live session's client may not have read what it was sent, though: if
// its connection drops and the session waits for resumption with
// messages worth a push that the client never acknowledged (XEP-0198),
// the registrations that session enabled get one push for them then
// (router.DetachObserver; not for a session that was inactive, whose
// messages pushed on delivery, nor for groupchat messages: a live
// session's client was reading the room, which keeps them in its
// archive). Like mod_cloud_notify's push when a session with such
// messages hibernates.
//
// Messages an account sends itself, and messages to other servers, never
// push.
//
// # Group chats
//
// A room (XEP-0045) sends its messages to each occupant's full JID: only
// the sessions in the room get them, no offline storage or account
// archive keeps them, and a client that was not in the room catches up
// from the room's archive. So a room message pushes only when it was
// queued to a dormant session (detached for XEP-0198 resumption, or
// inactive, XEP-0352), and only to the registrations that session's
// resource enabled; never while that session is live, and never for a
// session that is gone (the room drops it, or it rejoins and fetches).
// Rooms on this server tell the dormant sessions they sent to, with the
// recipient's nick (router.GroupchatObserver: they send directly, not
// through delivery); rooms on other servers send over s2s to the full
// JID, which is delivery (router.DeliveryObserver), and the recipient's
// nick there is the one the room's self-presence named (status 110,
// router.RemotePresenceObserver; kept per session while it lives, at
// most 1000 rooms each), until its unavailable self-presence (leaving,
// a nick change, kicked, banned), an unavailable presence from that
// nick (a destroyed room, XEP-0045 §10.9) or a presence error from the
// room, but for the conflict and not-acceptable that deny a nick change
// and leave the occupant in the room (§7.6). Any remote JID can send a
// self-presence, so the bound keeps what a forger can fill: at worst the
// session's later rooms go untracked (only its bare JID mentions it
// there, and in "all" its own messages there push).
//
// Worth a push: a groupchat message with a non-blank body (an encrypted
// one carries its fallback body) that is none of these: a subject
// change; discussion history sent on entering (a delay from the room,
// XEP-0045 §7.2.15); the account's own message reflected by the room
// (sent by any of its sessions: a local room knows the sender, a remote
// one's is from the nick one of the account's sessions holds); an error
// (a private message the room could not pass on is an error message
// from the occupant's JID). Private messages through a room on another
// server are chat messages delivered to the full JID, and push as any
// other; those through a room here do not (see "Not done").
//
// Which of them push is the account's choice, or else the server's
// groupchat (settings.go: a document of kind "push", key "settings",
// beside the registrations; read once, then cached). A user makes it
// with the ad-hoc command https://skald.im/commands#push-groupchat
// (package adhoc, AddPushCommand; XEP-0050 on the server's domain, for
// its own accounts only): it says which events wake the phone, not what
// a notification tells the app server, so the in-band change §9
// advises against does not apply. The choices:
//
//   - "mentions" (the default): those that mention the account — its
//     nick in the room or its bare JID as a word of the body (letters,
//     digits or combining marks on neither side; compared as RFC 8266
//     compares nicks: case folded, NFKC, any spaces one space, as clients
//     complete nicks in any case), or an XEP-0372 mention reference to its bare or
//     occupant JID. mod_cloud_notify pushes group chats the same way (a
//     message that names the user's nick). Every room message of a busy
//     room would wake the phone each coalesce_interval all day, spend the
//     push quota iOS and Android give an app, and tell the app developer's
//     server each time the user's rooms are active (§9); a user expects
//     a notification when addressed, and Monal and Siskin fetch the
//     room's other messages from its archive once woken.
//   - "all": every room message worth a push, for servers whose rooms
//     are small teams rather than public channels.
//   - "none": room messages never push.
//
// A room message goes through the same per-registration coalescing as
// any other: however busy the room, and however many rooms, a
// registration gets at most one push per coalesce_interval (and one
// waiting for its answer), the rest folded into the count.
//
// # Which messages
//
// A message is worth a push when it has a non-blank body, an end-to-end
// encrypted payload the server cannot look into (OMEMO, legacy and
// current; XEP-0027; XEP-0373), or a call proposal (XEP-0353 <propose/>).
// Not: errors, headlines, groupchat subject changes, and messages that
// carry only chat states, receipts, markers, hints or other metadata —
// nothing a user reads. A carbon copy counts by the message it forwards
// when received; a sent copy is the user's own message. Only a copy from
// the account's own bare JID is one (XEP-0280 §11): another sender's is
// forged, to name a sender of its choosing, and counts as the bodiless
// message it is. XEP-0334 hints do
// not make a message worth a push: <store/> keeps a bodiless message in
// the archive, it does not make it readable. This follows what
// mod_cloud_notify calls important, without its extra first push for any
// stanza (presence, iqs) queued to a hibernated session: clients resync
// their presence when they come back anyway.
//
// # The notification
//
// An iq set from the account's bare JID to the registration's JID,
// through the router (router.QueryRemote: over s2s; without [s2s] the app
// server is unreachable and the push is counted as such):
//
//	<pubsub xmlns='http://jabber.org/protocol/pubsub'>
//	  <publish node='…'><item><notification xmlns='urn:xmpp:push:0'>
//	    <x xmlns='jabber:x:data' type='submit'>
//	      FORM_TYPE urn:xmpp:push:summary, message-count,
//	      last-message-sender (include_sender), last-message-body (include_body)
//	    </x>
//	  </notification></item></publish>
//	  <publish-options>the enable request's form</publish-options>
//	</pubsub>
//
// message-count is the number of messages the push stands for (1, or
// those folded by coalescing); a per-device unread count would need state
// this server does not keep per client. last-message-sender is the
// message's 'from'. The body is off by default (§9: it would go through
// the app developer's servers); important_body, when set, is sent in its
// place so that app servers that decide on a visible push by the presence
// of a body do so without the text. A body is cut to 1024 bytes.
//
// Coalescing: a registration gets at most one push per coalesce_interval.
// The first message of a burst is pushed at once; those that follow within
// the interval are counted and pushed once, with the count and the last
// sender, when it ends (unless the client that enabled the registration
// is live again by then). A registration has at most one publish waiting
// for the app server's answer: a push meanwhile is dropped (its device is
// being woken already), and a window that ends meanwhile keeps its count
// for the next one. So an app server that never answers holds one place
// per registration until the timeout. At most max_in_flight publishes
// wait for an answer server-wide; beyond that a push is dropped and
// counted.
//
// # Answers (§7.1)
//
// A result resets the registration's error count. An error whose
// condition says the node is gone or publishing is no longer allowed
// (item-not-found, gone, forbidden, not-authorized, registration-required,
// subscription-required) disables the registration at once (§7.1 SHOULD;
// §8's remote disabling removes the publish affiliation, which is such an
// error next time). Errors of type wait, resource-constraint whatever its
// type (the app server is overloaded), and the s2s transport's
// remote-server-not-found and remote-server-timeout (the app server's
// domain unreachable for now) are not counted; any other error counts,
// and max_errors in a row disable it (§7.1 MAY, as mod_cloud_notify
// does). A publish not answered within timeout is counted, and changes
// nothing: it says nothing about the registration. So a registration
// whose app server's domain stays unreachable is kept, and tried at most
// once per window. An error answering a publish to a registration the
// client has enabled again since is ignored: it is about the old one.
// A bounce that comes after the publish timed out is dropped by the
// router, never shown to the account's clients.
//
// # Config ([push])
//
//	enabled = true               # costs nothing until a client enables push
//	include_body = false
//	include_sender = false
//	important_body = ""
//	max_registrations = 5        # per account
//	coalesce_interval = "10s"    # 0: push every message
//	timeout = "30s"
//	max_in_flight = 1000         # at most 5000 (router.MaxPendingQueries / 2)
//	max_errors = 16
//	groupchat = "mentions"       # or "all", "none": see "Group chats"
//
// Metrics: skald_push_* (enabled, disabled, auto_disabled, sent, answered,
// failed, timeouts, unreachable, dropped, coalesced, in_flight).
//
// # Not done
//
//   - Remote disabling by message (§8, MAY): the error path disables the
//     registration at the next publish instead.
//   - Retrying an automatically disabled registration later (§7.1 MAY):
//     only errors that say the registration is gone, or max_errors
//     errors in a row, disable one — never a timeout, an unreachable
//     domain, a wait error or resource-constraint — and retrying a node
//     the app server said is gone would publish to a service the client
//     no longer has enabled there; clients enable again at every
//     connection (Monal, Siskin and Conversations do), which is the
//     retry that cannot be wrong.
//   - pending-subscription-count, and pushes for subscription requests or
//     other non-message events.
//   - Private messages through a room on this server: the room sends
//     them to the sessions directly and tells no observer.
//   - A per-room choice: XEP-0492's notification settings, which
//     clients keep in PEP, would be the place to read one from.
//   - The clients' extensions beyond XEP-0357 (mod_cloud_notify_extensions:
//     Siskin's encrypted pushes and the like).
//   - Pushing when XEP-0198 acknowledgements are merely late (Prosody's
//     smacks_max_ack_delay): a session counts as dormant once detached or
//     inactive, not before.
//   - App servers on this server (a local component): none exist here.
//
// Layering: push imports router, storage and the layers below; the c2s
// transport tells a dormant session through router.DormantSender.
package push
