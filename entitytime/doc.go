// Package entitytime answers Entity Time (XEP-0202, version 2.0) requests
// addressed to the server domain: the server's clock in UTC.
//
// Only the server answers. An iq to an account's bare JID gets
// service-unavailable from the router; one to a full JID goes to that
// client, which answers for itself (§4: the time of a user is its
// client's).
//
// The answer is <tzo>+00:00</tzo> and <utc/> (XEP-0082 DateTime, in
// milliseconds): the server reports UTC rather than its host's zone,
// which says nothing useful to a client and something about where the
// machine stands.
//
// No configuration. Feature: urn:xmpp:time, on the server.
package entitytime
