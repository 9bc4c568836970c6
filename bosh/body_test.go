package bosh

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/skald-xmpp/skald/internal/xml"
)

const ns = `xmlns='` + NSHTTPBind + `'`

func TestParseRequest(t *testing.T) {
	req, err := parseRequest([]byte(`<?xml version='1.0'?><body content='text/xml; charset=utf-8' hold='1' rid='1573741820' to='example.com' route='xmpp:example.com:9999' ver='1.6' wait='60' ack='1' xml:lang='en' xmpp:version='1.0' `+ns+` xmlns:xmpp='urn:xmpp:xbosh'/>`+"\n"), xml.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	want := request{rid: 1573741820, to: "example.com", lang: "en", ver: "1.6", version: "1.0", content: "text/xml; charset=utf-8", wait: 60, hold: 1, ack: 1}
	if req.payload != nil || req.children != 0 {
		t.Fatalf("payload %q", req.payload)
	}
	if !reflect.DeepEqual(*req, want) {
		t.Fatalf("got %+v\nwant %+v", *req, want)
	}

	// Stanzas without a namespace are jabber:client, children included
	// (XEP-0206 §2); others keep theirs.
	req, err = parseRequest([]byte(`<body rid='2' sid='s' type='terminate' `+ns+`><message to='a@b'><body>hi</body></message><presence xmlns='jabber:client'/><auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>AGEAYg==</auth></body>`), xml.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	if !req.terminate || req.sid != "s" || req.children != 3 || req.wait != -1 || req.hold != -1 {
		t.Fatalf("got %+v", req)
	}
	if got, want := string(req.payload), `<message to="a@b"><body>hi</body></message><presence/><auth xmlns="urn:ietf:params:xml:ns:xmpp-sasl" mechanism="PLAIN">AGEAYg==</auth>`; got != want {
		t.Fatalf("payload\n got %s\nwant %s", got, want)
	}

	req, err = parseRequest([]byte(`<body rid='3' sid='s' to='example.com' xml:lang='en' xmpp:restart='true' `+ns+` xmlns:xmpp='urn:xmpp:xbosh'/>`), xml.DefaultLimits)
	if err != nil || !req.restart {
		t.Fatalf("restart: %+v %v", req, err)
	}

	for _, bad := range []string{
		``,
		`hello`,
		`<body rid='1' xmlns='jabber:client'/>`,
		`<body ` + ns + `/>`,
		`<body rid='0' ` + ns + `/>`,
		`<body rid='-1' ` + ns + `/>`,
		`<body rid='9007199254740992' ` + ns + `/>`,
		`<body rid='1' wait='x' ` + ns + `/>`,
		`<body rid='1' hold='70000' ` + ns + `/>`,
		`<body rid='1' ack='x' ` + ns + `/>`,
		`<body rid='1' type='error' ` + ns + `/>`,
		`<body rid='1' xmpp:restart='maybe' ` + ns + ` xmlns:xmpp='urn:xmpp:xbosh'/>`,
		`<body rid='1' ` + ns + `>text</body>`,
		`<body rid='1' ` + ns + `><message>`,
		`<body rid='1' ` + ns + `/><body rid='2' ` + ns + `/>`,
		`<body rid='1' ` + ns + `/>trailing`,
		`<body rid='1' ` + ns + `><!-- comment --></body>`,
		`<body rid='1' ` + ns + `><x:message/></body>`,
	} {
		if req, err := parseRequest([]byte(bad), xml.DefaultLimits); err == nil {
			t.Errorf("%q: accepted as %+v", bad, req)
		}
	}
	// The limits of c2s apply to each payload.
	big := `<body rid='1' ` + ns + `><message><body>` + strings.Repeat("x", 2000) + `</body></message></body>`
	if _, err := parseRequest([]byte(big), xml.Limits{MaxStanzaBytes: 1000, MaxDepth: 8, MaxAttrs: 8}); err == nil {
		t.Error("a stanza over the size limit was accepted")
	}
}

// FuzzParseRequest: a request either fails or yields a payload that reads
// back, on a c2s stream, as complete elements.
func FuzzParseRequest(f *testing.F) {
	f.Add([]byte(`<body rid='2' sid='s' ` + ns + `><message to='a@b'><body>hi</body></message></body>`))
	f.Add([]byte(`<body rid='3' xmpp:restart='true' ` + ns + ` xmlns:xmpp='urn:xmpp:xbosh'/>`))
	f.Add([]byte(`<body rid='1' to='x' wait='60' hold='1' ` + ns + `/>`))
	f.Fuzz(func(t *testing.T, b []byte) {
		req, err := parseRequest(b, xml.DefaultLimits)
		if err != nil {
			return
		}
		doc := append([]byte(`<stream:stream xmlns="jabber:client" xmlns:stream="http://etherx.jabber.org/streams">`), req.payload...)
		doc = append(doc, "</stream:stream>"...)
		rd := xml.NewReader(bytes.NewReader(doc), xml.Limits{MaxStanzaBytes: 1 << 20, MaxDepth: 64, MaxAttrs: 128}, 0)
		if _, _, err := rd.ReadStreamStart(); err != nil {
			t.Fatalf("payload of %q: %v", b, err)
		}
		n := 0
		for {
			_, err := rd.Next()
			if errors.Is(err, xml.ErrStreamEnd) {
				break
			}
			if err != nil && err != io.EOF {
				t.Fatalf("payload %q of %q: %v", req.payload, b, err)
			}
			n++
		}
		if n != req.children {
			t.Fatalf("payload %q: %d elements, want %d", req.payload, n, req.children)
		}
	})
}

func TestVersion(t *testing.T) {
	s := &session{}
	for client, want := range map[string]string{"": "1.11", "1.6": "1.6", "1.11": "1.11", "1.12": "1.11", "2.0": "1.11", "1.9": "1.9", "1.10": "1.10"} {
		if got := s.negotiatedVersion(client); got != want {
			t.Errorf("ver %q: %q, want %q", client, got, want)
		}
	}
}

func TestAllowedContent(t *testing.T) {
	for in, want := range map[string]string{
		"":                         "",
		"text/xml; charset=utf-8":  "text/xml; charset=utf-8",
		"application/xml":          "application/xml",
		"text/plain":               "text/plain",
		"text/html":                "",
		"text/html; charset=utf-8": "",
		"application/xhtml+xml":    "",
		"garbage;;":                "",
	} {
		if got := allowedContent(in); got != want {
			t.Errorf("%q: %q, want %q", in, got, want)
		}
	}
}
