package mam

// Namespaces this package speaks or inspects.
const (
	NS               = "urn:xmpp:mam:2"                 // XEP-0313 (and XEP-0441 prefs)
	NSExtended       = "urn:xmpp:mam:2#extended"        // XEP-0313 "Determining support"
	NSGroupchatField = "urn:xmpp:mam:2#groupchat-field" // XEP-0313: include-groupchat understood
	NSSID            = "urn:xmpp:sid:0"                 // XEP-0359
	NSFulltext       = "urn:xmpp:fulltext:0"            // XEP-0431 full-text search in MAM
	// FieldFulltext is XEP-0431's query form field.
	FieldFulltext  = "{" + NSFulltext + "}fulltext"
	NSRSM          = "http://jabber.org/protocol/rsm"
	NSForward      = "urn:xmpp:forward:0" // XEP-0297
	NSDelay        = "urn:xmpp:delay"     // XEP-0203
	NSData         = "jabber:x:data"      // XEP-0004
	NSDataValidate = "http://jabber.org/protocol/xdata-validate"
	NSHints        = "urn:xmpp:hints" // XEP-0334
	NSChatStates   = "http://jabber.org/protocol/chatstates"
	NSCarbons      = "urn:xmpp:carbons:2"

	nsClient = "jabber:client"
)

// Payloads that make a message worth archiving even without a body
// (XEP-0313 "User Archives": "MAY include additional non-conversation messages").
// Each is something a user expects to find again on another device:
// delivery state, end-to-end encrypted content, calls, invitations and
// edits of earlier messages.
const (
	nsReceipts     = "urn:xmpp:receipts"              // XEP-0184
	nsMarkers      = "urn:xmpp:chat-markers:0"        // XEP-0333
	nsOMEMOLegacy  = "eu.siacs.conversations.axolotl" // XEP-0384 ≤0.3
	nsOMEMO2       = "urn:xmpp:omemo:2"               // XEP-0384
	nsEME          = "urn:xmpp:eme:0"                 // XEP-0380
	nsPGPLegacy    = "jabber:x:encrypted"             // XEP-0027
	nsOX           = "urn:xmpp:openpgp:0"             // XEP-0373
	nsJMI          = "urn:xmpp:jingle-message:0"      // XEP-0353
	nsConference   = "jabber:x:conference"            // XEP-0249
	nsMUCUser      = "http://jabber.org/protocol/muc#user"
	nsOccupantID   = "urn:xmpp:occupant-id:0"     // XEP-0421
	nsRetract      = "urn:xmpp:message-retract:1" // XEP-0424
	nsCorrect      = "urn:xmpp:message-correct:0" // XEP-0308
	nsReactions    = "urn:xmpp:reactions:0"       // XEP-0444
	nsMAM0, nsMAM1 = "urn:xmpp:mam:0", "urn:xmpp:mam:1"
	nsMAMTmp       = "urn:xmpp:mam:tmp"
	nsCarbonsOld   = "urn:xmpp:carbons:1"
)

var worthKeeping = map[string]bool{
	nsReceipts: true, nsMarkers: true,
	nsOMEMOLegacy: true, nsOMEMO2: true, nsEME: true, nsPGPLegacy: true, nsOX: true,
	nsJMI: true, nsConference: true,
	nsRetract: true, nsCorrect: true, nsReactions: true,
}

// Archive policies (XEP-0441 'default' values).
const (
	policyAlways = "always"
	policyNever  = "never"
	policyRoster = "roster"
)
