package s2s

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net"
	"time"

	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/stanza"
	"github.com/skald-xmpp/skald/stream"
)

// Namespaces of server streams.
const (
	nsDialback        = "jabber:server:dialback"     // XEP-0220 elements, prefix db
	nsDialbackFeature = "urn:xmpp:features:dialback" // XEP-0220 §2.1 stream feature
	nsDialbackErrors  = "urn:xmpp:features:dialback" // <errors/> child: we understand type='error'
	alpnServer        = "xmpp-server"                // XEP-0368 direct TLS
)

// header renders a server stream header (RFC 6120 §4.7, §4.8): content
// namespace jabber:server, the dialback prefix declared (XEP-0220 §2.1.1).
func header(from, to, id string) []byte {
	var b bytes.Buffer
	b.WriteString(`<?xml version='1.0'?><stream:stream xmlns="` + stream.NSServer +
		`" xmlns:stream="` + stream.NS + `" xmlns:db="` + nsDialback + `"`)
	attr := func(name, v string) {
		if v != "" {
			b.WriteString(" " + name + `="`)
			xml.EscapeAttr(&b, v)
			b.WriteByte('"')
		}
	}
	attr("from", from)
	attr("to", to)
	attr("id", id)
	b.WriteString(` version="1.0">`)
	return b.Bytes()
}

// dbElement renders a dialback element (db:result or db:verify) with the
// db prefix of our header. typ or key may be empty.
func dbElement(local, from, to, id, typ, key string) []byte {
	var b bytes.Buffer
	b.WriteString("<db:" + local)
	for _, a := range [][2]string{{"from", from}, {"to", to}, {"id", id}, {"type", typ}} {
		if a[1] != "" {
			b.WriteString(" " + a[0] + `="`)
			xml.EscapeAttr(&b, a[1])
			b.WriteByte('"')
		}
	}
	if key == "" {
		b.WriteString("/>")
		return b.Bytes()
	}
	b.WriteByte('>')
	xml.EscapeText(&b, key)
	b.WriteString("</db:" + local + ">")
	return b.Bytes()
}

// dbError renders a db:result of type error with a stanza error
// condition (XEP-0220 §2.4, for a peer that announced <errors/>).
func dbError(from, to, cond string) []byte {
	b := dbElement("result", from, to, "", "error", "")
	return append(b[:len(b)-2:len(b)-2], []byte(`><error type="cancel"><`+cond+` xmlns="`+stanza.NSStanzas+`"/></error></db:result>`)...)
}

// newStreamID returns an unguessable stream id: dialback keys bind it.
func newStreamID() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// toClientNS rewrites, in place, a stanza read from a server stream to
// the jabber:client namespace the router works in: the stanza and every
// descendant that inherited jabber:server.
func toClientNS(e *xml.Element) { renameNS(e, stream.NSServer, stanza.NSClient) }

// serverCopy returns a copy of a router stanza in jabber:server, for a
// server stream.
func serverCopy(e *xml.Element) *xml.Element {
	c := e.Clone()
	renameNS(c, stanza.NSClient, stream.NSServer)
	return c
}

func renameNS(e *xml.Element, from, to string) {
	if e.Space == from {
		e.Space = to
	}
	for _, c := range e.Elements() {
		renameNS(c, from, to)
	}
}

// writeAll writes b with a deadline.
func writeAll(c net.Conn, timeout time.Duration, b ...[]byte) error {
	c.SetWriteDeadline(time.Now().Add(timeout))
	bufs := net.Buffers(b)
	_, err := bufs.WriteTo(c)
	return err
}

// errStreamClosed is a peer that ended its stream.
var errStreamClosed = errors.New("s2s: stream closed by peer")

// readElement reads the next top-level element with a deadline; a
// <stream:error/> becomes an error.
func readElement(rd *xml.Reader, c net.Conn, timeout time.Duration) (*xml.Element, error) {
	c.SetReadDeadline(time.Now().Add(timeout))
	el, err := rd.Next()
	if err != nil {
		if errors.Is(err, xml.ErrStreamEnd) {
			return nil, errStreamClosed
		}
		return nil, err
	}
	if el.Is(stream.NS, "error") {
		cond := "undefined-condition"
		if f := el.ChildNS(stream.NSErrors); f != nil {
			cond = f.Local
		}
		return nil, &stream.Error{Condition: stream.Condition(cond), Text: "from peer"}
	}
	return el, nil
}
