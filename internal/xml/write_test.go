package xml

import (
	"bytes"
	"testing"
)

func TestEscape(t *testing.T) {
	tests := []struct {
		name, in, text, attr string
	}{
		{"plain", "hello", "hello", "hello"},
		{"markup", `a&b<c>d`, `a&amp;b&lt;c&gt;d`, `a&amp;b&lt;c&gt;d`},
		{"quotes", `"it's"`, `"it's"`, `&quot;it&apos;s&quot;`},
		{"CDATA end", `]]>`, `]]&gt;`, `]]&gt;`},
		{"carriage return", "a\rb", "a&#xD;b", "a&#xD;b"},
		{"tab and newline", "a\tb\nc", "a\tb\nc", "a&#x9;b&#xA;c"},
		{"NUL", "a\x00b", "a\uFFFDb", "a\uFFFDb"},
		{"escape character", "\x1b[0m", "\uFFFD[0m", "\uFFFD[0m"},
		{"DEL is allowed", "\x7f", "\x7f", "\x7f"},
		{"invalid UTF-8", "a\xffb\xc3", "a\uFFFDb\uFFFD", "a\uFFFDb\uFFFD"},
		{"U+FFFE", "\uFFFE", "\uFFFD", "\uFFFD"},
		{"U+FFFF", "\uFFFF", "\uFFFD", "\uFFFD"},
		{"U+FFFD itself", "\uFFFD", "\uFFFD", "\uFFFD"},
		{"non-BMP", "😀", "😀", "😀"},
		{"multibyte", "ü€", "ü€", "ü€"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			EscapeText(&b, tt.in)
			if got := b.String(); got != tt.text {
				t.Errorf("EscapeText = %q, want %q", got, tt.text)
			}
			b.Reset()
			EscapeAttr(&b, tt.in)
			if got := b.String(); got != tt.attr {
				t.Errorf("EscapeAttr = %q, want %q", got, tt.attr)
			}
		})
	}
}

func TestWrite(t *testing.T) {
	lang := Attr{Space: NSXML, Local: "lang", Value: "en"}
	tests := []struct {
		name     string
		el       *Element
		parentNS string
		want     string
	}{
		{"empty element", New(nsClient, "presence"), nsClient, `<presence/>`},
		{"declares differing namespace", New("urn:x", "x"), nsClient, `<x xmlns="urn:x"/>`},
		{"no namespace under a default", New("", "x"), nsClient, `<x xmlns=""/>`},
		{"no namespace at top", New("", "x"), "", `<x/>`},
		{"attributes in order", New(nsClient, "iq", "type", "get", "id", "1"), nsClient, `<iq type="get" id="1"/>`},
		{"attribute escaping", New(nsClient, "m", "id", `a"b'c<&>`), nsClient, `<m id="a&quot;b&apos;c&lt;&amp;&gt;"/>`},
		{"namespace escaping", New(`urn:"x"`, "m"), nsClient, `<m xmlns="urn:&quot;x&quot;"/>`},
		{"children inherit", New(nsClient, "message").Append(
			New(nsClient, "body").AppendText("hi & bye"),
			New("urn:xmpp:receipts", "request"),
		), nsClient, `<message><body>hi &amp; bye</body><request xmlns="urn:xmpp:receipts"/></message>`},
		{"grandchild in child's namespace", New(nsClient, "iq").Append(
			New("jabber:iq:roster", "query").Append(New("jabber:iq:roster", "item", "jid", "a@b")),
		), nsClient, `<iq><query xmlns="jabber:iq:roster"><item jid="a@b"/></query></iq>`},
		{"child back in the outer namespace", New("urn:a", "a").Append(New(nsClient, "b")),
			nsClient, `<a xmlns="urn:a"><b xmlns="jabber:client"/></a>`},
		{"xml:lang", &Element{Space: nsClient, Local: "body", Attrs: []Attr{lang}}, nsClient, `<body xml:lang="en"/>`},
		{"namespaced attributes share a prefix", &Element{Space: nsClient, Local: "m", Attrs: []Attr{
			{Space: "urn:p", Local: "a", Value: "1"},
			{Space: "urn:q", Local: "b", Value: "2"},
			{Space: "urn:p", Local: "c", Value: "3"},
		}}, nsClient, `<m xmlns:ns1="urn:p" ns1:a="1" xmlns:ns2="urn:q" ns2:b="2" ns1:c="3"/>`},
		{"text with newline and CR", New(nsClient, "body").AppendText("a\r\nb"), nsClient, "<body>a&#xD;\nb</body>"},
		{"text control char replaced", New(nsClient, "body").AppendText("a\x07b"), nsClient, "<body>a\uFFFDb</body>"},
		{"mixed content", New(nsClient, "p").Append(Text("a"), New(nsClient, "b"), Text("c")), nsClient, `<p>a<b/>c</p>`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := string(tt.el.Bytes(tt.parentNS)); got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestStringDeclaresNamespace(t *testing.T) {
	el := New(nsClient, "message").Append(New(nsClient, "body").AppendText("x"))
	if got, want := el.String(), `<message xmlns="jabber:client"><body>x</body></message>`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

// TestRoundTrip: parse → Bytes → parse gives the same tree.
func TestRoundTrip(t *testing.T) {
	for _, in := range []string{
		`<message/>`,
		chatMessage,
		`<iq type='result' id='1'><query xmlns='jabber:iq:roster' ver='v1'><item jid='a@b' name='&lt;A&amp;B&gt;' subscription='both'><group>Friends</group></item></query></iq>`,
		`<message><body xml:lang='de'>Grüße &amp; "quotes" 'apos' &#xD; tab&#x9;</body></message>`,
		`<m a='line&#xA;break&#x9;tab&#xD;cr' b='&quot;&apos;'/>`,
		`<a xmlns:p='urn:p' xmlns:q='urn:q' p:x='1' q:x='2' x='3'><p:b p:y='4'/><c xmlns='' d='5'/></a>`,
		`<a xmlns:p='urn:p'><b xmlns:p='urn:other' p:x='1'><p:c/></b></a>`,
		`<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls></stream:features>`,
		`<m>text<![CDATA[<cdata> & ]]]]><![CDATA[>]]>more<x/>tail</m>`,
		`<m>😀 ü € &#x10FFFF;</m>`,
		`<m xmlns=''><n xmlns='jabber:client'/></m>`,
	} {
		el := readOne(t, in)
		out := el.Bytes(nsClient)
		again := readOne(t, string(out))
		if a, b := dump(el), dump(again); a != b {
			t.Errorf("round trip of %s\nwrote %s\nfirst  %s\nsecond %s", in, out, a, b)
		}
		// Writing is deterministic: the second tree writes the same bytes.
		if out2 := again.Bytes(nsClient); !bytes.Equal(out, out2) {
			t.Errorf("second write differs:\n%s\n%s", out, out2)
		}
	}
}

// TestWriteInvalidCharsReadBack: whatever an Element holds, we write
// something our own reader (and so any peer's) accepts.
func TestWriteInvalidCharsReadBack(t *testing.T) {
	el := New(nsClient, "message", "id", "a\x00b\xff").Append(
		New(nsClient, "body").AppendText("x\x01y\uFFFEz\xc3"),
	)
	got := dump(readOne(t, string(el.Bytes(nsClient))))
	want := "{jabber:client}message[id=\"a\uFFFDb\uFFFD\"]({jabber:client}body(\"x\uFFFDy\uFFFDz\uFFFD\"))"
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

// TestSizeHint: the estimate covers the usual stanza, so Bytes allocates
// its buffer once.
func TestSizeHint(t *testing.T) {
	for _, in := range []string{chatMessage, `<presence/>`, `<iq type='result' id='1'><query xmlns='jabber:iq:roster'><item jid='a@b' subscription='both'/></query></iq>`} {
		el := readOne(t, in)
		if hint, n := el.sizeHint(nsClient), len(el.Bytes(nsClient)); hint < n {
			t.Errorf("sizeHint %d < %d for %s", hint, n, in)
		}
	}
}
