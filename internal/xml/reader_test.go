package xml

import (
	"errors"
	"io"
	"strings"
	"testing"
)

// TestNamespaces checks how names resolve: default namespaces, prefixes,
// redeclaration and scope, and which declarations are refused.
func TestNamespaces(t *testing.T) {
	tests := []struct {
		name, in, want, err string
	}{
		{"stream default", `<message/>`, `{jabber:client}message`, "ok"},
		{"own default", `<message xmlns='jabber:server'/>`, `{jabber:server}message`, "ok"},
		{"inherited default",
			`<iq><query xmlns='jabber:iq:roster'><item/></query></iq>`,
			`{jabber:client}iq({jabber:iq:roster}query({jabber:iq:roster}item))`, "ok"},
		{"default restored after child",
			`<m><a xmlns='urn:a'/><b/></m>`,
			`{jabber:client}m({urn:a}a {jabber:client}b)`, "ok"},
		{"prefix does not change default",
			`<iq><p:query xmlns:p='urn:x'><p:item/><item/></p:query></iq>`,
			`{jabber:client}iq({urn:x}query({urn:x}item {jabber:client}item))`, "ok"},
		{"prefix redeclared in nested scope",
			`<a xmlns:p='urn:1'><p:b xmlns:p='urn:2'><p:c/></p:b><p:d/></a>`,
			`{jabber:client}a({urn:2}b({urn:2}c) {urn:1}d)`, "ok"},
		{"default undeclared", `<a><b xmlns=''><c/></b></a>`, `{jabber:client}a({}b({}c))`, "ok"},
		{"stream prefix from the root", `<stream:features/>`, `{` + nsStream + `}features`, "ok"},
		{"prefixed attribute",
			`<a xmlns:p='urn:p' p:x='1' x='2'/>`,
			`{jabber:client}a[x="2" {urn:p}x="1"]`, "ok"},
		{"unprefixed attribute has no namespace",
			`<a xmlns='urn:a' x='1'/>`, `{urn:a}a[x="1"]`, "ok"},
		{"xml:lang", `<body xml:lang='de'>Hallo</body>`,
			`{jabber:client}body[{` + NSXML + `}lang="de"]("Hallo")`, "ok"},
		{"xml prefix may be declared as itself",
			`<a xmlns:xml='` + NSXML + `' xml:lang='en'/>`, `{jabber:client}a[{` + NSXML + `}lang="en"]`, "ok"},
		{"same local name in two namespaces",
			`<a xmlns:p='urn:p' x='1' p:x='2'/>`, `{jabber:client}a[x="1" {urn:p}x="2"]`, "ok"},

		{"undeclared element prefix", `<p:a/>`, "", "bad-namespace-prefix"},
		{"undeclared attribute prefix", `<a p:x='1'/>`, "", "bad-namespace-prefix"},
		{"prefix out of scope", `<a><b xmlns:p='urn:p'/><p:c/></a>`, "", "bad-namespace-prefix"},
		{"empty prefix declaration", `<a xmlns:foo=''/>`, "", "bad-namespace-prefix"},
		{"xml rebound", `<a xmlns:xml='urn:x'/>`, "", "bad-namespace-prefix"},
		{"xmlns declared", `<a xmlns:xmlns='urn:x'/>`, "", "bad-namespace-prefix"},
		{"prefix bound to xml namespace", `<a xmlns:p='` + NSXML + `'/>`, "", "bad-namespace-prefix"},
		{"default bound to xml namespace", `<a xmlns='` + NSXML + `'/>`, "", "bad-namespace-prefix"},
		{"default bound to xmlns namespace", `<a xmlns='http://www.w3.org/2000/xmlns/'/>`, "", "bad-namespace-prefix"},
		{"element with xmlns prefix", `<xmlns:a/>`, "", "bad-namespace-prefix"},
		{"element in xml namespace", `<xml:a/>`, "", "bad-namespace-prefix"},

		{"duplicate attribute", `<a x='1' x='2'/>`, "", "not-well-formed"},
		{"duplicate expanded name", `<a xmlns:p='urn:p' xmlns:q='urn:p' p:x='1' q:x='2'/>`, "", "not-well-formed"},
		{"duplicate default declaration", `<a xmlns='urn:a' xmlns='urn:b'/>`, "", "not-well-formed"},
		{"duplicate prefix declaration", `<a xmlns:p='urn:a' xmlns:p='urn:a'/>`, "", "not-well-formed"},
		{"leading colon in element name", `<:a/>`, "", "not-well-formed"},
		{"trailing colon in element name", `<a:/>`, "", "not-well-formed"},
		{"leading colon in attribute name", `<a :x='1'/>`, "", "not-well-formed"},
		{"two colons", `<a:b:c/>`, "", "not-well-formed"},
		{"local part starts with digit", `<p:0 xmlns:p='urn:p'/>`, "", "not-well-formed"},
		{"attribute local part starts with dash", `<a xmlns:p='urn:p' p:-x='1'/>`, "", "not-well-formed"},
		{"local part starts with extender", "<p:\u02D0 xmlns:p='urn:p'/>", "", "not-well-formed"},
		{"prefix declared as digit", `<a xmlns:0='urn:p'/>`, "", "not-well-formed"},
		{"non-ASCII local part", "<p:\u00E9t\u00E9 xmlns:p='urn:p'/>", "{urn:p}\u00E9t\u00E9", "ok"},
		{"element named xmlns is in the default namespace", `<xmlns/>`, `{jabber:client}xmlns`, "ok"},
		{"digit inside local part", `<p:a0 xmlns:p='urn:p' p:b-1='x'/>`, `{urn:p}a0[{urn:p}b-1="x"]`, "ok"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			els, err := readAll(tt.in, testLimits)
			if tt.err == "ok" {
				if len(els) != 1 || !errors.Is(err, io.EOF) {
					t.Fatalf("got %d elements, err %v", len(els), err)
				}
				if got := dump(els[0]); got != tt.want {
					t.Errorf("got  %s\nwant %s", got, tt.want)
				}
				return
			}
			if got := errName(err); got != tt.err {
				t.Errorf("err = %v (%s), want %s", err, got, tt.err)
			}
		})
	}
}

// TestNamespaceScopeEndsWithStanza checks that declarations on one stanza
// do not leak into the next.
func TestNamespaceScopeEndsWithStanza(t *testing.T) {
	els, err := readAll(`<a xmlns:p='urn:p' xmlns='urn:d'/><b/><p:c/>`, testLimits)
	if len(els) != 2 || errName(err) != "bad-namespace-prefix" {
		t.Fatalf("got %d elements, err %v", len(els), err)
	}
	if got := dump(els[1]); got != `{jabber:client}b` {
		t.Errorf("second stanza = %s", got)
	}
}

// TestRestrictedXML covers RFC 6120 §11.1 and well-formedness errors that
// look similar but are not restricted XML.
func TestRestrictedXML(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"comment at stream level", `<!-- hi -->`, "restricted-xml"},
		{"comment in stanza", `<message><!-- hi --></message>`, "restricted-xml"},
		{"PI at stream level", `<?foo bar?>`, "restricted-xml"},
		{"PI in stanza", `<message><?foo bar?></message>`, "restricted-xml"},
		{"XML declaration after the header", `<?xml version='1.0'?>`, "restricted-xml"},
		{"DOCTYPE at stream level", `<!DOCTYPE x>`, "restricted-xml"},
		{"ENTITY declaration", `<!ENTITY x 'y'>`, "restricted-xml"},
		{"entity reference in text", `<m>&foo;</m>`, "restricted-xml"},
		{"entity reference in attribute", `<m a='&foo;'/>`, "restricted-xml"},
		{"underscore entity name", `<m>&_x;</m>`, "restricted-xml"},

		{"char ref to NUL", `<m>&#0;</m>`, "not-well-formed"},
		{"char ref beyond Unicode", `<m>&#x110000;</m>`, "not-well-formed"},
		{"empty char ref", `<m>&#;</m>`, "not-well-formed"},
		{"bad hex char ref", `<m>&#xZZ;</m>`, "not-well-formed"},
		{"entity without semicolon", `<m>&foo bar</m>`, "not-well-formed"},
		{"bare ampersand", `<m>a & b</m>`, "not-well-formed"},
		{"empty entity", `<m>&;</m>`, "not-well-formed"},
		{"entity name starting with digit", `<m>&1x;</m>`, "not-well-formed"},
		{"lt in attribute", `<m a='<'/>`, "not-well-formed"},
		{"unquoted attribute", `<m a=b/>`, "not-well-formed"},
		{"attribute without value", `<m a/>`, "not-well-formed"},
		{"CDATA end in text", `<m>]]></m>`, "not-well-formed"},
		{"control character", "<m>\x01</m>", "not-well-formed"},
		{"invalid UTF-8", "<m>\xff</m>", "unsupported-encoding"},
		{"mismatched end tag", `<a><b></a>`, "not-well-formed"},
		{"end tag of another element", `<a></b>`, "not-well-formed"},
		{"end tag with other prefix", `<a xmlns:p='urn:p' xmlns:q='urn:p'><p:b></q:b></a>`, "not-well-formed"},
		{"root closed with wrong name", `</stream:foo>`, "not-well-formed"},
		{"root closed without prefix", `</stream>`, "not-well-formed"},
		{"text at stream level", `hello`, "text-at-stream-level"},
		{"text after whitespace at stream level", "  \n hello", "text-at-stream-level"},
		{"CDATA text at stream level", `<![CDATA[x]]>`, "text-at-stream-level"},
		{"stream end", `</stream:stream>`, "stream-end"},
		{"stream end after stanzas and keepalives", "<a/> \n<b/>\t</stream:stream>", "stream-end"},
		{"whitespace CDATA at stream level", `<![CDATA[ ]]></stream:stream>`, "stream-end"},
		{"clean EOF between stanzas", `<a/>`, "eof"},
		{"EOF inside a tag", `<message to='a`, "unexpected-eof"},
		{"EOF inside an element", `<message><body>hi`, "unexpected-eof"},
		{"EOF after a start tag", `<message>`, "unexpected-eof"},
		{"EOF in CDATA", `<m><![CDATA[abc`, "unexpected-eof"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := readAll(tt.in, testLimits)
			if got := errName(err); got != tt.want {
				t.Errorf("err = %v (%s), want %s", err, got, tt.want)
			}
		})
	}
}

// TestStreamStart covers what may come before and in the root tag.
func TestStreamStart(t *testing.T) {
	tests := []struct {
		name, in, wantNS, want string
	}{
		{"client header", hdr, "jabber:client", "ok"},
		{"no XML declaration", `<stream:stream xmlns='jabber:server' xmlns:stream='` + nsStream + `'>`, "jabber:server", "ok"},
		{"double-quoted declaration", `<?xml version="1.0" encoding="UTF-8"?><stream:stream xmlns:stream='` + nsStream + `'>`, "", "ok"},
		{"lower-case encoding", `<?xml version='1.0' encoding='utf-8'?><s xmlns='jabber:client'>`, "jabber:client", "ok"},
		{"leading whitespace", "\r\n <s xmlns='jabber:client'>", "jabber:client", "ok"},
		{"other encoding", `<?xml version='1.0' encoding='ISO-8859-1'?><s>`, "", "unsupported-encoding"},
		{"other version", `<?xml version='1.1'?><s>`, "", "not-well-formed"},
		{"DOCTYPE", `<?xml version='1.0'?><!DOCTYPE s [<!ENTITY x 'y'>]><s>`, "", "restricted-xml"},
		{"comment before root", `<!-- x --><s>`, "", "restricted-xml"},
		{"stylesheet PI", `<?xml-stylesheet href='x'?><s>`, "", "restricted-xml"},
		{"text before root", `hello<s>`, "", "not-well-formed"},
		{"end tag first", `</s>`, "", "not-well-formed"},
		{"undeclared root prefix", `<stream:stream xmlns='jabber:client'>`, "", "bad-namespace-prefix"},
		{"empty input", ``, "", "eof"},
		{"EOF in root tag", `<stream:stream xmlns='jab`, "", "unexpected-eof"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rd := NewReader(strings.NewReader(tt.in), testLimits, 0)
			root, ns, err := rd.ReadStreamStart()
			if got := errName(err); got != tt.want {
				t.Fatalf("err = %v (%s), want %s", err, got, tt.want)
			}
			if err == nil && ns != tt.wantNS {
				t.Errorf("default namespace = %q, want %q", ns, tt.wantNS)
			}
			if err == nil && root == nil {
				t.Error("nil root")
			}
		})
	}
}

func TestStreamStartRoot(t *testing.T) {
	rd := NewReader(strings.NewReader(hdr), testLimits, 0)
	root, ns, err := rd.ReadStreamStart()
	if err != nil {
		t.Fatal(err)
	}
	want := `{` + nsStream + `}stream[to="example.com" version="1.0"]`
	if got := dump(root); got != want || ns != nsClient {
		t.Errorf("root = %s, ns %q\nwant %s", got, ns, want)
	}
}

func TestTextAndCDATA(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"predefined entities", `<m>&amp;&lt;&gt;&quot;&apos;</m>`, `{jabber:client}m("&<>\"'")`},
		{"char refs", `<m>&#65;&#x42;&#x1F600;</m>`, `{jabber:client}m("AB😀")`},
		{"entities in attribute", `<m a='&lt;&amp;&#x9;'/>`, `{jabber:client}m[a="<&\t"]`},
		{"CDATA merged with text", `<m>x<![CDATA[<y>&amp;]]>z</m>`, `{jabber:client}m("x<y>&amp;z")`},
		{"adjacent CDATA", `<m><![CDATA[a]]><![CDATA[b]]></m>`, `{jabber:client}m("ab")`},
		{"empty CDATA", `<m><![CDATA[]]></m>`, `{jabber:client}m`},
		{"empty CDATA between texts", `<m>a<![CDATA[]]>b</m>`, `{jabber:client}m("ab")`},
		{"text around children", `<m>a<b/>c</m>`, `{jabber:client}m("a" {jabber:client}b "c")`},
		{"CRLF normalised", "<m>a\r\nb\rc</m>", `{jabber:client}m("a\nb\nc")`},
		{"char ref CR kept", `<m>a&#xD;b</m>`, `{jabber:client}m("a\rb")`},
		{"whitespace inside stanza kept", "<m> <b/> </m>", `{jabber:client}m(" " {jabber:client}b " ")`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := dump(readOne(t, tt.in)); got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

// countingReader counts the bytes handed out of an endless source made of
// a prefix followed by repetitions of fill.
type countingReader struct {
	prefix string
	fill   byte
	n      int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	k := copy(p, c.prefix)
	c.prefix = c.prefix[k:]
	for i := k; i < len(p); i++ {
		p[i] = c.fill
	}
	c.n += int64(len(p))
	return len(p), nil
}

// TestLimitEnforcedWhileReading sends a 10 MB body and checks that the
// reader gives up after about MaxStanzaBytes, not after buffering it all.
func TestLimitEnforcedWhileReading(t *testing.T) {
	const limit = 64 << 10
	for _, tt := range []struct {
		name, prefix string
		fill         byte
	}{
		{"text", "<message><body>", 'a'},
		{"attribute value", "<message id='", 'a'},
		{"element name", "<m", 'a'},
		{"whitespace in stanza", "<message>", ' '},
		{"comment body", "<m><!--", 'a'},
	} {
		t.Run(tt.name, func(t *testing.T) {
			src := &countingReader{prefix: tt.prefix, fill: tt.fill}
			rd := newStream(t, src, Limits{MaxStanzaBytes: limit})
			_, err := rd.Next()
			if err == nil {
				t.Fatal("no error")
			}
			if !errors.Is(err, ErrTooLarge) {
				t.Fatalf("err = %v, want ErrTooLarge", err)
			}
			// The budget and at most one buffer of read-ahead.
			if max := int64(limit + 4096); src.n > max {
				t.Errorf("read %d bytes, want at most %d", src.n, max)
			}
		})
	}
}

func TestLimitBoundary(t *testing.T) {
	stanza := `<message to='a@b'><body>hello</body></message>`
	n := int64(len(stanza))
	for _, tt := range []struct {
		name  string
		limit int64
		body  string
		want  []string
	}{
		{"exactly the limit", n, stanza, []string{"ok", "eof"}},
		{"one byte over", n - 1, stanza, []string{"too-large"}},
		{"keepalives do not count", n, "\n \t\r\n" + stanza + "   \n" + stanza, []string{"ok", "ok", "eof"}},
		{"budget resets per stanza", n, stanza + stanza + stanza, []string{"ok", "ok", "ok", "eof"}},
		{"second stanza too large", n, stanza + "<m>" + stanza + "</m>", []string{"ok", "too-large"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rd := newStream(t, strings.NewReader(tt.body), Limits{MaxStanzaBytes: tt.limit})
			for i, want := range tt.want {
				_, err := rd.Next()
				if got := errName(err); got != want {
					t.Fatalf("element %d: err = %v (%s), want %s", i, err, got, want)
				}
			}
		})
	}
}

// TestLongStreamOfSmallStanzas: a budget far smaller than the stream never
// trips when every stanza fits, whatever the keepalives in between.
func TestLongStreamOfSmallStanzas(t *testing.T) {
	var b strings.Builder
	const count = 20000
	for i := range count {
		b.WriteString(`<message to='a@example.com' id='x'><body>hi</body></message>`)
		if i%3 == 0 {
			b.WriteString(" ")
		}
	}
	// An idle connection: a long run of keepalives and no stanza.
	b.WriteString(strings.Repeat("\n", 100000))
	b.WriteString(`<iq/></stream:stream>`)
	els, err := readAll(b.String(), Limits{MaxStanzaBytes: 128})
	if len(els) != count+1 || !errors.Is(err, ErrStreamEnd) {
		t.Fatalf("got %d elements, err %v", len(els), err)
	}
}

func TestDepthAndAttrLimits(t *testing.T) {
	lim := Limits{MaxStanzaBytes: 4096, MaxDepth: 3, MaxAttrs: 3}
	for _, tt := range []struct {
		name, in, want string
	}{
		{"depth at limit", `<a><b><c/></b></a>`, "ok"},
		{"depth over limit", `<a><b><c><d/></c></b></a>`, "too-deep"},
		{"attrs at limit", `<a x='1' y='2' z='3'/>`, "ok"},
		{"attrs over limit", `<a x='1' y='2' z='3' w='4'/>`, "too-many-attrs"},
		{"declarations count", `<a xmlns='u' xmlns:p='v' x='1' y='2'/>`, "too-many-attrs"},
		{"attrs on child", `<a><b x='1' y='2' z='3' w='4'/></a>`, "too-many-attrs"},
		{"many small siblings are fine", `<a>` + strings.Repeat(`<b x='1' y='2' z='3'/>`, 100) + `</a>`, "ok"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			els, err := readAll(tt.in, lim)
			if len(els) == 1 && errors.Is(err, io.EOF) {
				err = nil
			}
			if got := errName(err); got != tt.want {
				t.Errorf("err = %v (%s), want %s", err, got, tt.want)
			}
		})
	}
}

// TestManyAttributesUnlimited exercises the map-based duplicate check.
func TestManyAttributesUnlimited(t *testing.T) {
	var b strings.Builder
	b.WriteString("<a")
	for i := range 100 {
		b.WriteString(" a" + string(rune('a'+i%26)) + string(rune('a'+i/26)) + "='1'")
	}
	lim := Limits{MaxStanzaBytes: 1 << 20}
	if _, err := readAll(b.String()+"/>", lim); !errors.Is(err, io.EOF) {
		t.Errorf("distinct attributes: %v", err)
	}
	if _, err := readAll(b.String()+" aaa='2'/>", lim); errName(err) != "not-well-formed" {
		t.Errorf("duplicate attribute: %v", err)
	}
}

func TestIOErrorPassesThrough(t *testing.T) {
	boom := errors.New("boom")
	for _, tt := range []struct{ name, before string }{
		{"between stanzas", "<a/>"},
		{"inside a stanza", "<a><b>text"},
		{"inside a tag", "<a x='"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			src := io.MultiReader(strings.NewReader(hdr+tt.before), errReader{boom})
			rd := NewReader(src, testLimits, 0)
			if _, _, err := rd.ReadStreamStart(); err != nil {
				t.Fatal(err)
			}
			var err error
			for err == nil {
				_, err = rd.Next()
			}
			if err != boom {
				t.Errorf("err = %v, want the source's error itself", err)
			}
		})
	}
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

// TestRestart: after SASL success the client opens a new stream on the
// same connection, often in the same TCP segment as the old one's last
// element.
func TestRestart(t *testing.T) {
	second := `<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='` + nsStream + `' version='1.0'>`
	in := hdr + `<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>AGEAYg==</auth>` +
		second + `<iq type='set' id='b'/><stream:features/>`
	rd := NewReader(strings.NewReader(in), testLimits, 0)
	if _, _, err := rd.ReadStreamStart(); err != nil {
		t.Fatal(err)
	}
	if el, err := rd.Next(); err != nil || el.Local != "auth" {
		t.Fatalf("auth: %v %v", el, err)
	}
	rd.Restart()
	_, ns, err := rd.ReadStreamStart()
	if err != nil || ns != nsClient {
		t.Fatalf("second header: ns %q, err %v", ns, err)
	}
	for _, want := range []string{`{jabber:client}iq[id="b" type="set"]`, `{` + nsStream + `}features`} {
		el, err := rd.Next()
		if err != nil {
			t.Fatal(err)
		}
		if got := dump(el); got != want {
			t.Errorf("got %s, want %s", got, want)
		}
	}
}

// TestRestartForgetsDeclarations: the new stream's header must declare
// its own prefixes.
func TestRestartForgetsDeclarations(t *testing.T) {
	in := hdr + `<a/>` + `<s xmlns='jabber:client'><stream:features/>`
	rd := NewReader(strings.NewReader(in), testLimits, 0)
	if _, _, err := rd.ReadStreamStart(); err != nil {
		t.Fatal(err)
	}
	if _, err := rd.Next(); err != nil {
		t.Fatal(err)
	}
	rd.Restart()
	if _, _, err := rd.ReadStreamStart(); err != nil {
		t.Fatal(err)
	}
	if _, err := rd.Next(); errName(err) != "bad-namespace-prefix" {
		t.Errorf("err = %v, want bad-namespace-prefix", err)
	}
}

// TestRestartRootName: the end tag is checked against the new root.
func TestRestartRootName(t *testing.T) {
	in := hdr + `<a/>` + `<s xmlns='jabber:client'></stream:stream>`
	rd := NewReader(strings.NewReader(in), testLimits, 0)
	rd.ReadStreamStart()
	rd.Next()
	rd.Restart()
	if _, _, err := rd.ReadStreamStart(); err != nil {
		t.Fatal(err)
	}
	if _, err := rd.Next(); errName(err) != "not-well-formed" {
		t.Errorf("err = %v, want not-well-formed", err)
	}
}

func TestSetLimits(t *testing.T) {
	small := `<a>` + strings.Repeat("x", 100) + `</a>`
	in := small + small + small + small
	rd := newStream(t, strings.NewReader(in), Limits{MaxStanzaBytes: 64})
	rd.SetLimits(Limits{MaxStanzaBytes: 200})
	if _, err := rd.Next(); err != nil {
		t.Fatalf("after raising the limit: %v", err)
	}
	// No byte budget means the defaults, not a zero budget.
	rd.SetLimits(Limits{})
	if _, err := rd.Next(); err != nil {
		t.Fatalf("after SetLimits(Limits{}): %v", err)
	}
	rd.SetLimits(Limits{MaxStanzaBytes: 200, MaxDepth: 1})
	if _, err := rd.Next(); err != nil {
		t.Fatalf("depth 1: %v", err)
	}
	rd.SetLimits(Limits{MaxStanzaBytes: 64})
	if _, err := rd.Next(); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("after lowering the limit: %v", err)
	}
}

func TestNewReaderZeroLimitsMeansDefaults(t *testing.T) {
	deep := strings.Repeat("<a>", DefaultLimits.MaxDepth+1) + strings.Repeat("</a>", DefaultLimits.MaxDepth+1)
	if _, err := readAll(deep, Limits{}); !errors.Is(err, ErrTooDeep) {
		t.Errorf("err = %v, want ErrTooDeep from DefaultLimits", err)
	}
}

// TestBuffered: bytes the peer pipelined behind an element stay visible.
func TestBuffered(t *testing.T) {
	in := hdr + `<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>` + "\x16\x03\x01"
	rd := NewReader(strings.NewReader(in), testLimits, 0)
	rd.ReadStreamStart()
	if _, err := rd.Next(); err != nil {
		t.Fatal(err)
	}
	if got := rd.Buffered(); got != 3 {
		t.Errorf("Buffered = %d, want 3", got)
	}
}

// TestReaderKeepsReturnedTreesIntact: the reader's reused state never
// reaches into elements it returned.
func TestReaderKeepsReturnedTreesIntact(t *testing.T) {
	rd := NewReader(strings.NewReader(hdr+`<a><b>1</b></a><c><d>2</d></c>`), testLimits, 0)
	rd.ReadStreamStart()
	first, err := rd.Next()
	if err != nil {
		t.Fatal(err)
	}
	before := dump(first)
	if _, err := rd.Next(); err != nil {
		t.Fatal(err)
	}
	if after := dump(first); after != before {
		t.Errorf("first element changed from %s to %s", before, after)
	}
}

func TestIsEntityRef(t *testing.T) {
	for s, want := range map[string]bool{
		"&foo;": true, "&_x;": true, "&ü;": true,
		"&#65;": false, "&;": false, "&foo (no semicolon)": false, "&1;": false, "&": false,
	} {
		if got := isEntityRef(s); got != want {
			t.Errorf("isEntityRef(%q) = %v", s, got)
		}
	}
}

func TestErrUnsupportedEncodingIsNotWellFormed(t *testing.T) {
	if !errors.Is(ErrUnsupportedEncoding, ErrNotWellFormed) {
		t.Error("ErrUnsupportedEncoding does not wrap ErrNotWellFormed")
	}
}
