package stream

import (
	"bytes"

	"github.com/skald-xmpp/skald/internal/xml"
)

// Header renders the opening tag of a stream we send as the receiving
// entity (RFC 6120 §4.7): from our domain, a fresh stream id, version 1.0.
// The "stream" prefix and the default content namespace are declared here;
// every later element is written relative to contentNS.
func Header(contentNS, from, to, id, lang string) []byte {
	var b bytes.Buffer
	b.WriteString(`<?xml version='1.0'?><stream:stream xmlns="`)
	b.WriteString(contentNS)
	b.WriteString(`" xmlns:stream="` + NS + `"`)
	attr := func(name, v string) {
		if v == "" {
			return
		}
		b.WriteString(" " + name + `="`)
		xml.EscapeAttr(&b, v)
		b.WriteByte('"')
	}
	attr("from", from)
	attr("to", to)
	attr("id", id)
	attr("xml:lang", lang)
	b.WriteString(` version="1.0">`)
	return b.Bytes()
}

// Close is the closing tag of a stream.
const Close = "</stream:stream>"

// Features renders <stream:features/> with the given children, for a
// stream whose default namespace is contentNS.
func Features(contentNS string, children []*xml.Element) []byte {
	var b bytes.Buffer
	b.WriteString("<stream:features>")
	for _, c := range children {
		c.WriteTo(&b, contentNS)
	}
	b.WriteString("</stream:features>")
	return b.Bytes()
}

// VersionAtLeast1 checks a major.minor version attribute (RFC 6120 §4.7.5).
func VersionAtLeast1(v string) bool {
	major := 0
	i := 0
	for ; i < len(v) && v[i] >= '0' && v[i] <= '9'; i++ {
		major = major*10 + int(v[i]-'0')
		if major > 1000 {
			return true
		}
	}
	if i == 0 || i >= len(v) || v[i] != '.' || i+1 == len(v) {
		return false
	}
	for _, ch := range v[i+1:] {
		if ch < '0' || ch > '9' {
			return false
		}
	}
	return major >= 1
}
