package xml

import (
	"bytes"
	exml "encoding/xml"
	"errors"
	"io"
	"strings"
	"testing"
)

// fuzzLimits keep each input cheap while leaving room for real stanzas.
var fuzzLimits = Limits{MaxStanzaBytes: 64 << 10, MaxDepth: 32, MaxAttrs: 64}

// fuzzSeeds are stream bodies (what follows hdr) covering the reader's
// paths; the fuzzer mutates from here.
var fuzzSeeds = []string{
	``,
	`<message/>`,
	chatMessage,
	`<iq type='get' id='1'><query xmlns='jabber:iq:roster'/></iq> <presence/>` + "\n",
	`<a xmlns:p='urn:p' p:x='1' x='2'><p:b xmlns:p='urn:q' p:y='&amp;&#x9;'/>t&lt;<![CDATA[c]]></a>`,
	`<a><b xmlns=''><c xml:lang='en'/></b></a></stream:stream>`,
	`<m>&foo;</m>`,
	`<!-- c --><m/>`,
	`<m><?pi x?></m>`,
	`<a></b>`,
	`<p:a/>`,
	`<a xmlns:foo=''/>`,
	`text`,
	`<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>SCRAM-SHA-1</mechanism></mechanisms></stream:features>`,
	"<m>\r\n&#xD;\xc3\xbc</m>",
	"<\u00e9 xmlns:\u00fc='urn:u' \u00fc:\u00df='1'><\u00fc:a0/></\u00e9>",
}

// FuzzReader: no panics or hangs on any input, only known errors, and
// every element read writes back to bytes that read as the same tree.
func FuzzReader(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		rd := NewReader(io.MultiReader(strings.NewReader(hdr), bytes.NewReader(data)), fuzzLimits, 0)
		if _, _, err := rd.ReadStreamStart(); err != nil {
			t.Fatalf("fixed header: %v", err)
		}
		for {
			el, err := rd.Next()
			if err != nil {
				if name := errName(err); strings.HasPrefix(name, "unknown") {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			checkRoundTrip(t, el)
		}
	})
}

// checkRoundTrip writes el and reads it back. Limits are lifted: writing
// may legitimately grow a stanza (prefixes are redeclared where used).
func checkRoundTrip(t *testing.T, el *Element) {
	t.Helper()
	out := el.Bytes(nsClient)
	lim := Limits{MaxStanzaBytes: int64(len(out)) + 1}
	rd := NewReader(strings.NewReader(hdr+string(out)), DefaultLimits, 0)
	if _, _, err := rd.ReadStreamStart(); err != nil {
		t.Fatal(err)
	}
	rd.SetLimits(lim)
	again, err := rd.Next()
	if err != nil {
		t.Fatalf("reading back %q: %v", out, err)
	}
	if a, b := dump(el), dump(again); a != b {
		t.Fatalf("round trip changed the tree\nwrote  %q\nbefore %s\nafter  %s", out, a, b)
	}
}

// FuzzReaderVsEncodingXML: whatever we accept as a stanza, encoding/xml's
// namespace-resolving Decoder.Token accepts too, and both see the same
// names, namespaces, attributes and text.
func FuzzReaderVsEncodingXML(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		in := hdr + string(data)
		rd := NewReader(strings.NewReader(in), fuzzLimits, 0)
		if _, _, err := rd.ReadStreamStart(); err != nil {
			t.Fatalf("fixed header: %v", err)
		}
		ours, err := rd.Next()
		if err != nil || stdAmbiguous(ours) {
			return
		}
		theirs, err := firstElementStd(in)
		if err != nil {
			t.Fatalf("we accept %q, encoding/xml does not: %v", data, err)
		}
		if a, b := dump(ours), dump(theirs); a != b {
			t.Fatalf("trees differ for %q\nours   %s\ntheirs %s", data, a, b)
		}
	})
}

// stdAmbiguous reports trees encoding/xml's Decoder.Token cannot describe
// faithfully: it leaves an unprefixed element named "xmlns" in no
// namespace, where Namespaces in XML puts it in the default namespace (only
// the xmlns prefix is reserved, not the local name); and after translation
// an attribute in a namespace whose URI is "xmlns" looks exactly like a
// namespace declaration.
func stdAmbiguous(e *Element) bool {
	if e.Local == "xmlns" {
		return true
	}
	for _, a := range e.Attrs {
		if a.Space == "xmlns" {
			return true
		}
	}
	for _, c := range e.Elements() {
		if stdAmbiguous(c) {
			return true
		}
	}
	return false
}

// firstElementStd builds the first stanza of in from encoding/xml tokens.
func firstElementStd(in string) (*Element, error) {
	dec := exml.NewDecoder(strings.NewReader(in))
	dec.Strict = true
	var stack []*Element
	depth := 0 // 1 = inside the root
	for {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		switch tok := tok.(type) {
		case exml.StartElement:
			depth++
			if depth == 1 {
				continue
			}
			e := &Element{Space: tok.Name.Space, Local: tok.Name.Local}
			for _, a := range tok.Attr {
				if a.Name.Space == "xmlns" || (a.Name.Space == "" && a.Name.Local == "xmlns") {
					continue
				}
				e.Attrs = append(e.Attrs, Attr{Space: a.Name.Space, Local: a.Name.Local, Value: a.Value})
			}
			if len(stack) > 0 {
				p := stack[len(stack)-1]
				p.Nodes = append(p.Nodes, e)
			}
			stack = append(stack, e)
		case exml.EndElement:
			depth--
			if depth == 0 {
				return nil, errors.New("stream closed before a stanza")
			}
			top := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if len(stack) == 0 {
				return top, nil
			}
		case exml.CharData:
			if len(stack) == 0 || len(tok) == 0 {
				continue
			}
			p := stack[len(stack)-1]
			if n := len(p.Nodes); n > 0 {
				if prev, ok := p.Nodes[n-1].(Text); ok {
					p.Nodes[n-1] = prev + Text(tok)
					continue
				}
			}
			p.Nodes = append(p.Nodes, Text(tok))
		}
	}
}
