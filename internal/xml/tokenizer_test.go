package xml

import (
	"bytes"
	exml "encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
)

// tokenizerSeeds cover each of the tokenizer's paths and encoding/xml's
// quirks that it keeps (see FuzzTokenizerVsEncodingXML).
var tokenizerSeeds = []string{
	hdr,
	hdr + chatMessage,
	`<a b='1' c="2"/><b>text</b>`,
	`<a b='1'c='2'/>`,         // no space between attributes: encoding/xml accepts it
	`<a b = '1' ></a >`,       // spaces around '=' and before '>'
	`<a b=1/>`,                // unquoted value
	`<a b/>`,                  // attribute without value
	`<a b='x<y'/>`,            // '<' in a value
	`<a b='x>y]]>z'/>`,        // '>' and "]]>" in a value: allowed
	`<m>a]]>b</m>`,            // "]]>" in text
	`<m>a]]b]>]</m>`,          // almost "]]>"
	"<m>a\r\nb\rc\r\r\nd</m>", // line ends
	"<a b='x\r\ny'/>",
	`<m><![CDATA[<x>&amp;]]]]><![CDATA[>]]></m>`,
	`<m><![CDATA[]]></m><![CDATA[x`,
	`<m><![CDAT[x]]></m>`,
	`<m>&lt;&gt;&amp;&apos;&quot;&#65;&#x42;&#X43;&#x;&#;</m>`,
	`<m>&#0;</m>`, `<m>&#xD800;</m>`, `<m>&#x110000;</m>`, `<m>&#x10FFFF;</m>`, `<m>&#99999999999999999999;</m>`,
	`<m>&foo;</m>`, `<m>&foo</m>`, `<m>&;</m>`, `<m>& x</m>`, `<m>&1a;</m>`, `<m>&a:b;</m>`,
	`<?xml version='1.0' encoding='UTF-8'?><a/>`,
	`<?xml version="1.1"?>`, `<?xml encoding='latin1'?>`, `<?xml encoding='utf-8'?>`,
	`<?pi some data?><?x?>`, `<??>`, `<?xml`,
	`<!-- comment --><!---->`, `<!-- a -- b -->`, `<!-x>`, `<!--`,
	`<!DOCTYPE a [<!ENTITY x "y"> <!-- c --> '>']><a/>`, `<!DOCTYPE`,
	`<p:a xmlns:p='u'/>`, `<:a/>`, `<a:/>`, `<a:b:c/>`, `<1a/>`, `<a.b-c_d/>`, `</a b>`, `</>`, `< a/>`,
	"<\u00e9 \u00fc:\u00df='1'/>", "<a\u00b7b/>", "<\u00b7/>", "<a\xff/>", "<m>\xff</m>", "<m>\x01</m>", "<m>\xef\xbf\xbe</m>",
	`<a`, `<a b='`, `<a b='1'`, `<a/`, `</a`, `<`, `text`, `]]>`,
}

// FuzzTokenizerVsEncodingXML: on any input, in any buffer size, the
// tokenizer returns the tokens encoding/xml's Decoder.RawToken (strict)
// returns, and fails where it fails, in the same class of error (as the
// Reader classified encoding/xml's errors before it had a tokenizer).
func FuzzTokenizerVsEncodingXML(f *testing.F) {
	for _, s := range tokenizerSeeds {
		f.Add([]byte(s), uint8(3), uint16(0))
		f.Add([]byte(s), uint8(200), uint16(10))
	}
	f.Fuzz(func(t *testing.T, data []byte, bufSize uint8, budget uint16) {
		limit := int64(len(data)) + 1
		if budget > 0 {
			limit = int64(budget)
		}
		// Odd buffer sizes start as the Reader does between top-level
		// elements: skipping whitespace, which the budget does not count.
		skipSpace := bufSize%2 == 1
		ours := ourTokens(data, 1+int(bufSize), limit, skipSpace)
		std := data
		if skipSpace {
			std = bytes.TrimLeft(data, " \t\r\n")
		}
		theirs := stdTokens(std, limit)
		if ours != theirs {
			t.Fatalf("input %q (buffer %d, budget %d)\nours   %s\ntheirs %s", data, 1+int(bufSize), limit, ours, theirs)
		}
	})
}

func TestTokenizerSeedsAgree(t *testing.T) {
	for _, s := range tokenizerSeeds {
		for _, size := range []int{1, 2, 7, 4096} {
			ours, theirs := ourTokens([]byte(s), size, int64(len(s))+1, false), stdTokens([]byte(s), int64(len(s))+1)
			if ours != theirs {
				t.Errorf("input %q (buffer %d)\nours   %s\ntheirs %s", s, size, ours, theirs)
			}
		}
	}
}

// TestTokenizerErrorClasses pins a few classifications the fuzz target
// would otherwise only find by luck.
func TestTokenizerErrorClasses(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`<m>&foo;</m>`, "restricted-xml"},
		{`<m>&1a;</m>`, "not-well-formed"},
		{"<m>\xff</m>", "unsupported-encoding"},
		{`<?xml encoding='latin1'?>`, "unsupported-encoding"},
		{`<?xml version='1.1'?>`, "not-well-formed"},
		{`<a b='1`, "unexpected-eof"},
		{`<m><![CDATA[x`, "unexpected-eof"},
		{`<m>&#0;</m>`, "not-well-formed"},
	} {
		got := ourTokens([]byte(tc.in), 4096, 1<<20, false)
		if !strings.HasSuffix(got, "error "+tc.want) {
			t.Errorf("%q: %s, want error %s", tc.in, got, tc.want)
		}
	}
	if got := ourTokens([]byte(`<a>0123456789</a>`), 4096, 8, false); !strings.HasSuffix(got, "error too-large") {
		t.Errorf("over budget: %s", got)
	}
}

// ourTokens describes the tokens of data, read through a buffer of
// bufSize bytes under a budget of limit bytes, up to the first error. The
// tokenizer comes from the pool and goes back to it, so that fuzzing also
// runs tokenizers other inputs have used.
func ourTokens(data []byte, bufSize int, limit int64, skipSpace bool) string {
	src := &budgetReader{br: &inputBuffer{rd: bytes.NewReader(data), size: bufSize}, limit: limit, skipSpace: skipSpace}
	tz := getTokenizer(src)
	defer tz.release()
	var b strings.Builder
	for range len(data) + 2 {
		tok, err := tz.next()
		if err != nil {
			fmt.Fprintf(&b, "error %s", errName(err))
			return b.String()
		}
		switch tok.kind {
		case tokStart:
			fmt.Fprintf(&b, "start %s:%s", tok.name.prefix, tok.name.local)
			for _, a := range tok.attrs {
				fmt.Fprintf(&b, " %s:%s=%q", a.name.prefix, a.name.local, a.value)
			}
		case tokEnd:
			fmt.Fprintf(&b, "end %s:%s", tok.name.prefix, tok.name.local)
		case tokText:
			fmt.Fprintf(&b, "text %q", tok.text)
		case tokProcInst:
			fmt.Fprintf(&b, "pi %s %q", tok.name.local, tok.text)
		case tokComment:
			fmt.Fprintf(&b, "comment %q", tok.text)
		case tokDirective:
			fmt.Fprintf(&b, "directive %q", tok.text)
		}
		b.WriteString("; ")
	}
	return b.String() + "no progress"
}

// stdTokens is ourTokens with encoding/xml.
func stdTokens(data []byte, limit int64) string {
	src := &limitedByteReader{data: data, limit: limit}
	dec := exml.NewDecoder(src)
	dec.Strict = true
	var b strings.Builder
	for range len(data) + 2 {
		tok, err := dec.RawToken()
		if err != nil {
			fmt.Fprintf(&b, "error %s", errName(classifyStd(err)))
			return b.String()
		}
		switch tok := tok.(type) {
		case exml.StartElement:
			fmt.Fprintf(&b, "start %s:%s", tok.Name.Space, tok.Name.Local)
			for _, a := range tok.Attr {
				fmt.Fprintf(&b, " %s:%s=%q", a.Name.Space, a.Name.Local, a.Value)
			}
		case exml.EndElement:
			fmt.Fprintf(&b, "end %s:%s", tok.Name.Space, tok.Name.Local)
		case exml.CharData:
			fmt.Fprintf(&b, "text %q", []byte(tok))
		case exml.ProcInst:
			fmt.Fprintf(&b, "pi %s %q", tok.Target, tok.Inst)
		case exml.Comment:
			fmt.Fprintf(&b, "comment %q", []byte(tok))
		case exml.Directive:
			fmt.Fprintf(&b, "directive %q", []byte(tok))
		}
		b.WriteString("; ")
	}
	return b.String() + "no progress"
}

// limitedByteReader serves data to encoding/xml, failing with ErrTooLarge
// after limit bytes as budgetReader does.
type limitedByteReader struct {
	data  []byte
	n     int64
	limit int64
}

func (r *limitedByteReader) ReadByte() (byte, error) {
	if r.n >= r.limit { // first, as in budgetReader
		return 0, ErrTooLarge
	}
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	c := r.data[0]
	r.data = r.data[1:]
	r.n++
	return c, nil
}

func (r *limitedByteReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	c, err := r.ReadByte()
	if err != nil {
		return 0, err
	}
	p[0] = c
	return 1, nil
}

// classifyStd is how the Reader classified encoding/xml's errors.
func classifyStd(err error) error {
	var se *exml.SyntaxError
	if !errors.As(err, &se) {
		switch {
		case err == ErrTooLarge || err == io.EOF:
			return err
		case strings.HasPrefix(err.Error(), "xml: encoding "):
			// (The Reader looked for "encoding" anywhere in the text, which
			// also caught <?xml version='encoding'?>.)
			return fmt.Errorf("%w: %v", ErrUnsupportedEncoding, err)
		}
		return fmt.Errorf("%w: %v", ErrNotWellFormed, err)
	}
	switch {
	case strings.HasPrefix(se.Msg, "unexpected EOF"):
		return io.ErrUnexpectedEOF
	case se.Msg == "invalid UTF-8":
		return fmt.Errorf("%w: %s", ErrUnsupportedEncoding, se.Msg)
	}
	if ent, ok := strings.CutPrefix(se.Msg, "invalid character entity "); ok && isEntityRef(ent) {
		return fmt.Errorf("%w: %s", ErrRestrictedXML, se.Msg)
	}
	return fmt.Errorf("%w: %s", ErrNotWellFormed, se.Msg)
}

// TestTokenizerKeepsNoOldValues: attribute values of earlier tags are not
// kept alive by the reused attribute slots, in use or in the pool (a
// client could otherwise pin MaxAttrs values of a stanza's size each).
func TestTokenizerKeepsNoOldValues(t *testing.T) {
	for _, in := range []string{
		`<a x='old1' y='old2' z='old3'/><b q='1'/>`,
		`<a x='old1' y='old2'/><b x='old3' !`, // an error inside a tag
	} {
		src := &budgetReader{br: &inputBuffer{rd: strings.NewReader(in), size: 64}, limit: 1 << 20}
		tz := getTokenizer(src)
		var err error
		for err == nil {
			_, err = tz.next()
		}
		for i, a := range tz.attrs[len(tz.attrs):cap(tz.attrs)] {
			if strings.HasPrefix(a.value, "old") {
				t.Errorf("%q: in use, slot %d past the current tag keeps %q", in, len(tz.attrs)+i, a.value)
			}
		}
		tz.release()
		for i, a := range tz.attrs[:cap(tz.attrs)] {
			if a.value != "" {
				t.Errorf("%q: released, slot %d keeps %q", in, i, a.value)
			}
		}
	}
}

func TestIsNameNonASCII(t *testing.T) {
	for _, tc := range []struct {
		name string
		want bool
	}{
		{"\u00e9", true},        // é starts a name
		{"a\u00e9b", true},      //
		{"\u00b7", false},       // middle dot: only inside a name
		{"a\u00b7", true},       //
		{"\u0300", false},       // a combining mark: only inside
		{"a\u0300", true},       //
		{"a\u2000", false},      // a space: nowhere
		{"\u00e9\xff", false},   // invalid UTF-8
		{"\U00010000", false},   // beyond the fourth edition's tables
		{"1\u00e9", false},      // an ASCII digit cannot start a name
		{"\u00e9-1.x:y_", true}, // ASCII name bytes after a non-ASCII start
	} {
		for range 2 { // asked, then from the cache
			if got := isName([]byte(tc.name)); got != tc.want {
				t.Errorf("isName(%q) = %v, want %v", tc.name, got, tc.want)
			}
		}
	}
}

// BenchmarkNonASCIINames reads a stanza of 2,000 elements with non-ASCII
// names: each name's runes are looked up, not parsed again.
func BenchmarkNonASCIINames(b *testing.B) {
	benchmarkRead(b, "<m>"+strings.Repeat("<\u00e9\u00e8/>", 2000)+"</m>")
}
