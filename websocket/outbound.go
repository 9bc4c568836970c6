package websocket

import (
	"bytes"
	"errors"

	"github.com/skald-xmpp/skald/internal/xmlcut"
	"github.com/skald-xmpp/skald/stream"
)

// outbound cuts the byte stream c2s writes into RFC 7395 frames: the
// stream header becomes <open/>, the stream's end tag <close/>, and every
// other top-level element one frame of its own, with the namespace
// declarations it inherited from the stream header added to it
// (xmlns="jabber:client" where it declares no default namespace, and
// xmlns:stream on <stream:features/> and <stream:error/>), so that each
// frame stands alone, meaning what it meant in the stream (§3.3.3). The XML
// declaration and whitespace between elements, which RFC 7395 does not
// carry, are dropped; a write of whitespace alone is a keepalive, which
// the connection sends as a WebSocket ping instead (conn.Write).
//
// It reads only what c2s itself serialises, cut by internal/xmlcut. It
// belongs to the one goroutine that writes (c2s's flusher).
type outbound struct {
	pending []byte // the start of an element whose rest has not been written yet
	// sawSuccess is called when a SASL <success/> goes out: the client
	// restarts the stream with a new <open/> next.
	sawSuccess func()
}

var errOutput = errors.New("websocket: unexpected output from the stream")

// split appends p to what is pending and returns the complete frames, or
// reports that p is a whitespace keepalive.
func (o *outbound) split(p []byte) (frames [][]byte, keepalive bool, err error) {
	if len(o.pending) == 0 && len(p) > 0 && len(bytes.TrimLeft(p, " \t\r\n")) == 0 {
		return nil, true, nil
	}
	o.pending = append(o.pending, p...)
	b := o.pending
	for {
		b = bytes.TrimLeft(b, " \t\r\n")
		if len(b) == 0 {
			break
		}
		if b[0] != '<' {
			return nil, false, errOutput
		}
		n, complete := xmlcut.Unit(b)
		if !complete {
			break
		}
		unit := b[:n]
		b = b[n:]
		if f := o.frame(unit); f != nil {
			frames = append(frames, f)
		}
	}
	// Keep the incomplete rest for the next write, in a fresh slice: the
	// frames returned may share the old one.
	o.pending = append([]byte(nil), b...)
	return frames, false, nil
}

// frame turns one top-level unit into its frame, or nil for what is not
// sent (the XML declaration).
func (o *outbound) frame(unit []byte) []byte {
	name, attrs, _ := xmlcut.StartTag(unit)
	switch {
	case unit[1] == '?':
		return nil
	case name == "stream:stream" && unit[1] != '/':
		var b bytes.Buffer
		b.WriteString(`<open xmlns="` + NSFraming + `"`)
		for _, a := range attrs {
			if a.Name == "xmlns" || len(a.Name) > 6 && a.Name[:6] == "xmlns:" {
				continue
			}
			b.WriteString(" " + a.Name + "=" + a.Quoted)
		}
		b.WriteString("/>")
		return b.Bytes()
	case unit[1] == '/': // </stream:stream>
		return []byte(`<close xmlns="` + NSFraming + `"/>`)
	}
	// What the element inherited from the stream header: the stream
	// prefix, and jabber:client as the default namespace (for the
	// element itself if unprefixed, else for its unqualified children).
	decl := ""
	if len(name) > 7 && name[:7] == "stream:" {
		decl = ` xmlns:stream="` + stream.NS + `"`
	}
	if !xmlcut.HasAttr(attrs, "xmlns") {
		decl += ` xmlns="` + stream.NSClient + `"`
	}
	if name == "success" && xmlcut.AttrValue(attrs, "xmlns") == stream.NSSASL && o.sawSuccess != nil {
		o.sawSuccess()
	}
	if decl == "" {
		return unit
	}
	f := make([]byte, 0, len(unit)+len(decl))
	f = append(f, unit[:1+len(name)]...)
	f = append(f, decl...)
	return append(f, unit[1+len(name):]...)
}
