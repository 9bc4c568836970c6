// Package offline keeps messages for users who have no session that can
// take them and delivers them on the user's next initial presence
// (XEP-0160, Best Practices for Handling Offline Messages).
//
// Storing (router.OfflineStorer, XEP-0160 §3 "Handling of Message
// Types"): messages of type normal (or no type) and chat are stored;
// groupchat, headline and error never are. A message is stored only when
// it has something worth keeping: one made of nothing but XEP-0085 chat
// states, <thread/>, XEP-0334 hints and XEP-0359 ids is not (XEP-0160
// excludes chat-state-only messages), unless it carries the XEP-0334
// <store/> hint; <no-store/> always wins. The stored copy gets a XEP-0203
// <delay from=DOMAIN stamp=UTC>Offline Storage</delay>, stamped when it
// was stored. Each user has at most max_messages waiting; past that, the
// message is not stored and the router bounces it with
// service-unavailable (XEP-0160 §2) unless the recipient's archive holds
// it (MessageEvent.Archived).
//
// Delivering (router.AvailabilityObserver): when a session sends initial
// presence with a non-negative priority (XEP-0160 §2, step 5), or a
// session that came online with a negative priority raises it to
// non-negative (router.PriorityRaisedObserver: from then on it takes
// messages to the bare JID, RFC 6121 §8.5.2.1.1), the waiting
// messages go to that session in the order they were stored and are
// deleted. One exception, as in Prosody: a session that has already
// caught up from its archive (a query of every conversation up to the
// newest item, mam catchUp: not one conversation's history, older items,
// given ids or a search), or bound with XEP-0386 Bind 2
// (Session.MAMQueried), catches up from MAM, so the messages the archive
// still holds are not sent to it, only deleted; the archive is asked
// (ArchiveChecker, the mam module: by the stanza-id each stored copy
// carries), so one whose archived copy is gone since (expiry,
// archive_max_items, a purge) is sent, not lost; so is one stored
// after the client's first archive query or its Bind 2
// (Session.MAMQueriedAt), as the session waited for its initial
// presence: a client paging back from the newest item never saw it.
//
// Feature: msgoffline, on the server (XEP-0160 §4).
//
// Config ([offline] in the configuration file):
//
//	max_messages = 1000  # messages waiting per user, at least 1
package offline
