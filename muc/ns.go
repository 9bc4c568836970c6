package muc

// Namespaces.
const (
	NS           = "http://jabber.org/protocol/muc"
	NSUser       = NS + "#user"
	NSAdmin      = NS + "#admin"
	NSOwner      = NS + "#owner"
	nsDiscoInfo  = "http://jabber.org/protocol/disco#info"
	nsDiscoItems = "http://jabber.org/protocol/disco#items"
	nsData       = "jabber:x:data"
	nsPing       = "urn:xmpp:ping"
	nsVCard      = "vcard-temp"
	nsDelay      = "urn:xmpp:delay"
	nsSID        = "urn:xmpp:sid:0"
	nsOccupantID = "urn:xmpp:occupant-id:0"
	nsClient     = "jabber:client"
	nsStanzas    = "urn:ietf:params:xml:ns:xmpp-stanzas"
)

// Status codes (XEP-0045 §15.6, the registrar's mucstatus registry).
const (
	statusNonAnonymous = "100"
	statusSelf         = "110"
	statusConfigChange = "104"
	statusLogging      = "170"
	statusNoLogging    = "171"
	statusNowNonAnon   = "172"
	statusNowSemiAnon  = "173"
	statusCreated      = "201"
	statusNickChanged  = "303"
	statusBanned       = "301"
	statusKicked       = "307"
	statusAffChange    = "321"
	statusMembersOnly  = "322"
)
