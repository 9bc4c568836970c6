package websocket

import (
	"errors"
	"strings"
	"testing"

	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/stream"
)

const openFrame = `<open xmlns="urn:ietf:params:xml:ns:xmpp-framing" to="localhost" version="1.0" xml:lang="de"/>`

// TestInbound: what each client frame becomes in the stream c2s reads.
func TestInbound(t *testing.T) {
	header := streamHeaderStart + ` to="localhost" version="1.0" xml:lang="de">`
	tests := []struct {
		name    string
		before  []string // frames already taken
		restart bool     // the server sent a SASL <success/>
		frame   string
		want    string // the bytes for c2s, or
		wantErr stream.Condition
	}{
		{name: "open", frame: openFrame, want: header},
		{name: "open keeps only stream attributes, escaped", frame: `<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' to='a&amp;b' foo='x' version='1.0'/>`,
			want: streamHeaderStart + ` to="a&amp;b" version="1.0">`},
		{name: "restart after success", before: []string{openFrame}, restart: true, frame: openFrame, want: header},
		{name: "second open without success", before: []string{openFrame}, frame: openFrame, wantErr: stream.PolicyViolation},
		{name: "close", before: []string{openFrame}, frame: `<close xmlns="urn:ietf:params:xml:ns:xmpp-framing"/>`, want: stream.Close},
		{name: "stanza passes as sent", before: []string{openFrame}, frame: `<message xmlns="jabber:client" to="b@localhost"><body>&lt;hi&gt;</body></message>`,
			want: `<message xmlns="jabber:client" to="b@localhost"><body>&lt;hi&gt;</body></message>`},
		{name: "whitespace keepalive", before: []string{openFrame}, frame: " \n", want: " \n"},
		{name: "open in the wrong namespace", frame: `<open xmlns="jabber:client" to="localhost" version="1.0"/>`, wantErr: stream.InvalidNamespace},
		{name: "stream header element", frame: `<stream xmlns="http://etherx.jabber.org/streams"/>`, wantErr: stream.InvalidNamespace},
		{name: "stanza before open", frame: `<presence xmlns="jabber:client"/>`, wantErr: stream.BadFormat},
		{name: "unclosed stream header", frame: `<stream:stream xmlns:stream="http://etherx.jabber.org/streams">`, wantErr: stream.NotWellFormed},
		{name: "two elements", before: []string{openFrame}, frame: `<a xmlns="x"/><b xmlns="x"/>`, wantErr: stream.NotWellFormed},
		{name: "partial element", before: []string{openFrame}, frame: `<a xmlns="x"><b/>`, wantErr: stream.NotWellFormed},
		{name: "smuggled wrapper end tag", before: []string{openFrame}, frame: `<a xmlns="x"/></frame>`, wantErr: stream.NotWellFormed},
		{name: "text after the element", before: []string{openFrame}, frame: `<a xmlns="x"/>text`, wantErr: stream.NotWellFormed},
		{name: "undeclared prefix", before: []string{openFrame}, frame: `<stream:error/>`, wantErr: stream.BadNamespacePrefix},
		{name: "comment", before: []string{openFrame}, frame: `<a xmlns="x"><!-- c --></a>`, wantErr: stream.RestrictedXML},
		{name: "too deep", before: []string{openFrame}, frame: strings.Repeat("<a>", 10) + strings.Repeat("</a>", 10), wantErr: stream.PolicyViolation},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := inbound{limits: xml.Limits{MaxStanzaBytes: 1 << 10, MaxDepth: 8, MaxAttrs: 8}, restartAllowed: func() bool { return tt.restart }}
			for _, f := range tt.before {
				if _, err := in.frame([]byte(f)); err != nil {
					t.Fatalf("frame %q: %v", f, err)
				}
			}
			got, err := in.frame([]byte(tt.frame))
			if tt.wantErr != "" {
				var se *stream.Error
				if !errors.As(err, &se) || se.Condition != tt.wantErr {
					t.Fatalf("got %q, %v; want stream error %s", got, err, tt.wantErr)
				}
				return
			}
			if err != nil || string(got) != tt.want {
				t.Fatalf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

// TestInboundAfterClose: frames after <close/> are dropped.
func TestInboundAfterClose(t *testing.T) {
	in := inbound{limits: xml.DefaultLimits}
	in.frame([]byte(openFrame))
	in.frame([]byte(`<close xmlns="urn:ietf:params:xml:ns:xmpp-framing"/>`))
	if _, err := in.frame([]byte(`<presence xmlns="jabber:client"/>`)); !errors.Is(err, errAfterClose) {
		t.Fatalf("frame after close: %v", err)
	}
}

// TestOutbound: how what c2s writes is cut into frames, whatever the
// write boundaries.
func TestOutbound(t *testing.T) {
	header := string(stream.Header(stream.NSClient, "localhost", "alice@localhost", "abc", "en"))
	features := string(stream.Features(stream.NSClient, []*xml.Element{xml.New(stream.NSBind, "bind")}))
	tests := []struct {
		name   string
		writes []string
		want   []string
	}{
		{name: "header", writes: []string{header},
			want: []string{`<open xmlns="urn:ietf:params:xml:ns:xmpp-framing" from="localhost" to="alice@localhost" id="abc" xml:lang="en" version="1.0"/>`}},
		{name: "features get the stream prefix", writes: []string{features},
			want: []string{`<stream:features xmlns:stream="http://etherx.jabber.org/streams" xmlns="jabber:client"><bind xmlns="urn:ietf:params:xml:ns:xmpp-bind"/></stream:features>`}},
		{name: "stanzas get the content namespace", writes: []string{`<message to="a@b" id="x"><body>a &gt; b</body></message><iq type="result" id="y"/>`},
			want: []string{`<message xmlns="jabber:client" to="a@b" id="x"><body>a &gt; b</body></message>`, `<iq xmlns="jabber:client" type="result" id="y"/>`}},
		{name: "declared namespace kept", writes: []string{`<success xmlns="urn:ietf:params:xml:ns:xmpp-sasl">dj1=</success>`},
			want: []string{`<success xmlns="urn:ietf:params:xml:ns:xmpp-sasl">dj1=</success>`}},
		{name: "quoted > and nesting with the same name", writes: []string{`<message id="a>b"><message><message/></message></message>`},
			want: []string{`<message xmlns="jabber:client" id="a>b"><message><message/></message></message>`}},
		{name: "error then close", writes: []string{string(stream.New(stream.SystemShutdown, "").Bytes()) + stream.Close},
			want: []string{`<stream:error xmlns:stream="http://etherx.jabber.org/streams" xmlns="jabber:client"><system-shutdown xmlns="urn:ietf:params:xml:ns:xmpp-streams"/></stream:error>`, `<close xmlns="urn:ietf:params:xml:ns:xmpp-framing"/>`}},
		{name: "whitespace between elements dropped", writes: []string{"<r xmlns='urn:xmpp:sm:3'/>\n <r xmlns='urn:xmpp:sm:3'/> "}, want: []string{"<r xmlns='urn:xmpp:sm:3'/>", "<r xmlns='urn:xmpp:sm:3'/>"}},
		{name: "element split across writes", writes: []string{`<message><bo`, `dy>hi</body></mes`, `sage>`},
			want: []string{`<message xmlns="jabber:client"><body>hi</body></message>`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var o outbound
			var got []string
			for _, w := range tt.writes {
				frames, _, err := o.split([]byte(w))
				if err != nil {
					t.Fatal(err)
				}
				for _, f := range frames {
					got = append(got, string(f))
				}
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Fatalf("frames\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
			// Each frame stands alone: it parses as one element.
			for _, f := range got {
				if _, err := parseFrame([]byte(f), xml.DefaultLimits); err != nil {
					t.Errorf("frame %q does not stand alone: %v", f, err)
				}
			}
		})
	}
}

// TestOutboundKeepalive: a write of whitespace alone is a keepalive
// (sent as a ping), whitespace inside an element being written is not.
func TestOutboundKeepalive(t *testing.T) {
	var o outbound
	if frames, keepalive, _ := o.split([]byte(" ")); !keepalive || len(frames) != 0 {
		t.Fatalf("keepalive = %v, frames %q", keepalive, frames)
	}
	o.split([]byte("<message>"))
	if _, keepalive, _ := o.split([]byte(" ")); keepalive {
		t.Fatal("whitespace inside an element taken for a keepalive")
	}
}

// TestOutboundSeesSuccess: a SASL <success/> allows the client's next
// <open/>.
func TestOutboundSeesSuccess(t *testing.T) {
	seen := false
	o := outbound{sawSuccess: func() { seen = true }}
	o.split([]byte(`<failure xmlns="urn:ietf:params:xml:ns:xmpp-sasl"><not-authorized/></failure>`))
	if seen {
		t.Fatal("failure counted as success")
	}
	o.split([]byte(`<success xmlns="urn:ietf:params:xml:ns:xmpp-sasl"/>`))
	if !seen {
		t.Fatal("success not seen")
	}
}

// TestOutboundKeepsMeaning: an element means in its frame what it meant
// in the stream, unqualified children of <stream:features/> included.
func TestOutboundKeepsMeaning(t *testing.T) {
	var o outbound
	frames, _, err := o.split([]byte(`<stream:features><session/></stream:features><message><body>x</body></message>`))
	if err != nil || len(frames) != 2 {
		t.Fatalf("frames %q, %v", frames, err)
	}
	features, err := parseFrame(frames[0], xml.DefaultLimits)
	if err != nil || !features.Is(stream.NS, "features") || features.Child(stream.NSClient, "session") == nil {
		t.Fatalf("features frame %q: %v", frames[0], err)
	}
	msg, err := parseFrame(frames[1], xml.DefaultLimits)
	if err != nil || !msg.Is(stream.NSClient, "message") || msg.ChildText(stream.NSClient, "body") != "x" {
		t.Fatalf("message frame %q: %v", frames[1], err)
	}
}
