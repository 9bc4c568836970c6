package stream

import (
	"strings"
	"testing"

	"github.com/skald-xmpp/skald/internal/xml"
)

func TestHeader(t *testing.T) {
	tests := []struct {
		name               string
		from, to, id, lang string
		want               string
		wantAttrs          map[string]string
		wantLang           string
	}{
		{
			name: "typical", from: "example.com", id: "c2s-1", lang: "en",
			want: `<?xml version='1.0'?><stream:stream xmlns="jabber:client" xmlns:stream="http://etherx.jabber.org/streams"` +
				` from="example.com" id="c2s-1" xml:lang="en" version="1.0">`,
			wantAttrs: map[string]string{"from": "example.com", "id": "c2s-1", "version": "1.0"},
			wantLang:  "en",
		},
		{
			name:      "empty fields omitted",
			want:      `<?xml version='1.0'?><stream:stream xmlns="jabber:client" xmlns:stream="http://etherx.jabber.org/streams" version="1.0">`,
			wantAttrs: map[string]string{"version": "1.0"},
		},
		{
			name: "escaping", from: `a"b`, to: `x'y<z>`, id: "&id", lang: "en\"",
			want: `<?xml version='1.0'?><stream:stream xmlns="jabber:client" xmlns:stream="http://etherx.jabber.org/streams"` +
				` from="a&quot;b" to="x&apos;y&lt;z&gt;" id="&amp;id" xml:lang="en&quot;" version="1.0">`,
			wantAttrs: map[string]string{"from": `a"b`, "to": `x'y<z>`, "id": "&id", "version": "1.0"},
			wantLang:  `en"`,
		},
		{
			name: "control characters cannot break out", to: "a\nb\x00",
			want: `<?xml version='1.0'?><stream:stream xmlns="jabber:client" xmlns:stream="http://etherx.jabber.org/streams"` +
				" to=\"a&#xA;b\uFFFD\" version=\"1.0\">",
			wantAttrs: map[string]string{"to": "a\nb\uFFFD", "version": "1.0"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := string(Header(NSClient, tt.from, tt.to, tt.id, tt.lang))
			if got != tt.want {
				t.Fatalf("got  %s\nwant %s", got, tt.want)
			}
			rd := xml.NewReader(strings.NewReader(got), xml.DefaultLimits, 0)
			root, ns, err := rd.ReadStreamStart()
			if err != nil {
				t.Fatal(err)
			}
			if !root.Is(NS, "stream") || ns != NSClient {
				t.Errorf("root {%s}%s, default ns %q", root.Space, root.Local, ns)
			}
			for k, v := range tt.wantAttrs {
				if root.Attr(k) != v {
					t.Errorf("%s = %q, want %q", k, root.Attr(k), v)
				}
			}
			if len(root.Attrs) != len(tt.wantAttrs)+boolInt(tt.wantLang != "") {
				t.Errorf("attributes %v", root.Attrs)
			}
			if root.Lang() != tt.wantLang {
				t.Errorf("xml:lang = %q, want %q", root.Lang(), tt.wantLang)
			}
		})
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestFeatures(t *testing.T) {
	got := string(Features(NSClient, []*xml.Element{
		xml.New(NSTLS, "starttls").Append(xml.New(NSTLS, "required")),
		xml.New(NSClient, "x"),
	}))
	want := `<stream:features><starttls xmlns="urn:ietf:params:xml:ns:xmpp-tls"><required/></starttls><x/></stream:features>`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	if got := string(Features(NSClient, nil)); got != `<stream:features></stream:features>` {
		t.Errorf("no features: %s", got)
	}
	// Followed by the close tag, a whole stream reads back.
	in := string(Header(NSClient, "example.com", "", "1", "")) + want + Close
	rd := xml.NewReader(strings.NewReader(in), xml.DefaultLimits, 0)
	if _, _, err := rd.ReadStreamStart(); err != nil {
		t.Fatal(err)
	}
	el, err := rd.Next()
	if err != nil || !el.Is(NS, "features") || el.Child(NSTLS, "starttls") == nil || el.Child(NSClient, "x") == nil {
		t.Fatalf("features read back as %v, %v", el, err)
	}
	if _, err := rd.Next(); err != xml.ErrStreamEnd {
		t.Errorf("after Close: %v", err)
	}
}
