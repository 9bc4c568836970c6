// Package xmlcut finds the top-level units in the byte stream Skald's own
// serialiser writes (internal/xml: no comments, no CDATA, '<' always
// escaped in text and attribute values), so that the transports which
// carry a c2s stream in pieces (websocket frames, BOSH bodies) can cut it
// without parsing it again: finding where an element ends needs only its
// tags.
//
// Layering: it imports nothing of Skald.
package xmlcut

import "bytes"

// Unit returns the length of the unit b starts with (b[0] == '<'): a
// processing instruction, the stream header (an unclosed start tag
// <stream:stream ...> at the top), an end tag at the top (the stream's
// end), or a whole element; complete is false while b does not hold all
// of it (n is then meaningless).
func Unit(b []byte) (n int, complete bool) {
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

// Attr is an attribute of a start tag as written: its name and its value
// with the quotes around it (still escaped).
type Attr struct{ Name, Quoted string }

// StartTag returns the name and attributes of the tag unit starts with.
func StartTag(unit []byte) (name string, attrs []Attr, ok bool) {
	end := tagEnd(unit, 0)
	if end < 0 {
		return "", nil, false
	}
	tag := unit[1 : end-1]
	i := 0
	for i < len(tag) && !IsSpace(tag[i]) && tag[i] != '/' && tag[i] != '>' {
		i++
	}
	name = string(tag[:i])
	for {
		for i < len(tag) && IsSpace(tag[i]) {
			i++
		}
		eq := bytes.IndexByte(tag[i:], '=')
		if eq < 0 {
			return name, attrs, true
		}
		an := string(bytes.TrimSpace(tag[i : i+eq]))
		i += eq + 1
		for i < len(tag) && IsSpace(tag[i]) {
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
		attrs = append(attrs, Attr{an, string(tag[i : i+close+2])})
		i += close + 2
	}
}

// IsSpace reports whether c is XML whitespace.
func IsSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

// HasAttr reports whether attrs holds name.
func HasAttr(attrs []Attr, name string) bool {
	for _, a := range attrs {
		if a.Name == name {
			return true
		}
	}
	return false
}

// AttrValue returns the value of an attribute whose value needs no
// unescaping (a namespace name, an id Skald generated), or "".
func AttrValue(attrs []Attr, name string) string {
	for _, a := range attrs {
		if a.Name == name {
			return a.Quoted[1 : len(a.Quoted)-1]
		}
	}
	return ""
}
