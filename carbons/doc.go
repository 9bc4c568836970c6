// Package carbons implements Message Carbons (XEP-0280, version 1.0.1).
//
// A session turns carbons on and off with <enable/> and <disable/> iq sets
// to its own account (§4, §5); repeating either is answered with a result
// (Business Rules). Addressed to another account they are not-allowed.
//
// Sent carbons (§8): when a local client sends an eligible message, each
// other available, carbons-enabled session of the sender gets
// <sent><forwarded><message/></forwarded></sent> from the sender's bare
// JID. The copy carries <stanza-id by=SENDER-BARE id=…/> (XEP-0359) with
// the id the sender's archive gave the message, so the other devices can
// match it with what they later page through in MAM (XEP-0313). The id comes
// from MessageEvent.SenderArchiveID, which the archive module sets in its
// outbound hook: cmd/skald MUST register the archive module before this
// one, since hooks run in registration order.
//
// Received carbons (§7): once the router has delivered an eligible message
// to a local account, each available, carbons-enabled session of the
// recipient that did not get it (not a target of the delivery, not the
// sending session) gets <received>…</received> with the delivered stanza,
// which already carries the recipient archive's stanza-id (the archive's
// inbound hook, registered earlier, adds it).
//
// A message from one resource of an account to another of the same account
// is one event: it produces no sent carbons, only received copies for the
// account's other carbons-enabled sessions (never one for the sender), so
// every session sees it once.
//
// Eligibility follows the rules of §6: groupchat is never copied, nor
// headline; type chat is; normal is when it has a <body/> or IM payloads
// (XEP-0085 chat states, XEP-0184 receipts, XEP-0333 markers); MUC
// invitations (XEP-0249 direct, XEP-0045 mediated) are; private messages
// from a MUC participant (marked with <x xmlns='…muc#user'/>) are not
// copied on receipt, while one's own private messages to participants are
// on sending. An error is copied when it answers an eligible message
// (§6), in either direction: the module remembers eligible messages by
// (account, peer's bare JID, id) for ten minutes, at most 100000 of them
// (answers.go), and an error between the two with that id is an answer;
// errors the server itself sends a client for a message it sent (unknown
// recipient, unreachable domain) reach the module with that message
// (router.BounceObserver) and are copied as received carbons when it was
// eligible. Never copied: messages with <private xmlns='urn:xmpp:carbons:2'/>
// or the XEP-0334 <no-copy/> hint (§9), messages that already are carbons,
// and MAM results. These are the rules of urn:xmpp:carbons:rules:0, which
// the server advertises.
//
// <private/> is stripped from the stanza before it is delivered to a local
// recipient (§9, "SHOULD remove"); the module remembers it in
// MessageEvent.NoCopy so no received copies go out. It stays in messages to
// other servers, whose job the stripping is.
//
// Features: urn:xmpp:carbons:2 and urn:xmpp:carbons:rules:0, on the
// server and on accounts.
//
// Config: none.
package carbons
