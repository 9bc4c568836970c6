package pie

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/jid"
	"github.com/skald-xmpp/skald/mam"
	"github.com/skald-xmpp/skald/storage"
)

// Namespaces of the format.
const (
	NS         = "urn:xmpp:pie:0"     // XEP-0227 <server-data>, <host>, <user>
	NSMAM      = "urn:xmpp:pie:0#mam" // XEP-0227 "Message Archive" <archive>
	NSXInclude = "http://www.w3.org/2001/XInclude"

	nsClient = "jabber:client"
)

// Item is one archived message.
type Item struct {
	ID      string    // archive id; "" if the document has none
	Stamp   time.Time // when the server archived it; UTC, microseconds
	Message *xml.Element
}

// Record is an item read from a document, with its archive owner.
type Record struct {
	Owner jid.JID // bare JID: the <user> name at the <host> jid
	Item
	File string // the file it was read from ("" for Decode's reader)
	Line int    // line of its <result>
}

// Error is a problem with a document, at a place in it.
type Error struct {
	File string // "" for Decode's reader
	Line int
	Err  error
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		b.WriteByte(':')
	}
	fmt.Fprintf(&b, "%d: %v", e.Line, e.Err)
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// ParseStanza reads a serialised message stanza under the server's XML
// rules (the limits of xml.DefaultLimits, except for size). A stored
// stanza may rely on an inherited jabber:client default namespace, so it
// is read inside a jabber:client root, as the mam module does.
func ParseStanza(b []byte) (*xml.Element, error) {
	src := io.MultiReader(strings.NewReader(`<s xmlns="jabber:client">`), bytes.NewReader(b), strings.NewReader(`</s>`))
	lim := xml.DefaultLimits
	lim.MaxStanzaBytes = int64(len(b)) + 1024
	rd := xml.NewReader(src, lim, min(len(b)+64, 4096))
	if _, _, err := rd.ReadStreamStart(); err != nil {
		return nil, err
	}
	st, err := rd.Next()
	if err != nil {
		return nil, err
	}
	if !st.Is(nsClient, "message") {
		return nil, fmt.Errorf("stanza is {%s}%s, not a jabber:client message", st.Space, st.Local)
	}
	if _, err := rd.Next(); !errors.Is(err, xml.ErrStreamEnd) {
		return nil, errors.New("more than one stanza")
	}
	return st, nil
}

// FromArchived returns the export item of a stored message; id is its
// archive id as clients see it.
func FromArchived(m *storage.ArchivedMessage, id string) (Item, error) {
	st, err := ParseStanza(m.Stanza)
	if err != nil {
		return Item{}, err
	}
	return Item{ID: id, Stamp: m.Stamp.UTC().Truncate(time.Microsecond), Message: st}, nil
}

// ToArchived derives what the archive stores of an item of owner's
// archive (ID is left for the store to assign; the document's id cannot
// be kept, since archive ids encode the store's own order).
//
// Direction: a message from the owner (any resource) is outgoing, with
// the peer in 'to'; one to the owner is incoming, with the peer in
// 'from'; a message from the owner to the owner is outgoing, as the
// server archives it (once). A message without 'from' to someone else is
// taken as outgoing, as stored by servers that archive what the client
// sent. Anything else (neither party is the owner, or the peer is
// missing or not a valid JID) is an error. As when archiving live,
// <stanza-id/> elements claiming to be from the owner's archive are
// dropped: their ids belong to the exporting server.
func ToArchived(owner jid.JID, it Item) (*storage.ArchivedMessage, error) {
	owner = owner.Bare()
	st := it.Message
	if st == nil || !st.Is(nsClient, "message") {
		return nil, errors.New("item holds no jabber:client message")
	}
	from, err := optJID(st, "from")
	if err != nil {
		return nil, err
	}
	to, err := optJID(st, "to")
	if err != nil {
		return nil, err
	}
	var peer jid.JID
	outgoing := false
	switch {
	case !from.IsZero() && from.Bare() == owner:
		if to.IsZero() {
			return nil, fmt.Errorf("message from %s has no 'to'", owner)
		}
		peer, outgoing = to, true
	case !to.IsZero() && to.Bare() == owner:
		if from.IsZero() {
			return nil, fmt.Errorf("message to %s has no 'from'", owner)
		}
		peer = from
	case from.IsZero() && !to.IsZero():
		peer, outgoing = to, true
	default:
		return nil, fmt.Errorf("message is neither from nor to %s", owner)
	}

	cp := st.Clone()
	cp.RemoveChildren(func(c *xml.Element) bool {
		if !c.Is(mam.NSSID, "stanza-id") {
			return false
		}
		by, err := jid.Parse(c.Attr("by"))
		return err == nil && by == owner
	})
	oid := ""
	if o := cp.Child(mam.NSSID, "origin-id"); o != nil {
		oid = o.Attr("id")
	}
	return &storage.ArchivedMessage{
		Owner:        owner.String(),
		With:         peer.Bare().String(),
		WithResource: peer.Resource(),
		Outgoing:     outgoing,
		Stamp:        it.Stamp.UTC().Truncate(time.Microsecond),
		OriginID:     oid,
		Body:         cp.ChildText(nsClient, "body"),
		Stanza:       []byte(cp.String()),
	}, nil
}

func optJID(st *xml.Element, attr string) (jid.JID, error) {
	s := st.Attr(attr)
	if s == "" {
		return jid.JID{}, nil
	}
	j, err := jid.Parse(s)
	if err != nil {
		return jid.JID{}, fmt.Errorf("message '%s' %q: %v", attr, s, err)
	}
	return j, nil
}
