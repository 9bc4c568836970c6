package websocket

import (
	"bytes"
	"errors"

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
// It reads only what c2s itself serialises (internal/xml: no comments,
// no CDATA, '<' always escaped), so finding where an element ends needs
// only its tags. It belongs to the one goroutine that writes (c2s's
// flusher).
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
		n, complete := elementEnd(b)
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
	name, attrs, _ := parseStartTag(unit)
	switch {
	case unit[1] == '?':
		return nil
	case name == "stream:stream" && unit[1] != '/':
		var b bytes.Buffer
		b.WriteString(`<open xmlns="` + NSFraming + `"`)
		for _, a := range attrs {
			if a.name == "xmlns" || len(a.name) > 6 && a.name[:6] == "xmlns:" {
				continue
			}
			b.WriteString(" " + a.name + "=" + a.quoted)
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
	if !hasAttr(attrs, "xmlns") {
		decl += ` xmlns="` + stream.NSClient + `"`
	}
	if name == "success" && attrValue(attrs, "xmlns") == stream.NSSASL && o.sawSuccess != nil {
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

// elementEnd returns the length of the unit b starts with (b[0] == '<'):
// a processing instruction, the stream header (an unclosed start tag at
// the top), the stream's end tag, or a whole element.
func elementEnd(b []byte) (n int, complete bool) {
	if len(b) > 1 && b[1] == '?' {
		i := bytes.Index(b, []byte("?>"))
		return i + 2, i >= 0
	}
	depth := 0
	for i := 0; i < len(b); {
		if b[i] != '<' {
			j := bytes.IndexByte(b[i:], '<')
			if j < 0 {
				return 0, false
			}
			i += j
			continue
		}
		end := tagEnd(b, i)
		if end < 0 {
			return 0, false
		}
		tag := b[i:end]
		switch {
		case tag[1] == '/':
			depth--
		case tag[len(tag)-2] == '/':
		case depth == 0 && bytes.HasPrefix(tag, []byte("<stream:stream")):
			return end, true // the header: never closed here
		default:
			depth++
		}
		i = end
		if depth <= 0 {
			return end, true
		}
	}
	return 0, false
}

// tagEnd returns the index after the '>' that ends the tag at b[i], or -1
// if b does not hold all of it ('>' may appear in quoted attribute values).
func tagEnd(b []byte, i int) int {
	var quote byte
	for j := i + 1; j < len(b); j++ {
		switch c := b[j]; {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '>':
			return j + 1
		}
	}
	return -1
}

// attr is an attribute of a start tag as written: its name and its value
// with the quotes around it (still escaped).
type attr struct{ name, quoted string }

// parseStartTag returns the name and attributes of the tag unit starts
// with.
func parseStartTag(unit []byte) (name string, attrs []attr, ok bool) {
	end := tagEnd(unit, 0)
	if end < 0 {
		return "", nil, false
	}
	tag := unit[1 : end-1]
	i := 0
	for i < len(tag) && !isSpace(tag[i]) && tag[i] != '/' && tag[i] != '>' {
		i++
	}
	name = string(tag[:i])
	for {
		for i < len(tag) && isSpace(tag[i]) {
			i++
		}
		eq := bytes.IndexByte(tag[i:], '=')
		if eq < 0 {
			return name, attrs, true
		}
		an := string(bytes.TrimSpace(tag[i : i+eq]))
		i += eq + 1
		for i < len(tag) && isSpace(tag[i]) {
			i++
		}
		if i >= len(tag) {
			return name, attrs, false
		}
		q := tag[i]
		close := bytes.IndexByte(tag[i+1:], q)
		if close < 0 {
			return name, attrs, false
		}
		attrs = append(attrs, attr{an, string(tag[i : i+close+2])})
		i += close + 2
	}
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

func hasAttr(attrs []attr, name string) bool {
	for _, a := range attrs {
		if a.name == name {
			return true
		}
	}
	return false
}

// attrValue returns the value of an attribute whose value needs no
// unescaping (a namespace name), or "".
func attrValue(attrs []attr, name string) string {
	for _, a := range attrs {
		if a.name == name {
			return a.quoted[1 : len(a.quoted)-1]
		}
	}
	return ""
}
