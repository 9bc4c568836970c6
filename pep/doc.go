// Package pep is the Personal Eventing Protocol service (XEP-0163) of
// every local account, over the subset of Publish-Subscribe (XEP-0060)
// that PEP needs. The service of an account is its bare JID; only the
// account publishes to it.
//
// Operations: publish (§7.1) with item ids generated when absent,
// auto-create (§7.1.4) and publish-options (§7.1.5: options an existing
// node does not match are refused with conflict +
// <precondition-not-met/>; an auto-created node takes them as its
// configuration); retract (§7.2, notify='true' or pubsub#notify_retract
// sends retraction notifications); retrieve items (§6.5: all, the newest
// max_items, or by item id; oldest first); create (§8.1, with a
// configuration form), configure (§8.2), delete (§8.4) and purge (§8.5),
// both notified, in the owner namespace; affiliations (§5.7, §8.9.1: the
// owner owns every node, nobody else has one) and subscriptions (§5.6,
// §8.8.1: none, PEP's are implicit) can be read. Explicit subscriptions,
// changing affiliations, instant nodes and collections are not
// implemented (feature-not-implemented, with <unsupported/> where
// XEP-0060 names the feature).
//
// Node configuration (pubsub#node_config): access_model presence (the
// default), open or whitelist (owner only; roster and authorize are
// refused with not-acceptable + <unsupported-access-model/>),
// persist_items, max_items (a number or "max", capped by [pep]
// max_items), send_last_published_item, notify_retract,
// deliver_payloads; deliver_notifications and notify_delete are always
// true (a form may say so, not otherwise). Any other field
// is refused (not-acceptable in a configuration form, a precondition
// that is not met in publish-options). Items are stored whatever
// persist_items says, so that the last one can be sent on presence.
//
// Access: the owner's resources always; for presence, contacts with a
// "from" or "both" subscription in the owner's roster (read through
// Rosters); for open, anyone. A refused retrieval gets not-authorized +
// <presence-subscription-required/> (presence) or not-allowed +
// <closed-node/> (whitelist) (XEP-0060 §6.5.9).
//
// Notifications (XEP-0163 §4.3, XEP-0060 §12) are headline messages from
// the owner's bare JID to each available resource of the owner and of
// its presence subscribers (not for whitelist nodes; theirs only with a
// non-negative priority, §4.3.2) whose XEP-0115 capabilities include
// NODE+notify, except where a block (XEP-0191, either way; SetBlocker)
// cuts a contact off. They are sent to the sessions directly, so mam never archives them and offline storage never keeps
// them. Capabilities come from the <c/> of the client's broadcast
// presence (router.PresenceObserver); an unknown ver is asked for with a
// disco#info query from the server (router.QueryClient) and, for SHA-1,
// cached by ver once disco.CapsVer confirms it (at most 1000 sessions
// wait for the answer about one ver; one past that is resolved at its
// next presence). A resource's first
// available presence, once its capabilities are known, brings it the last
// item of every node it wants and may see whose send_last_published_item
// is on_sub_and_presence, from its own account and from each contact it
// is subscribed to; and a contact newly allowed to see the owner's
// presence (router.SubscriptionObserver) gets, on its resources whose
// capabilities are known, the last item of the nodes it wants whose
// send_last_published_item is on_sub or on_sub_and_presence.
//
// Disco: the account answers identity pubsub/pep
// (disco.AccountIdentityProvider) and lists the nodes the requester may
// see (disco.AccountItemsProvider), each of which answers disco#info as
// a pubsub/leaf (disco.AccountNodeInfoProvider, XEP-0060 §5.3); the server and every account list the
// pubsub features implemented. disco#info on the account stays refused to
// those who may not see its presence (XEP-0030 §8, see package disco), so
// a stranger finds open nodes through disco#items only.
//
// Limits: an item counts its id and payload bytes. One over
// max_item_bytes is refused (not-acceptable + <payload-too-big/>,
// XEP-0060 §7.1.3) before anything is stored or created; a publish that
// would take the account's items over max_bytes_per_account is refused
// with policy-violation by the store, in the publish's own transaction
// (storage.PEP), so concurrent publishes cannot both pass. An items reply
// (§6.5) carries at most max_reply_bytes of items: when the requested
// ones do not fit, the newest that do, with an RSM <set/> (XEP-0059:
// first with its index, last, count), as §6.5.4 allows; clients cannot
// page further with RSM (Skald does not advertise it), but may ask for
// older items by id.
//
// Remote contacts (remote.go): notifications and last items go over
// server-to-server to remote contacts with a "from" or "both"
// subscription, at the full JIDs of their available resources with a
// non-negative priority that asked for NODE+notify. The server learns
// those resources from the presence their servers send our accounts
// (router.RemotePresenceObserver: kept per resource while an account
// that has it as a contact receives it, at most 10000 resources and 1000
// per remote domain); their caps ver is resolved through the same
// cache, or with a disco#info query to the remote full JID over s2s
// (router.QueryRemote), at most 32 of them out at once per remote domain
// and 1000 in all (they wait in the router's table of pending queries,
// which local clients' caps queries and push share; a resource past the
// bound is asked at its next presence). A "from" contact of whom no presence is known
// (its server sends us none: XEP-0163 §2.4 note) gets one copy at its
// bare JID (§4.3.2 item 2 allows it, at most one); a "both" contact with
// no resource known is offline and gets nothing. Events from remote
// contacts are headline messages that the router delivers to our users'
// sessions: mam does not archive headlines and offline storage does not
// keep them. A remote resource that vanishes without unavailable presence
// stays known until the bounds make room for a newer one (the one heard
// of longest ago goes); meanwhile its events bounce, and the router drops
// bounced headlines.
//
// The server's own access (internal.go): Publish, Retract and Items let
// other modules (XEP-0402 bookmarks in private, XEP-0398 avatars in
// vcard) use an account's nodes through interfaces of their own that
// internal/server fills. Publish and Retract are the client path
// (publishItem, retractItem: checks, auto-create, publish-options
// preconditions, quotas, notifications) as if the account had sent them.
// Observers (AddObserver) learn of the accounts' own publishes and
// retractions, after they are stored and notified and with no lock held,
// never of the server's own: a conversion's writes start no other
// conversion.
//
// Not implemented: the XEP-0033 replyto address naming the publishing
// resource (SHOULD, §4.3.1), <delay/> on last published items, explicit
// subscriptions (PEP's are implicit), and remote subscribers of open
// nodes who share no presence (they are never known to the service).
//
// Locks: Module.locks serialises the changes to one account's service
// (auto-create then publish, precondition check then publish) and their
// notifications, and the sending of its last published items, so that
// events leave in the order the changes were stored. It is taken before storage calls and held while the events are
// queued (roster and blocklist reads, non-blocking Sends; nothing under it
// calls back into pep or waits for a client). capsCache.mu and
// clientCaps.mu are leaves; remoteContacts.mu is taken alone and holds
// only sessions' leaf mutexes under it.
//
// Config ([pep] in the configuration file):
//
//	max_items = 1000   # cap of a node's pubsub#max_items ("max" means this)
//	max_nodes = 100    # nodes per account; more get not-allowed + <max-nodes-exceeded/>
//	max_bytes_per_account = 10485760 # all of an account's items; over it: policy-violation
//	max_item_bytes = 131072          # one item; over it: not-acceptable + <payload-too-big/>
//	max_reply_bytes = 262144         # items of one items reply (newest that fit + RSM <set/>)
package pep
