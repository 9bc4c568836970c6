// Package serverinfo publishes Contact Addresses for XMPP Services
// (XEP-0157, version 1.1): the addresses an operator lists under
// [server.contact_info] become the extended service discovery form
// (XEP-0128) of FORM_TYPE http://jabber.org/network/serverinfo in the
// server domain's disco#info (router.ServerInfoProvider), one list-multi
// field per role that has addresses:
//
//	[server.contact_info]
//	abuse = ["mailto:abuse@example.org", "xmpp:abuse@example.org"]
//	admin = ["xmpp:admin@example.org"]
//	feedback = ["https://example.org/feedback"]
//	sales = []
//	security = ["mailto:security@example.org"]
//	status = ["https://status.example.org"]
//	support = ["xmpp:support@conference.example.org?join"]
//
// Fields: abuse-addresses, admin-addresses, feedback-addresses,
// sales-addresses, security-addresses, status-addresses,
// support-addresses. Gajim shows them in its server information window;
// spam-fighting tools and server lists read abuse-addresses.
//
// Every address must be an absolute URI (scheme:…: mailto:, xmpp:,
// https:, …) at configuration load, at most MaxAddresses per role and
// MaxAddressBytes each; the same addresses are published for every
// hosted domain. With no address configured, no form is published.
//
// The form is part of the server's XEP-0115 caps hash (disco computes
// it), so it never changes while the server runs.
package serverinfo
