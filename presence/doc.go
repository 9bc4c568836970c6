// Package presence implements presence for local clients (RFC 6121 §3-4):
// availability broadcasts, probes, directed presence and the subscription
// state machine of RFC 6121 Appendix A, on both sides of a subscription.
//
// Broadcast presence (no 'to') is recorded on the session and sent to
// every contact with a 'from' or 'both' subscription and to the account's
// available resources, the sender included (§4.2.2, §4.4.2). The first
// available presence of a session (initial presence) also gets the new
// session the current presence of each contact it is subscribed to (the
// answer to the probe of §4.3, given directly since both ends are local;
// nothing is sent for offline contacts, and a contact whose roster does not
// grant the subscription answers unsubscribed, §4.3.2), the presence of the account's
// other resources, every subscription request still waiting for an answer
// (§3.1.3: as the stanza it came in, status and extensions included, kept
// as a storage document of kind RequestKind by SetRequestStore's store;
// requests.go), and finally tells the router (router.NotifyAvailable) so that
// offline messages follow. A later broadcast presence that takes the
// priority from negative to non-negative tells the router too
// (router.NotifyPriorityRaised): offline messages the session could not
// take at its initial presence follow then.
//
// Subscription stanzas are stamped with the sender's bare JID and run
// through the sender's side of the state machine (Appendix A.2), then the
// contact's side (A.3) when the contact is a local account; stanzas to
// remote domains change the local side and go to the contact's server
// over the remote transport (package s2s), whose stanzas come back
// through HandleRemotePresence: the contact's side for a local contact of
// a remote user, probes answered from the roster (§4.3.2), availability
// delivered as from a local contact. Broadcasts and initial presence
// include remote contacts (probes to their servers). With federation off,
// stanzas to remote domains are answered remote-server-not-found (RFC
// 6120 §10.4.3), as is directed presence to a remote JID. Pre-approval (§3.4) is supported: a 'subscribed'
// sent before any request is remembered and answers the later request
// automatically; c2s advertises it with the stream feature NSPreApproval.
// Every change a user can see is pushed by the roster module. Once a local
// contact may newly see an account's presence (an approval, or a
// pre-approval answering a request) and has been sent it, the router is
// told (router.NotifySubscribed), so that pep sends the account's last
// published items.
//
// Presence to an account that does not exist is dropped silently, so that
// presence never reveals which accounts exist; a subscription request to
// one stays pending for ever, exactly as one to an unresponsive domain.
// The server probes on its clients' behalf, and a probe a client sends
// itself is processed as well (§4.3): answered for a local contact as the
// server's own probes are, to the probing session alone, and routed to a
// remote contact's server from the probing resource;
// presence errors are routed only to the full JID they address.
//
// Blocking (XEP-0191 §3.3), with a Blocker installed by SetBlocker: no
// presence flows between two accounts when either blocks the other
// (broadcasts, directed presence, probes and their answers, subscription
// stanzas, all dropped silently), and a client's presence with a 'to' its
// account blocks is answered not-acceptable with <blocked/>. Blocked and
// Unblocked send the presence a change of blocklist calls for.
//
// No configuration, no metrics.
package presence
