package push

import (
	"strings"

	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/stanza"
)

const (
	nsCarbons = "urn:xmpp:carbons:2"
	nsForward = "urn:xmpp:forward:0"
)

// encryptedPayloads are end-to-end encrypted contents: the server cannot
// see whether they carry something a user reads, so they count as if
// they did (OMEMO in its legacy and current namespaces, XEP-0027,
// XEP-0373).
var encryptedPayloads = []struct{ space, local string }{
	{"eu.siacs.conversations.axolotl", "encrypted"},
	{"urn:xmpp:omemo:1", "encrypted"},
	{"urn:xmpp:omemo:2", "encrypted"},
	{"jabber:x:encrypted", "x"},
	{"urn:xmpp:openpgp:0", "openpgp"},
}

// worthPush reports whether message m, to account (a bare JID), is one a
// user would want their phone woken for (doc.go, "Which messages"): a
// body, an encrypted payload or a call (XEP-0353 propose), in a message
// that is not an error, a headline or a groupchat subject change; a
// carbon copy counts by what it forwards, and only when received (a sent
// copy is the user's own message).
func worthPush(m *xml.Element, account string) bool {
	switch m.Attr("type") {
	case "error", "headline":
		return false
	}
	if inner, sent := carbon(m, account); inner != nil {
		return !sent && inner.Attr("type") != "error" && inner.Attr("type") != "headline" && worthPush(inner, "")
	}
	for _, p := range encryptedPayloads {
		if m.Child(p.space, p.local) != nil {
			return true
		}
	}
	if m.Child("urn:xmpp:jingle-message:0", "propose") != nil {
		return true
	}
	if m.Attr("type") == "groupchat" && m.Child(stanza.NSClient, "subject") != nil &&
		m.Child(stanza.NSClient, "body") == nil && m.Child(stanza.NSClient, "thread") == nil {
		return false // a subject change (XEP-0045 §8.1): with a body it is a message
	}
	return body(m) != ""
}

// carbon returns the message an XEP-0280 copy to account forwards, and
// whether it is a sent copy; nil for a message that is not one. A copy
// comes from the account's own bare JID (§11): one from anybody else is
// forged (to put words in another's mouth) and is not unwrapped.
func carbon(m *xml.Element, account string) (*xml.Element, bool) {
	if account == "" || m.Attr("from") != account {
		return nil, false
	}
	for _, c := range m.Elements() {
		if c.Space != nsCarbons || (c.Local != "sent" && c.Local != "received") {
			continue
		}
		if fw := c.Child(nsForward, "forwarded"); fw != nil {
			if inner := fw.Child(stanza.NSClient, "message"); inner != nil {
				return inner, c.Local == "sent"
			}
		}
	}
	return nil, false
}

// body is the text of m's first non-blank body.
func body(m *xml.Element) string {
	for _, b := range m.ChildrenNamed(stanza.NSClient, "body") {
		if t := b.Text(); strings.TrimSpace(t) != "" {
			return t
		}
	}
	return ""
}

// summary returns what the summary form says of message m to account:
// its sender and body (of the forwarded message for a carbon copy). The
// body is cut to maxSummaryBody bytes, at a character boundary.
func summary(m *xml.Element, account string) (sender, text string) {
	if inner, _ := carbon(m, account); inner != nil {
		m = inner
	}
	text = body(m)
	if len(text) > maxSummaryBody {
		cut := maxSummaryBody
		for cut > 0 && !utf8RuneStart(text[cut]) {
			cut--
		}
		text = text[:cut] + "…"
	}
	return m.Attr("from"), text
}

// maxSummaryBody bounds last-message-body: a push shows a line or two.
const maxSummaryBody = 1024

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }
