package websocket

import (
	"bytes"
	"errors"
	"io"

	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/stream"
)

// NSFraming is the namespace of RFC 7395's <open/> and <close/>.
const NSFraming = "urn:ietf:params:xml:ns:xmpp-framing"

// Subprotocol is the WebSocket subprotocol of XMPP (RFC 7395 §3.1).
const Subprotocol = "xmpp"

// streamHeaderStart opens the stream c2s reads, as an RFC 6120 client
// would: jabber:client as the default namespace, the stream prefix bound.
const streamHeaderStart = `<stream:stream xmlns="` + stream.NSClient + `" xmlns:stream="` + stream.NS + `"`

// inbound turns the client's frames into the byte stream c2s reads
// (RFC 7395, framing to closing): <open/> becomes a stream header, <close/> the
// stream's end tag, and any other frame, which must be exactly one
// complete element, passes as it is. It belongs to the goroutine that
// reads the frames.
type inbound struct {
	limits xml.Limits
	// restartAllowed reports whether the server has just ended the
	// stream's negotiation with a SASL <success/>, after which the client
	// opens a new stream with a new <open/> (RFC 7395, stream restarts).
	restartAllowed func() bool
	opened         bool // an <open/> began the current stream
	closed         bool // the client sent <close/>
}

// errAfterClose means a frame came after the client's <close/>; it is
// dropped, the stream having ended.
var errAfterClose = errors.New("websocket: frame after <close/>")

// frame translates one text frame. A *stream.Error ends the stream.
func (in *inbound) frame(b []byte) ([]byte, error) {
	if in.closed {
		return nil, errAfterClose
	}
	if len(bytes.TrimLeft(b, " \t\r\n")) == 0 {
		// Whitespace only: a keepalive, which also keeps the stream's
		// idle timeout from running out.
		return b, nil
	}
	el, err := parseFrame(b, in.limits)
	if err != nil {
		return nil, err
	}
	switch {
	case el.Is(NSFraming, "open"):
		if in.opened && !in.restartAllowed() {
			return nil, stream.New(stream.PolicyViolation, "<open/> is only allowed at the start and after authentication")
		}
		in.opened = true
		return streamHeader(el), nil
	case el.Is(NSFraming, "close"):
		in.closed = true
		return []byte(stream.Close), nil
	case !in.opened && (el.Local == "open" || el.Is(stream.NS, "stream")):
		// An <open/> in the wrong namespace, or an RFC 6120 stream
		// header as an element (RFC 6120 §4.8.1).
		return nil, stream.New(stream.InvalidNamespace, "a WebSocket stream starts with <open xmlns='"+NSFraming+"'/>")
	case !in.opened:
		return nil, stream.New(stream.BadFormat, "a WebSocket stream starts with <open xmlns='"+NSFraming+"'/>")
	}
	return b, nil
}

// parseFrame checks that b is exactly one complete element, parsable on
// its own (RFC 7395 §3.3.3, stream frames: each is a standalone document,
// with its namespaces declared in it), and returns it.
func parseFrame(b []byte, lim xml.Limits) (*xml.Element, error) {
	// The element is read as the only child of a wrapper root, so that
	// the ordinary stream reader enforces the limits and XMPP's
	// restrictions on XML (no comments, processing instructions, DTDs).
	src, tail := bytes.NewReader(b), bytes.NewReader([]byte("</frame>"))
	rd := xml.NewReader(io.MultiReader(bytes.NewReader([]byte("<frame>")), src, tail), lim, 0)
	if _, _, err := rd.ReadStreamStart(); err != nil {
		return nil, frameError(err)
	}
	el, err := rd.Next()
	if err != nil {
		return nil, frameError(err)
	}
	// The frame ends with this element: the next thing is the wrapper's
	// end tag, and nothing follows that (a frame holding "</frame>" would
	// otherwise smuggle a second element past the check).
	if _, err := rd.Next(); !errors.Is(err, xml.ErrStreamEnd) || rd.Buffered() > 0 || src.Len() > 0 || tail.Len() > 0 {
		return nil, stream.New(stream.NotWellFormed, "a frame holds exactly one element")
	}
	return el, nil
}

// frameError maps a frame that does not parse to its stream error; one
// that ends early (a partial element) is not well-formed.
func frameError(err error) error {
	if se := stream.FromReadError(err); se != nil {
		return se
	}
	return stream.New(stream.NotWellFormed, "a frame holds exactly one complete element")
}

// streamHeader renders the stream header an <open/> stands for: its
// addressing, version and language attributes, with the stream's
// namespaces.
func streamHeader(open *xml.Element) []byte {
	var b bytes.Buffer
	b.WriteString(streamHeaderStart)
	for _, a := range open.Attrs {
		name := a.Local
		switch {
		case a.Space == xml.NSXML && a.Local == "lang":
			name = "xml:lang"
		case a.Space != "" || (a.Local != "to" && a.Local != "from" && a.Local != "id" && a.Local != "version"):
			continue
		}
		b.WriteString(" " + name + `="`)
		xml.EscapeAttr(&b, a.Value)
		b.WriteByte('"')
	}
	b.WriteByte('>')
	return b.Bytes()
}
