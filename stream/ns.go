package stream

// Namespaces of RFC 6120 and the stream-level extensions Skald speaks.
const (
	NS            = "http://etherx.jabber.org/streams"
	NSErrors      = "urn:ietf:params:xml:ns:xmpp-streams"
	NSClient      = "jabber:client"
	NSServer      = "jabber:server"
	NSTLS         = "urn:ietf:params:xml:ns:xmpp-tls"
	NSSASL        = "urn:ietf:params:xml:ns:xmpp-sasl"
	NSBind        = "urn:ietf:params:xml:ns:xmpp-bind"
	NSSession     = "urn:ietf:params:xml:ns:xmpp-session"
	NSStanzas     = "urn:ietf:params:xml:ns:xmpp-stanzas"
	NSSM          = "urn:xmpp:sm:3"
	NSVer         = "urn:xmpp:features:rosterver"
	NSPreApproval = "urn:xmpp:features:pre-approval"
	NSCaps        = "http://jabber.org/protocol/caps"
	NSCSI         = "urn:xmpp:csi:0" // XEP-0352 Client State Indication
)
