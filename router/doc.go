// Package router moves stanzas between bound client sessions and the
// feature modules. It knows the delivery rules of RFC 6120 §10 and RFC 6121
// §8 (full JID, bare JID, offline) and nothing about any particular XEP:
// features plug in through the small interfaces in module.go, registered
// in one explicit, ordered list by cmd/skald.
//
// Modules may also host service domains of their own (Service, such as
// muc's conference.<domain>): every stanza a client addresses to one goes
// to its module, which answers it; AnswerIQ lets such a module have an
// iq to an account answered as the server would answer a client's.
//
// Layering: router imports internal/xml, jid, stanza, stream and storage.
// Transports (c2s, s2s) import router; feature packages import router;
// router imports neither. Stanzas to domains the router does not serve go
// to the RemoteRouter (s2s) when one is installed; stanzas from remote
// servers enter through HandleFromRemote (remote.go). External
// components (XEP-0114, ComponentRouter, component.go) serve domains
// that are hosted for s2s but remote for delivery: stanzas to them go
// out like stanzas to a remote server, over the component's stream, and
// theirs enter through HandleFromComponent.
//
// Locking: Router.mu guards the session table only and is never held while
// calling a module or a session's Send. Session.mu guards the session's
// presence state and is a leaf lock. A message to a local account is
// routed under its recipient's stripe lock, from the outbound hooks to the
// end of delivery. A batch of messages (HandleMessagesFromClient) holds the
// stripes of all its recipients, taken in ascending stripe order; hooks
// never route messages themselves, so stripes are only ever taken in that
// order and never twice (see routeMessages).
package router
