package bosh

import (
	"bytes"
	"errors"
	"strconv"

	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/stream"
)

// Namespaces of XEP-0124's <body/> wrapper and of XEP-0206's attributes.
const (
	NSHTTPBind = "http://jabber.org/protocol/httpbind"
	NSXBOSH    = "urn:xmpp:xbosh"
)

// protocolVersion is the version of XEP-0124 implemented (1.11.2, whose
// 'ver' is major.minor).
const protocolVersion = "1.11"

// maxRID is the largest request id (XEP-0124 §14.1: 2^53-1, the largest
// integer a double holds exactly).
const maxRID = 1<<53 - 1

// Terminal binding conditions (XEP-0124 §17.2).
const (
	condBadRequest         = "bad-request"
	condHostUnknown        = "host-unknown"
	condImproperAddressing = "improper-addressing"
	condItemNotFound       = "item-not-found"
	condPolicyViolation    = "policy-violation"
	condRemoteConnFailed   = "remote-connection-failed"
	condRemoteStreamError  = "remote-stream-error"
	condSystemShutdown     = "system-shutdown"
	condUndefined          = "undefined-condition"
)

// request is a client's <body/>: its attributes, and its children as the
// bytes of the c2s stream they stand for.
type request struct {
	rid       uint64
	sid       string
	to        string
	lang      string
	ver       string // BOSH version; "" from a legacy client
	version   string // xmpp:version, the stream's
	content   string
	wait      int // -1: absent
	hold      int // -1: absent
	ack       uint64
	terminate bool
	restart   bool
	payload   []byte // the children, with jabber:client as the default namespace
	children  int
}

// errBadRequest is a <body/> that breaks XEP-0124's syntax.
var errBadRequest = errors.New("bosh: bad request")

// parseRequest reads a request's <body/>: one element, the wrapper, whose
// children (XEP-0124 §6: complete elements, no character data) are the
// payloads. Stanzas written without a namespace inherit the wrapper's,
// which XEP-0206 §2 says many clients mean as jabber:client: every
// element in the wrapper's namespace below it is read as jabber:client.
// The reader enforces c2s's limits on each child and XMPP's restrictions
// on XML (no comments, processing instructions, DTDs).
func parseRequest(b []byte, lim xml.Limits) (*request, error) {
	src := bytes.NewReader(b)
	rd := xml.NewReader(src, lim, 0)
	root, _, err := rd.ReadStreamStart()
	if err != nil || !root.Is(NSHTTPBind, "body") {
		return nil, errBadRequest
	}
	req := &request{
		sid:     root.Attr("sid"),
		to:      root.Attr("to"),
		lang:    attrNS(root, xml.NSXML, "lang"),
		ver:     root.Attr("ver"),
		version: attrNS(root, NSXBOSH, "version"),
		content: root.Attr("content"),
		wait:    -1,
		hold:    -1,
	}
	if req.rid, err = strconv.ParseUint(root.Attr("rid"), 10, 64); err != nil || req.rid == 0 || req.rid > maxRID {
		return nil, errBadRequest
	}
	for _, n := range []struct {
		name string
		v    *int
	}{{"wait", &req.wait}, {"hold", &req.hold}} {
		if s := root.Attr(n.name); s != "" {
			v, err := strconv.ParseUint(s, 10, 16)
			if err != nil {
				return nil, errBadRequest
			}
			*n.v = int(v)
		}
	}
	if s := root.Attr("ack"); s != "" {
		if req.ack, err = strconv.ParseUint(s, 10, 64); err != nil {
			return nil, errBadRequest
		}
	}
	switch root.Attr("type") {
	case "":
	case "terminate":
		req.terminate = true
	default:
		return nil, errBadRequest
	}
	switch attrNS(root, NSXBOSH, "restart") {
	case "", "false", "0":
	case "true", "1":
		req.restart = true
	default:
		return nil, errBadRequest
	}
	var payload bytes.Buffer
	for {
		el, err := rd.Next()
		if errors.Is(err, xml.ErrStreamEnd) {
			break
		}
		if err != nil {
			return nil, errBadRequest
		}
		clientNamespace(el)
		el.WriteTo(&payload, stream.NSClient)
		req.children++
	}
	// Nothing but whitespace after the wrapper: the reader stopped at
	// the last '>' of the document.
	if last := bytes.LastIndexByte(b, '>'); rd.Buffered()+src.Len() != len(b)-last-1 || len(bytes.TrimSpace(b[last+1:])) != 0 {
		return nil, errBadRequest
	}
	req.payload = payload.Bytes()
	return req, nil
}

// clientNamespace moves el and its descendants from the wrapper's
// namespace to jabber:client (XEP-0206 §2).
func clientNamespace(el *xml.Element) {
	if el.Space == NSHTTPBind {
		el.Space = stream.NSClient
	}
	for _, c := range el.Elements() {
		clientNamespace(c)
	}
}

// attrNS returns the value of the attribute space:local, or "".
func attrNS(e *xml.Element, space, local string) string {
	for _, a := range e.Attrs {
		if a.Space == space && a.Local == local {
			return a.Value
		}
	}
	return ""
}

// bodyWriter renders a response's <body/>.
type bodyWriter struct {
	b bytes.Buffer
}

// start opens the wrapper with the namespace declarations its content
// needs: the stream prefix for <stream:features/> and <stream:error/>
// (XEP-0206 §2), xmpp: for XEP-0206's attributes.
func (w *bodyWriter) start(streamPrefix, xmppPrefix bool) {
	w.b.WriteString(`<body xmlns='` + NSHTTPBind + `'`)
	if streamPrefix {
		w.b.WriteString(` xmlns:stream='` + stream.NS + `'`)
	}
	if xmppPrefix {
		w.b.WriteString(` xmlns:xmpp='` + NSXBOSH + `'`)
	}
}

func (w *bodyWriter) attr(name, value string) {
	w.b.WriteString(" " + name + "='")
	xml.EscapeAttr(&w.b, value)
	w.b.WriteByte('\'')
}

// end writes the payloads and closes the wrapper.
func (w *bodyWriter) end(payloads [][]byte) []byte {
	if len(payloads) == 0 {
		w.b.WriteString("/>")
		return w.b.Bytes()
	}
	w.b.WriteByte('>')
	for _, p := range payloads {
		w.b.Write(p)
	}
	w.b.WriteString("</body>")
	return w.b.Bytes()
}

// terminateBody is a terminal binding error with no session behind it
// (unknown sid, a request that does not parse).
func terminateBody(condition string) []byte {
	var w bodyWriter
	w.start(false, false)
	w.attr("type", "terminate")
	w.attr("condition", condition)
	return w.end(nil)
}
