package c2s_test

import (
	"strings"
	"testing"

	"github.com/skald-xmpp/skald/c2s"
	"github.com/skald-xmpp/skald/internal/xmpptest"
)

// TestConfiguredMechanisms: Config.Mechanisms limits the SASL mechanisms
// offered (in the server's order, strongest first) and accepted; one
// left out is refused with invalid-mechanism (RFC 6120 §6.5.5) like an
// unknown one, and the stream goes on. Without a -PLUS mechanism no
// channel binding type is announced (XEP-0440), and a client that could
// bind ("y" GS2 flag: it thinks the server cannot) is not taken for the
// victim of a downgrade (RFC 5802 §6).
func TestConfiguredMechanisms(t *testing.T) {
	tests := []struct {
		name     string
		mechs    []string
		offered  string // over TLS 1.3, with tls-exporter
		bindings bool
		refused  []string
		works    []xmpptest.SCRAM
	}{
		{"default: all", nil, "SCRAM-SHA-256-PLUS SCRAM-SHA-1-PLUS SCRAM-SHA-256 SCRAM-SHA-1 PLAIN", true,
			nil, []xmpptest.SCRAM{{Mechanism: "SCRAM-SHA-256"}, {Mechanism: "SCRAM-SHA-1"}}},
		{"Prosody migration: no SHA-256", []string{"PLAIN", "SCRAM-SHA-1-PLUS", "SCRAM-SHA-1"}, "SCRAM-SHA-1-PLUS SCRAM-SHA-1 PLAIN", true,
			[]string{"SCRAM-SHA-256", "SCRAM-SHA-256-PLUS"}, []xmpptest.SCRAM{{Mechanism: "SCRAM-SHA-1"}}},
		{"no -PLUS", []string{"SCRAM-SHA-256", "SCRAM-SHA-1", "PLAIN"}, "SCRAM-SHA-256 SCRAM-SHA-1 PLAIN", false,
			[]string{"SCRAM-SHA-256-PLUS", "SCRAM-SHA-1-PLUS"}, []xmpptest.SCRAM{{Mechanism: "SCRAM-SHA-256", GS2: "y,,"}}},
		{"PLAIN only", []string{"PLAIN"}, "PLAIN", false,
			[]string{"SCRAM-SHA-256", "SCRAM-SHA-1", "SCRAM-SHA-256-PLUS"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := start(t, func(c *c2s.Config) { c.Mechanisms = tc.mechs })
			c := xmpptest.DialTLS(t, f.tlsAddr)
			c.OpenStream("localhost")
			var names []string
			for _, m := range c.Features.Child(nsSASL, "mechanisms").Elements() {
				names = append(names, m.Text())
			}
			if got := strings.Join(names, " "); got != tc.offered {
				t.Fatalf("offered %q, want %q", got, tc.offered)
			}
			if got := c.Features.Child("urn:xmpp:sasl-cb:0", "sasl-channel-binding") != nil; got != tc.bindings {
				t.Fatalf("channel binding types announced: %v, want %v: %s", got, tc.bindings, c.Features)
			}
			for _, mech := range tc.refused {
				c.Sendf(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='%s'>biwsbj1hbGljZSxyPWFiY2RlZmdo</auth>`, mech)
				if el := c.Next(); !el.Is(nsSASL, "failure") || el.Child(nsSASL, "invalid-mechanism") == nil {
					t.Fatalf("%s: got %s, want <failure><invalid-mechanism/></failure>", mech, el)
				}
			}
			for _, opt := range tc.works {
				s := xmpptest.DialTLS(t, f.tlsAddr)
				s.OpenStream("localhost")
				if err := s.TrySCRAMWith(opt, "alice", "secret-alice"); err != nil {
					t.Fatalf("%+v: %v", opt, err)
				}
			}
			c.AuthPlain("localhost", "alice", "secret-alice")
		})
	}
}
