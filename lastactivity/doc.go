// Package lastactivity answers Last Activity (XEP-0012, version 2.0)
// requests addressed to the server domain with the server's uptime:
// <query xmlns='jabber:iq:last' seconds='…'/>, the whole seconds since
// the server started (§5: a server's last activity is its uptime).
//
// Accounts are not answered: an iq to a bare JID gets service-unavailable
// from the router. Answering for offline users (§4: the time since their
// last logout, to contacts with a presence subscription) would need the
// logout time stored for every account and a roster check on each
// request; that is not done. An iq to a full JID goes to the client,
// which answers its own idle time (§3).
//
// No configuration. Feature: jabber:iq:last, on the server.
package lastactivity
