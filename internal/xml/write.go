package xml

import (
	"bytes"
	"strconv"
	"unicode/utf8"
)

// WriteTo appends the serialisation of e to b. parentNS is the default
// namespace in scope where e is written; xmlns is emitted only where the
// element's namespace differs from it. Namespaced attributes other than xml:*
// get a generated prefix declared on the element carrying them. A Raw child
// is written as it is.
func (e *Element) WriteTo(b *bytes.Buffer, parentNS string) {
	b.WriteByte('<')
	b.WriteString(e.Local)
	if e.Space != parentNS {
		b.WriteString(` xmlns="`)
		escapeAttr(b, e.Space)
		b.WriteByte('"')
	}
	// declared[i] is the namespace bound to prefix ns<i+1> on this element:
	// one declaration per namespace, so that writing never adds more
	// attributes than the namespaces used.
	var declaredBuf [4]string
	declared := declaredBuf[:0]
	for _, a := range e.Attrs {
		b.WriteByte(' ')
		switch a.Space {
		case "":
		case NSXML:
			b.WriteString("xml:")
		default:
			i := 0
			for i < len(declared) && declared[i] != a.Space {
				i++
			}
			p := "ns" + strconv.Itoa(i+1)
			if i == len(declared) {
				declared = append(declared, a.Space)
				b.WriteString("xmlns:" + p + `="`)
				escapeAttr(b, a.Space)
				b.WriteString(`" `)
			}
			b.WriteString(p + ":")
		}
		b.WriteString(a.Local)
		b.WriteString(`="`)
		escapeAttr(b, a.Value)
		b.WriteByte('"')
	}
	if len(e.Nodes) == 0 {
		b.WriteString("/>")
		return
	}
	b.WriteByte('>')
	for _, n := range e.Nodes {
		switch c := n.(type) {
		case *Element:
			c.WriteTo(b, e.Space)
		case Text:
			escapeText(b, string(c))
		case *Raw:
			b.Write(c.b) // declares its own namespace: see NewRaw
		}
	}
	b.WriteString("</")
	b.WriteString(e.Local)
	b.WriteByte('>')
}

// sizeHint estimates the length of e's serialisation, so that Bytes and
// String allocate once in the common case (every outgoing stanza goes
// through Bytes). Escaping is allowed for with a little slack.
func (e *Element) sizeHint(parentNS string) int {
	n := 2*len(e.Local) + 5 // <l></l>
	if e.Space != parentNS {
		n += len(e.Space) + 9 // xmlns=""
	}
	for _, a := range e.Attrs {
		n += len(a.Local) + len(a.Value) + 4
		if a.Space != "" {
			n += len(a.Space) + 16 // xmlns:nsN="" nsN:
		}
	}
	for _, c := range e.Nodes {
		switch c := c.(type) {
		case *Element:
			n += c.sizeHint(e.Space)
		case Text:
			n += len(c)
		case *Raw:
			n += len(c.b)
		}
	}
	return n + n/16
}

// EscapeText appends s escaped for use as character data.
func EscapeText(b *bytes.Buffer, s string) { escape(b, s, false) }

// EscapeAttr appends s escaped for use inside a double-quoted attribute.
func EscapeAttr(b *bytes.Buffer, s string) { escape(b, s, true) }

func escapeText(b *bytes.Buffer, s string) { escape(b, s, false) }
func escapeAttr(b *bytes.Buffer, s string) { escape(b, s, true) }

// escape writes s with markup characters escaped. Characters XML 1.0 cannot
// carry at all (most C0 controls, invalid UTF-8) become U+FFFD rather than
// producing a document the peer must reject.
func escape(b *bytes.Buffer, s string, attr bool) {
	plain := &plainInTextOut
	if attr {
		plain = &plainInAttrOut
	}
	last := 0
	for i := 0; i < len(s); {
		c := s[i]
		if plain[c] {
			i++
			continue
		}
		var esc string
		size := 1
		switch {
		case c == '&':
			esc = "&amp;"
		case c == '<':
			esc = "&lt;"
		case c == '>':
			esc = "&gt;"
		case c == '"' && attr:
			esc = "&quot;"
		case c == '\'' && attr:
			esc = "&apos;"
		case c == '\n' && attr:
			esc = "&#xA;"
		case c == '\t' && attr:
			esc = "&#x9;"
		case c == '\r':
			esc = "&#xD;"
		case c < 0x20 && c != '\n' && c != '\t':
			esc = "\uFFFD"
		case c >= utf8.RuneSelf:
			r, n := utf8.DecodeRuneInString(s[i:])
			size = n
			if (r == utf8.RuneError && n == 1) || !isXMLChar(r) {
				esc = "\uFFFD"
			}
		}
		if esc != "" {
			b.WriteString(s[last:i])
			b.WriteString(esc)
			last = i + size
		}
		i += size
	}
	b.WriteString(s[last:])
}

// Bytes that escape writes as they are (ASCII only: the others are
// checked as UTF-8): a table lookup per byte in the common case.
var (
	plainInTextOut = plainOutTable(false)
	plainInAttrOut = plainOutTable(true)
)

func plainOutTable(attr bool) (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = true
	}
	t['&'], t['<'], t['>'] = false, false, false
	if attr {
		t['"'], t['\''] = false, false
	} else {
		t['\n'], t['\t'] = true, true
	}
	return t
}

// isXMLChar reports whether r is allowed by the XML 1.0 Char production.
func isXMLChar(r rune) bool {
	return r == 0x09 || r == 0x0A || r == 0x0D ||
		r >= 0x20 && r <= 0xD7FF ||
		r >= 0xE000 && r <= 0xFFFD ||
		r >= 0x10000 && r <= 0x10FFFF
}
