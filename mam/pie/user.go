package pie

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/jid"
	"github.com/skald-xmpp/skald/mam"
	"github.com/skald-xmpp/skald/storage"
)

// Namespaces of a user's data other than the archive (XEP-0227 §4).
const (
	NSSCRAM   = "urn:xmpp:pie:0#scram" // XEP-0227 v1.1 <scram-credentials>
	NSRoster  = "jabber:iq:roster"
	NSPrivate = "jabber:iq:private"
	NSVCard   = "vcard-temp"
)

// UserRecord is a <user> start tag: the account and its plaintext
// password, if the document carries one (XEP-0227 discourages it).
type UserRecord struct {
	Owner       jid.JID
	Password    string
	HasPassword bool
	File        string
	Line        int
}

// UserPart is one child element of a <user> (other than <archive>),
// read whole.
type UserPart struct {
	Owner   jid.JID
	Element *xml.Element
	File    string
	Line    int
}

// Errorf returns a problem with p as an *Error at its place.
func (p UserPart) Errorf(format string, args ...any) error {
	return &Error{File: p.File, Line: p.Line, Err: fmt.Errorf(format, args...)}
}

// SCRAM mechanisms of <scram-credentials mechanism=…>.
const (
	MechSHA1   = "SCRAM-SHA-1"
	MechSHA256 = "SCRAM-SHA-256"
)

// ParseSCRAM reads <scram-credentials xmlns='urn:xmpp:pie:0#scram'
// mechanism=…> with <iter-count/>, <salt/>, <server-key/> and
// <stored-key/> (base64, keys as long as the hash output).
func ParseSCRAM(el *xml.Element) (mech string, c storage.Credential, err error) {
	mech = el.Attr("mechanism")
	size := 0
	switch mech {
	case MechSHA1:
		size = 20
	case MechSHA256:
		size = 32
	default:
		return "", c, fmt.Errorf("<scram-credentials mechanism=%q>: want %s or %s", mech, MechSHA1, MechSHA256)
	}
	n, err := strconv.Atoi(strings.TrimSpace(el.ChildText(NSSCRAM, "iter-count")))
	if err != nil || n < 1 {
		return "", c, fmt.Errorf("<scram-credentials>: <iter-count> is not a positive number")
	}
	c.Iterations = n
	b64 := func(name string, want int) ([]byte, error) {
		e := el.Child(NSSCRAM, name)
		if e == nil {
			return nil, fmt.Errorf("<scram-credentials> without <%s>", name)
		}
		b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(e.Text()))
		if err != nil || len(b) == 0 || (want > 0 && len(b) != want) {
			return nil, fmt.Errorf("<scram-credentials>: <%s> is not base64 of the right length", name)
		}
		return b, nil
	}
	if c.Salt, err = b64("salt", 0); err != nil {
		return "", c, err
	}
	if c.ServerKey, err = b64("server-key", size); err != nil {
		return "", c, err
	}
	if c.StoredKey, err = b64("stored-key", size); err != nil {
		return "", c, err
	}
	return mech, c, nil
}

// SCRAMElement is the <scram-credentials/> of one credential.
func SCRAMElement(mech string, c storage.Credential) *xml.Element {
	el := xml.New(NSSCRAM, "scram-credentials").SetAttr("mechanism", mech)
	add := func(name, text string) { el.Append(xml.New(NSSCRAM, name).AppendText(text)) }
	add("iter-count", strconv.Itoa(c.Iterations))
	add("salt", base64.StdEncoding.EncodeToString(c.Salt))
	add("server-key", base64.StdEncoding.EncodeToString(c.ServerKey))
	add("stored-key", base64.StdEncoding.EncodeToString(c.StoredKey))
	return el
}

// NSDisabled is Skald's own element for an account an operator disabled
// (storage.Users.SetUserDisabled), for which XEP-0227 has no field:
// <disabled xmlns='urn:skald:disabled' since='…'>reason</disabled>,
// since an XEP-0082 date-time. Other importers read past it as unknown
// data; without it a restored backup would let the disabled accounts
// log in again.
const NSDisabled = "urn:skald:disabled"

// DisabledElement is the <disabled/> of a disabled account's status.
func DisabledElement(st storage.AccountStatus) *xml.Element {
	el := xml.New(NSDisabled, "disabled")
	if !st.Since.IsZero() {
		el.SetAttr("since", mam.FormatDateTime(st.Since.UTC()))
	}
	return el.AppendText(st.Reason)
}

// ParseDisabled reads a <disabled/>: the operator's reason, at most
// maxReason bytes. Its since is not kept: disabling again starts anew.
func ParseDisabled(el *xml.Element, maxReason int) (reason string, err error) {
	reason = strings.TrimSpace(el.Text())
	if len(reason) > maxReason {
		return "", fmt.Errorf("<disabled>: the reason is longer than %d bytes", maxReason)
	}
	return reason, nil
}

// ParseRoster reads <query xmlns='jabber:iq:roster'> as a roster get
// result (RFC 6121 §2.1): items with jid, name, subscription, ask and
// groups.
func ParseRoster(el *xml.Element) ([]storage.RosterItem, error) {
	var items []storage.RosterItem
	seen := map[string]bool{}
	for _, it := range el.ChildrenNamed(NSRoster, "item") {
		j, err := jid.Parse(it.Attr("jid"))
		if err != nil {
			return nil, fmt.Errorf("roster <item jid=%q>: %v", it.Attr("jid"), err)
		}
		if j.IsFull() {
			return nil, fmt.Errorf("roster <item jid=%q>: a roster holds bare JIDs", it.Attr("jid"))
		}
		if seen[j.String()] {
			return nil, fmt.Errorf("roster <item jid=%q> twice", j)
		}
		seen[j.String()] = true
		sub := it.Attr("subscription")
		switch sub {
		case "":
			sub = storage.SubNone
		case storage.SubNone, storage.SubTo, storage.SubFrom, storage.SubBoth:
		default:
			return nil, fmt.Errorf("roster <item jid=%q subscription=%q>: want none, to, from or both", j, sub)
		}
		switch it.Attr("ask") {
		case "", "subscribe":
		default:
			return nil, fmt.Errorf("roster <item jid=%q ask=%q>: want subscribe", j, it.Attr("ask"))
		}
		item := storage.RosterItem{JID: j.String(), Name: it.Attr("name"), Subscription: sub, AskOut: it.Attr("ask") == "subscribe"}
		for _, g := range it.ChildrenNamed(NSRoster, "group") {
			if name := g.Text(); name != "" {
				item.Groups = append(item.Groups, name)
			}
		}
		items = append(items, item)
	}
	return items, nil
}

// RosterElement is the <query xmlns='jabber:iq:roster'> of the visible
// items.
func RosterElement(items []storage.RosterItem) *xml.Element {
	q := xml.New(NSRoster, "query")
	for _, it := range items {
		if it.Hidden {
			continue
		}
		e := xml.New(NSRoster, "item").SetAttr("jid", it.JID).SetAttr("subscription", it.Subscription)
		if it.Name != "" {
			e.SetAttr("name", it.Name)
		}
		if it.AskOut {
			e.SetAttr("ask", "subscribe")
		}
		for _, g := range it.Groups {
			e.Append(xml.New(NSRoster, "group").AppendText(g))
		}
		q.Append(e)
	}
	return q
}

// OfflineMessages reads <offline-messages>: jabber:client messages,
// oldest first, each checked to read back under the server's XML rules.
// Stored is the XEP-0203 delay stamp of the message; one without a delay
// gets the one the offline module adds (from domain, stamped now), so
// that clients see it as delayed. Stanzas are serialised as the offline
// module stores them (in an inherited jabber:client namespace).
func OfflineMessages(el *xml.Element, domain string, now time.Time) ([]storage.OfflineMessage, error) {
	var out []storage.OfflineMessage
	for _, m := range el.Elements() {
		if !m.Is(nsClient, "message") {
			return nil, fmt.Errorf("<offline-messages> holds {%s}%s, not a jabber:client message", m.Space, m.Local)
		}
		st, err := ParseStanza([]byte(m.String()))
		if err != nil {
			return nil, fmt.Errorf("offline <message>: %v", err)
		}
		stored := now.UTC().Truncate(time.Second)
		if d := st.Child(mam.NSDelay, "delay"); d != nil {
			if t, err := mam.ParseDateTime(d.Attr("stamp")); err == nil {
				stored = t
			}
		} else {
			st.Append(xml.New(mam.NSDelay, "delay", "from", domain, "stamp", stored.Format("2006-01-02T15:04:05Z")).AppendText("Offline Storage"))
		}
		out = append(out, storage.OfflineMessage{Stanza: st.Bytes(nsClient), Stored: stored.UTC()})
	}
	return out, nil
}

// SubscriptionRequest reads an incoming subscription request, a
// <presence xmlns='jabber:client' type='subscribe' from=…> child of
// <user>: the requester's bare JID and the stanza to keep.
func SubscriptionRequest(el *xml.Element) (jid.JID, []byte, error) {
	if el.Attr("type") != "subscribe" {
		return jid.JID{}, nil, fmt.Errorf("<presence type=%q> in <user>: only subscription requests (type='subscribe') are user data", el.Attr("type"))
	}
	from, err := jid.Parse(el.Attr("from"))
	if err != nil {
		return jid.JID{}, nil, fmt.Errorf("<presence type='subscribe' from=%q>: %v", el.Attr("from"), err)
	}
	return from.Bare(), el.Bytes(""), nil
}

// PrivateDocuments reads <query xmlns='jabber:iq:private'>: one document
// per namespace, as the private module keys them.
func PrivateDocuments(el *xml.Element) ([]storage.Document, error) {
	var docs []storage.Document
	index := map[string]int{}
	for _, c := range el.Elements() {
		if c.Space == "" || c.Space == NSPrivate || c.Space == nsClient || c.Space == "jabber:server" {
			return nil, errors.New("private XML: a stored element needs a namespace of its own (not jabber:client, jabber:server or jabber:iq:private)")
		}
		i, ok := index[c.Space]
		if !ok {
			i = len(docs)
			index[c.Space] = i
			docs = append(docs, storage.Document{Key: c.Space})
		}
		docs[i].XML = append(docs[i].XML, c.Bytes("")...)
	}
	return docs, nil
}
