// Package ping answers XMPP Ping (XEP-0199) addressed to the server and to
// the sender's own bare JID, which a client uses to check its connection
// (XEP-0199 §4.1, client-to-server ping). A ping to someone else's bare
// JID is not the server's to answer on that user's behalf: it gets
// service-unavailable. Pings between clients go to full JIDs and the
// router forwards them untouched.
//
// Feature: urn:xmpp:ping, on the server and on accounts.
//
// Config: none.
package ping
