package mam

import (
	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/jid"
)

// archivedCopy decides whether a message goes into an archive and, if so,
// returns the copy to store (st itself is never modified).
//
// Rules, in order:
//  1. Types chat and normal (absent = normal; RFC 6121 §5.2.2 also treats
//     unknown types as normal). Never groupchat (stored by the room's own
//     archive, not here; a user archive that held them would have to
//     advertise #groupchat-available, XEP-0313 "Determining support") or
//     error. Headline only with a <store/> hint: XEP-0313 "User Archives"
//     finds headlines "not generally suggested", but XEP-0334 "Store" says
//     a message with the hint that is not of type error SHOULD be stored.
//  2. Never with a <no-store/> or <no-permanent-store/> hint (XEP-0334).
//  3. Never MAM results or carbons wrappers: those are copies of messages
//     already archived where they belong.
//  4. The copy loses every child in dont_archive_namespaces (chat states
//     by default) and is kept only if something worth keeping remains:
//     <body/>, <subject/>, a <store/> hint, or a payload in worthKeeping
//     (receipts, markers, encrypted content, calls, invitations, edits,
//     retractions, reactions), or a mediated MUC invitation.
func archivedCopy(st *xml.Element, dontNS map[string]bool) (*xml.Element, bool) {
	typ := st.Attr("type")
	switch typ {
	case "groupchat", "error":
		return nil, false
	}
	store := false
	for _, c := range st.Elements() {
		switch c.Space {
		case NSHints:
			switch c.Local {
			case "no-store", "no-permanent-store":
				return nil, false
			case "store":
				store = true
			}
		case NS, nsMAM0, nsMAM1, nsMAMTmp:
			if c.Local == "result" {
				return nil, false
			}
		case NSCarbons, nsCarbonsOld:
			if c.Local == "sent" || c.Local == "received" {
				return nil, false
			}
		}
	}
	if typ == "headline" && !store {
		return nil, false
	}
	cp := st.Clone()
	if len(dontNS) > 0 {
		cp.RemoveChildren(func(c *xml.Element) bool { return dontNS[c.Space] })
	}
	if store {
		return cp, true
	}
	for _, c := range cp.Elements() {
		switch {
		case c.Space == st.Space && (c.Local == "body" || c.Local == "subject"):
			return cp, true
		case worthKeeping[c.Space]:
			return cp, true
		case c.Space == nsMUCUser && c.Local == "x" && c.Child(nsMUCUser, "invite") != nil:
			return cp, true
		}
	}
	return nil, false
}

// stripStanzaIDs removes from the top level of st every <stanza-id
// xmlns='urn:xmpp:sid:0'/> that no client may trust (XEP-0359 §4, §5):
//   - one whose 'by' is the given archive (a bare JID): a forgery or a
//     stale copy, which the entity named in 'by' must replace with its own;
//   - one whose 'by' is that archive's domain: this server announces
//     urn:xmpp:sid:0 on its domains but never stamps ids by them, so such
//     an element can only be forged;
//   - one that is malformed (a child element, or an attribute besides 'by'
//     and 'id'): routing entities are to make sure stanza-ids carry only
//     the attributes defined, and the element has no children.
//
// Well-formed stanza-ids by other entities (a MUC service, another
// server) pass untouched.
func stripStanzaIDs(st *xml.Element, by jid.JID) {
	want, domain := by.String(), by.Domain()
	st.RemoveChildren(func(c *xml.Element) bool {
		if !c.Is(NSSID, "stanza-id") {
			return false
		}
		if malformedStanzaID(c) {
			return true
		}
		b := c.Attr("by")
		if b == want || b == domain {
			return true
		}
		// Compare in canonical form: "Juliet@Capulet.lit" names the same
		// archive and must not slip through.
		j, err := jid.Parse(b)
		return err == nil && (j == by || j == by.DomainJID())
	})
}

// malformedStanzaID reports whether a stanza-id has a child element or an
// attribute other than an unqualified 'by' or 'id'.
func malformedStanzaID(c *xml.Element) bool {
	if c.FirstElement() != nil {
		return true
	}
	for _, a := range c.Attrs {
		if a.Space != "" || (a.Local != "by" && a.Local != "id") {
			return true
		}
	}
	return false
}

// originID returns the XEP-0359 origin-id of a message, "" if none.
func originID(st *xml.Element) string {
	if o := st.Child(NSSID, "origin-id"); o != nil {
		return o.Attr("id")
	}
	return ""
}

// stanzaID returns the <stanza-id/> element Skald adds for an archive.
func stanzaID(by jid.JID, id string) *xml.Element {
	return xml.New(NSSID, "stanza-id", "by", by.String(), "id", id)
}
