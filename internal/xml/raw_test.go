package xml

import (
	"bytes"
	"io"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// rawCanonical are elements (read in the jabber:client default namespace)
// whose serialisation NewRaw must accept: every feature WriteTo writes.
var rawCanonical = []string{
	`<message/>`,
	chatMessage,
	`<message><body>Grüße &amp; "quotes" 'apos' &lt;tag&gt; &#xD; tab&#x9; line` + "\n" + `end 😀</body></message>`,
	`<message a='line&#xA;break&#x9;tab&#xD;cr' b='&quot;&apos;&lt;&gt;&amp;' c=''/>`,
	`<message xmlns:p='urn:p' xmlns:q='urn:q' p:x='1' q:x='2' x='3' p:y='4'><p:b p:y='5'/><c xmlns='' d='6'><e xmlns='urn:e'/></c></message>`,
	`<message xml:lang='en' xmlns:x='xmlns' x:a='1'><body xml:lang='de'>x</body></message>`,
	`<message><x xmlns='urn:a&amp;b'><y><z xmlns='jabber:client'/></y></x>text<![CDATA[<c>]]>tail</message>`,
	`<message><a.b-c_d xmlns='urn:x' e.f-g_h='1'/></message>`,
	`<message>` + strings.Repeat(`<a>`, 31) + strings.Repeat(`</a>`, 31) + `</message>`,
}

// TestNewRawAcceptsWhatWeWrite: our serialisation of a tree read from the
// wire is accepted, and a tree holding it as Raw writes exactly what it
// writes holding the element.
func TestNewRawAcceptsWhatWeWrite(t *testing.T) {
	for _, in := range rawCanonical {
		el := readDefault(t, in)
		b := []byte(el.String())
		r, ok := NewRaw(b, el.Space, el.Local, DefaultLimits)
		if !ok {
			t.Errorf("NewRaw(%s) rejected our own serialisation", b)
			continue
		}
		for _, parent := range []string{"urn:xmpp:forward:0", nsClient, ""} {
			withEl := New(parent, "forwarded").Append(el)
			withRaw := New(parent, "forwarded").Append(&r)
			if a, b := withEl.Bytes(nsClient), withRaw.Bytes(nsClient); parent != nsClient && !bytes.Equal(a, b) {
				t.Errorf("under {%s}: element writes\n%s\nraw writes\n%s", parent, a, b)
			}
			// Under a parent of the same default namespace the
			// declaration is redundant: same tree, not same bytes.
			a, errA := readAll(string(withEl.Bytes(nsClient)), wrappedLimits)
			b, errB := readAll(string(withRaw.Bytes(nsClient)), wrappedLimits)
			if len(a) != 1 || len(b) != 1 || errName(errA) != "eof" || errName(errB) != "eof" {
				t.Fatalf("under {%s}: read back %d and %d elements: %v, %v", parent, len(a), len(b), errA, errB)
			}
			if a, b := dump(a[0]), dump(b[0]); a != b {
				t.Errorf("under {%s}: trees differ\n%s\n%s", parent, a, b)
			}
		}
	}
}

// wrappedLimits leave room for one more level than DefaultLimits.
var wrappedLimits = Limits{MaxStanzaBytes: 1 << 20, MaxDepth: DefaultLimits.MaxDepth + 1, MaxAttrs: DefaultLimits.MaxAttrs}

// readDefault reads the single element in body under DefaultLimits.
func readDefault(t testing.TB, body string) *Element {
	t.Helper()
	els, err := readAll(body, DefaultLimits)
	if len(els) != 1 || errName(err) != "eof" {
		t.Fatalf("reading %q: got %d elements, err %v", body, len(els), err)
	}
	return els[0]
}

// TestNewRawRejects: anything but the exact canonical form is refused,
// well-formed or not.
func TestNewRawRejects(t *testing.T) {
	const m = `<message xmlns="jabber:client"`
	for _, tt := range []struct{ why, in string }{
		{"empty", ``},
		{"no namespace", `<message/>`},
		{"other namespace", `<message xmlns="jabber:server"/>`},
		{"other name", `<iq xmlns="jabber:client"/>`},
		{"name prefix only", `<messages xmlns="jabber:client"/>`},
		{"single quotes", `<message xmlns='jabber:client'/>`},
		{"single-quoted attribute", m + ` id='1'/>`},
		{"prefixed element", `<c:message xmlns:c="jabber:client"/>`},
		{"leading space", ` ` + m + `/>`},
		{"trailing space", m + `/> `},
		{"trailing element", m + `/><message xmlns="jabber:client"/>`},
		{"second stanza smuggled in", m + `><body>x</body></message><message xmlns="jabber:client" from="bank@example.com"><body>y</body></message>`},
		{"trailing text", m + `/>x`},
		{"unclosed", m + `><body>x</body>`},
		{"mismatched end tag", m + `><body>x</bodx></message>`},
		{"end tag of the root early", m + `><body></message></body>`},
		{"empty content", m + `></message>`},
		{"empty child", m + `><body></body></message>`},
		{"space before >", m + ` >x</message>`},
		{"space in self-closing", m + ` />`},
		{"two spaces", m + `  id="1"/>`},
		{"space around =", m + ` id = "1"/>`},
		{"unquoted", m + ` id=1/>`},
		{"redundant declaration", m + `><body xmlns="jabber:client">x</body></message>`},
		{"empty default at the top", `<message xmlns=""/>`},
		{"default namespace is xml's", m + `><x xmlns="http://www.w3.org/XML/1998/namespace"/></message>`},
		{"default namespace is xmlns'", m + `><x xmlns="http://www.w3.org/2000/xmlns/"/></message>`},
		{"xmlns as a later attribute", m + ` id="1" xmlns="jabber:client"/>`},
		{"prefix not ns<k>", m + ` xmlns:p="urn:p" p:a="1"/>`},
		{"ns2 before ns1", m + ` xmlns:ns2="urn:p" ns2:a="1"/>`},
		{"ns01", m + ` xmlns:ns01="urn:p" ns01:a="1"/>`},
		{"declaration not followed by its use", m + ` xmlns:ns1="urn:p" a="1"/>`},
		{"declaration used by another prefix", m + ` xmlns:ns1="urn:p" ns2:a="1"/>`},
		{"undeclared prefix", m + ` ns1:a="1"/>`},
		{"prefix declared on the parent", m + ` xmlns:ns1="urn:p" ns1:a="1"><x ns1:b="2"/></message>`},
		{"two prefixes for one namespace", m + ` xmlns:ns1="urn:p" ns1:a="1" xmlns:ns2="urn:p" ns2:b="2"/>`},
		{"empty binding", m + ` xmlns:ns1="" ns1:a="1"/>`},
		{"binding to xml's namespace", m + ` xmlns:ns1="http://www.w3.org/XML/1998/namespace" ns1:a="1"/>`},
		{"binding to xmlns' namespace", m + ` xmlns:ns1="http://www.w3.org/2000/xmlns/" ns1:a="1"/>`},
		{"xmlns:xml", m + ` xmlns:xml="http://www.w3.org/XML/1998/namespace" xml:lang="en"/>`},
		{"duplicate attribute", m + ` id="1" id="2"/>`},
		{"duplicate xml:lang", m + ` xml:lang="en" xml:lang="de"/>`},
		{"duplicate namespaced attribute", m + ` xmlns:ns1="urn:p" ns1:a="1" ns1:a="2"/>`},
		{"non-ASCII name", m + `><é/></message>`},
		{"name starting with a digit", m + `><1/></message>`},
		{"colon in attribute local name", m + ` xml:a:b="1"/>`},
		{"raw > in text", m + `>a>b</message>`},
		{"raw CR in text", m + ">a\rb</message>"},
		{"raw NUL in text", m + ">a\x00b</message>"},
		{"raw < in attribute", m + ` id="a<b"/>`},
		{"raw > in attribute", m + ` id="a>b"/>`},
		{"raw ' in attribute", m + ` id="a'b"/>`},
		{"raw LF in attribute", m + " id=\"a\nb\"/>"},
		{"raw TAB in attribute", m + " id=\"a\tb\"/>"},
		{"&quot; in text", m + `>&quot;</message>`},
		{"&#xA; in text", m + `>&#xA;</message>`},
		{"decimal reference", m + `>&#13;</message>`},
		{"lower-case hex reference", m + `>&#xd;</message>`},
		{"other entity", m + `>&nbsp;</message>`},
		{"bare ampersand", m + `>a & b</message>`},
		{"unterminated reference", m + `>&amp</message>`},
		{"CDATA", m + `><![CDATA[x]]></message>`},
		{"comment", m + `><!-- x --></message>`},
		{"processing instruction", m + `><?x y?></message>`},
		{"invalid UTF-8", m + ">\xff</message>"},
		{"truncated UTF-8", m + ">\xc3</message>"},
		{"U+FFFE", m + ">\uFFFE</message>"},
		{"surrogate", m + ">\xed\xa0\x80</message>"},
		{"unterminated attribute", m + ` id="1/>`},
		{"unterminated tag", m},
		{"too deep", m + `>` + strings.Repeat(`<a>`, 32) + strings.Repeat(`</a>`, 32) + `</message>`},
		{"too many attributes", m + manyAttrs(64) + `/>`},
	} {
		if _, ok := NewRaw([]byte(tt.in), nsClient, "message", DefaultLimits); ok {
			t.Errorf("%s: NewRaw(%q) accepted", tt.why, tt.in)
		}
	}
}

// manyAttrs returns n distinct attributes, with a leading space each.
func manyAttrs(n int) string {
	var b strings.Builder
	for i := range n {
		b.WriteString(` a`)
		b.WriteString(strings.Repeat("x", i))
		b.WriteString(`="1"`)
	}
	return b.String()
}

// TestNewRawLimits: the limits are Reader's, counted the same way.
func TestNewRawLimits(t *testing.T) {
	const m = `<message xmlns="jabber:client"`
	for _, tt := range []struct {
		in   string
		lim  Limits
		want bool
	}{
		{m + `><a><b/></a></message>`, Limits{MaxDepth: 3}, true},
		{m + `><a><b/></a></message>`, Limits{MaxDepth: 2}, false},
		{m + `/>`, Limits{MaxAttrs: 1}, true}, // the declaration counts
		{m + ` a="1"/>`, Limits{MaxAttrs: 1}, false},
		{m + ` xmlns:ns1="urn:p" ns1:a="1"/>`, Limits{MaxAttrs: 3}, true},
		{m + ` xmlns:ns1="urn:p" ns1:a="1"/>`, Limits{MaxAttrs: 2}, false},
		{m + manyAttrs(63) + `/>`, Limits{}, true}, // 0: the scanner's own cap
		{m + manyAttrs(64) + `/>`, Limits{}, false},
	} {
		_, got := NewRaw([]byte(tt.in), nsClient, "message", tt.lim)
		if got != tt.want {
			t.Errorf("NewRaw(%.60q, %+v) = %v, want %v", tt.in, tt.lim, got, tt.want)
		}
		// Reader agrees with what NewRaw accepts.
		if tt.want {
			if _, err := readAll(tt.in, Limits{MaxStanzaBytes: 1 << 20, MaxDepth: tt.lim.MaxDepth, MaxAttrs: tt.lim.MaxAttrs}); errName(err) != "eof" {
				t.Errorf("Reader refuses %.60q under %+v: %v", tt.in, tt.lim, err)
			}
		}
	}
}

// TestNewRawNamespaceUnescaped: the top element's namespace is compared
// with its value, not its escaped spelling.
func TestNewRawNamespaceUnescaped(t *testing.T) {
	el := New(`urn:a&b"c`, "x")
	if _, ok := NewRaw([]byte(el.String()), `urn:a&b"c`, "x", DefaultLimits); !ok {
		t.Errorf("NewRaw(%s) rejected", el)
	}
	for _, space := range []string{`urn:a&amp;b&quot;c`, `urn:a&b"`, `urn:a&b"cd`, ""} {
		if _, ok := NewRaw([]byte(el.String()), space, "x", DefaultLimits); ok {
			t.Errorf("NewRaw(%s) accepted as namespace %q", el, space)
		}
	}
}

// TestRawInTree: a Raw child is written, sized and cloned, and otherwise
// invisible to the tree's methods.
func TestRawInTree(t *testing.T) {
	r, ok := NewRaw([]byte(`<message xmlns="jabber:client"><body>hi</body></message>`), nsClient, "message", DefaultLimits)
	if !ok {
		t.Fatal("NewRaw rejected a canonical message")
	}
	fwd := New("urn:xmpp:forward:0", "forwarded").AppendText("t").Append(New("urn:xmpp:delay", "delay"), &r)
	if got := fwd.Child("", "message"); got != nil {
		t.Errorf("Child found %s", got)
	}
	if got := fwd.ChildNS(nsClient); got != nil {
		t.Errorf("ChildNS found %s", got)
	}
	if got := len(fwd.Elements()); got != 1 {
		t.Errorf("Elements has %d, want the delay only", got)
	}
	if got := fwd.Text(); got != "t" {
		t.Errorf("Text = %q", got)
	}
	if n := fwd.RemoveChildren(func(*Element) bool { return true }); n != 1 || len(fwd.Nodes) != 2 {
		t.Errorf("RemoveChildren removed %d, left %d nodes", n, len(fwd.Nodes))
	}
	want := `<forwarded xmlns="urn:xmpp:forward:0">t<message xmlns="jabber:client"><body>hi</body></message></forwarded>`
	if got := fwd.String(); got != want {
		t.Errorf("String:\n got %s\nwant %s", got, want)
	}
	c := fwd.Clone()
	if got := c.String(); got != want {
		t.Errorf("Clone writes %s", got)
	}
	if hint, n := fwd.sizeHint(""), len(want); hint < n {
		t.Errorf("sizeHint %d < %d", hint, n)
	}
	if got := string(r.Bytes()); got != `<message xmlns="jabber:client"><body>hi</body></message>` {
		t.Errorf("Bytes = %s", got)
	}
}

// TestNewRawDoesNotAllocate: the check runs on every stored message of a
// MAM page; it must cost a scan, not garbage.
func TestNewRawDoesNotAllocate(t *testing.T) {
	b := []byte(readDefault(t, rawCanonical[4]).String())
	allocs := testing.AllocsPerRun(100, func() {
		if _, ok := NewRaw(b, nsClient, "message", DefaultLimits); !ok {
			t.Fatal("rejected")
		}
	})
	if allocs != 0 {
		t.Errorf("NewRaw allocates %v times", allocs)
	}
}

// BenchmarkNewRaw measures the check against reading the same message
// (what decoding a stored message costs without it).
func BenchmarkNewRaw(b *testing.B) {
	el := readOne(b, chatMessage)
	raw := []byte(el.String())
	b.Run("check", func(b *testing.B) {
		b.SetBytes(int64(len(raw)))
		b.ReportAllocs()
		for b.Loop() {
			if _, ok := NewRaw(raw, nsClient, "message", DefaultLimits); !ok {
				b.Fatal("rejected")
			}
		}
	})
	b.Run("parse", func(b *testing.B) {
		b.SetBytes(int64(len(raw)))
		b.ReportAllocs()
		doc := []byte(`<s xmlns="jabber:client">` + string(raw) + `</s>`)
		for b.Loop() {
			rd := NewReader(bytes.NewReader(doc), DefaultLimits, 4096)
			if _, _, err := rd.ReadStreamStart(); err != nil {
				b.Fatal(err)
			}
			if _, err := rd.Next(); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// FuzzNewRaw checks NewRaw both ways. Sound: whatever it accepts reads,
// under any default namespace, as one element {space}local within the
// limits, which writes back exactly the same bytes. Complete: the
// serialisation of every element Reader returns is accepted (unless it
// has names the scanner leaves to the parser, or writing it adds
// declarations beyond the limits).
func FuzzNewRaw(f *testing.F) {
	for _, s := range append(append([]string(nil), rawCanonical...), fuzzSeeds...) {
		f.Add([]byte(s), nsClient, "message")
	}
	for _, in := range rawCanonical {
		f.Add([]byte(readDefault(f, in).String()), nsClient, "message")
	}
	f.Add([]byte(`<x xmlns="urn:a&amp;b"/>`), "urn:a&b", "x")
	f.Fuzz(func(t *testing.T, data []byte, space, local string) {
		if _, ok := NewRaw(data, space, local, fuzzLimits); ok {
			for _, root := range []string{nsClient, "urn:other", ""} {
				el := readRawBack(t, data, root)
				if !el.Is(space, local) {
					t.Fatalf("NewRaw(%q, %q, %q) accepted; reads back as {%s}%s", data, space, local, el.Space, el.Local)
				}
				if out := el.String(); out != string(data) {
					t.Fatalf("NewRaw accepted %q; it reads back as a tree that writes %q", data, out)
				}
			}
		}

		rd := NewReader(io.MultiReader(strings.NewReader(hdr), bytes.NewReader(data)), fuzzLimits, 0)
		if _, _, err := rd.ReadStreamStart(); err != nil {
			t.Fatalf("fixed header: %v", err)
		}
		for {
			el, err := rd.Next()
			if err != nil {
				return
			}
			if el.Space == "" || !scannable(el, "", fuzzLimits.MaxAttrs) {
				continue
			}
			if out := el.String(); !isRaw(out, el.Space, el.Local) {
				t.Fatalf("NewRaw rejects our serialisation %q of %q", out, data)
			}
		}
	})
}

func isRaw(b, space, local string) bool {
	_, ok := NewRaw([]byte(b), space, local, fuzzLimits)
	return ok
}

// readRawBack reads b as the only element under a root whose default
// namespace is rootNS.
func readRawBack(t *testing.T, b []byte, rootNS string) *Element {
	t.Helper()
	doc := `<s xmlns="` + rootNS + `">` + string(b) + `</s>`
	lim := fuzzLimits
	lim.MaxStanzaBytes = int64(len(b)) + 1
	rd := NewReader(strings.NewReader(doc), lim, 0)
	if _, _, err := rd.ReadStreamStart(); err != nil {
		t.Fatal(err)
	}
	el, err := rd.Next()
	if err != nil {
		t.Fatalf("NewRaw accepted %q; reading it under %q: %v", b, rootNS, err)
	}
	if _, err := rd.Next(); err != ErrStreamEnd {
		t.Fatalf("NewRaw accepted %q; under %q it is followed by %v", b, rootNS, err)
	}
	return el
}

// scannable reports whether NewRaw is meant to accept e's serialisation:
// ASCII names only, and no element written with more than maxAttrs
// attributes (WriteTo declares a prefix on each element using it, which
// may add declarations Reader counted on an ancestor).
func scannable(e *Element, parentNS string, maxAttrs int) bool {
	if !asciiName(e.Local) {
		return false
	}
	n := len(e.Attrs)
	if e.Space != parentNS {
		n++
	}
	var spaces []string
	for _, a := range e.Attrs {
		if !asciiName(a.Local) {
			return false
		}
		if a.Space != "" && a.Space != NSXML && !slices.Contains(spaces, a.Space) {
			spaces = append(spaces, a.Space)
		}
	}
	if n+len(spaces) > maxAttrs {
		return false
	}
	for _, c := range e.Elements() {
		if !scannable(c, e.Space, maxAttrs) {
			return false
		}
	}
	return true
}

func asciiName(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// TestNewRawSingleEdits: every one-byte edit (replacement, insertion,
// deletion) of canonical serialisations, with bytes that matter to XML,
// is either rejected or sound in FuzzNewRaw's sense. Deterministic, so
// the edits next to canonical forms that matter most are always tried.
func TestNewRawSingleEdits(t *testing.T) {
	edits := []byte("<>&\"'/=:;# x1-.\n\r\t\x00\xc3\xff")
	try := func(b []byte) {
		if _, ok := NewRaw(b, nsClient, "message", fuzzLimits); !ok {
			return
		}
		for _, root := range []string{nsClient, "urn:other"} {
			el := readRawBack(t, b, root)
			if !el.Is(nsClient, "message") || el.String() != string(b) {
				t.Fatalf("NewRaw accepted %q; it reads back as %s", b, el)
			}
		}
	}
	accepted := 0
	for _, in := range rawCanonical {
		orig := []byte(readDefault(t, in).String())
		for i := 0; i <= len(orig); i++ {
			for _, c := range edits {
				if i < len(orig) {
					try(append(append(append([]byte(nil), orig[:i]...), c), orig[i+1:]...))
				}
				try(append(append(append([]byte(nil), orig[:i]...), c), orig[i:]...))
			}
			if i < len(orig) {
				b := append(append([]byte(nil), orig[:i]...), orig[i+1:]...)
				if _, ok := NewRaw(b, nsClient, "message", fuzzLimits); ok {
					accepted++
				}
				try(b)
			}
		}
	}
	if accepted == 0 {
		t.Error("no deletion accepted: the edits do not reach the accepting paths")
	}
}
