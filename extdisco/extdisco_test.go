package extdisco

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/skald-xmpp/skald/internal/routertest"
	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/jid"
)

const secret = "0123456789abcdef-turn"

var testConfig = Config{CredentialLifetime: 24 * time.Hour, Services: []Service{
	{Type: "stun", Host: "stun.example.org", Port: 3478, Transport: "udp"},
	{Type: "turn", Host: "turn.example.org", Port: 3478, Transport: "udp", Secret: secret},
	{Type: "turn", Host: "turn.example.org", Port: 3478, Transport: "tcp", Name: "TURN over TCP", Secret: secret},
	{Type: "turns", Host: "turn.example.org", Port: 5349, Transport: "tcp", Secret: secret},
	{Type: "turn", Host: "192.0.2.1", Port: 3478, Restricted: true},
}}

// The credentials below were computed with
// openssl dgst -sha1 -hmac "$secret" -binary | base64, not with this code.
const (
	creds = `restricted="1" username="1796688000:romeo@example.org" password="FqAP+e15SfgXwUtKCeT6n3iCAS4=" expires="2026-12-08T00:00:00Z"`
	stun  = `<service type="stun" host="stun.example.org" port="3478" transport="udp"/>`
	turnU = `<service type="turn" host="turn.example.org" port="3478" transport="udp" ` + creds + `/>`
	turnT = `<service type="turn" host="turn.example.org" port="3478" transport="tcp" name="TURN over TCP" ` + creds + `/>`
	turnS = `<service type="turns" host="turn.example.org" port="5349" transport="tcp" ` + creds + `/>`
	turnR = `<service type="turn" host="192.0.2.1" port="3478" restricted="1"/>`
)

func result(id, payload string) string {
	return `<iq xmlns="jabber:client" type="result" id="` + id + `" from="example.org" to="romeo@example.org/orchard">` + payload + `</iq>`
}

func failure(id, typ, cond string) string {
	return `<iq xmlns="jabber:client" id="` + id + `" from="example.org" to="romeo@example.org/orchard" type="error"><error type="` + typ + `"><` + cond + ` xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error></iq>`
}

func TestRequests(t *testing.T) {
	now := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name     string
		cfg      Config
		in, want string
	}{{
		name: "all services (§3.1)",
		cfg:  testConfig,
		in:   `<iq type="get" id="s1" to="example.org"><services xmlns="urn:xmpp:extdisco:2"/></iq>`,
		want: result("s1", `<services xmlns="urn:xmpp:extdisco:2">`+stun+turnU+turnT+turnS+turnR+`</services>`),
	}, {
		name: "selected type (§3.2)",
		cfg:  testConfig,
		in:   `<iq type="get" id="s2" to="example.org"><services xmlns="urn:xmpp:extdisco:2" type="turn"/></iq>`,
		want: result("s2", `<services xmlns="urn:xmpp:extdisco:2" type="turn">`+turnU+turnT+turnR+`</services>`),
	}, {
		name: "a type nobody offers",
		cfg:  testConfig,
		in:   `<iq type="get" id="s3" to="example.org"><services xmlns="urn:xmpp:extdisco:2" type="ftp"/></iq>`,
		want: result("s3", `<services xmlns="urn:xmpp:extdisco:2" type="ftp"/>`),
	}, {
		name: "credentials for host and type: every port (§3.3)",
		cfg:  testConfig,
		in:   `<iq type="get" id="c1" to="example.org"><credentials xmlns="urn:xmpp:extdisco:2"><service host="turn.example.org" type="turn"/></credentials></iq>`,
		want: result("c1", `<credentials xmlns="urn:xmpp:extdisco:2">`+turnU+turnT+`</credentials>`),
	}, {
		name: "credentials with a port, host in other case",
		cfg:  testConfig,
		in:   `<iq type="get" id="c2" to="example.org"><credentials xmlns="urn:xmpp:extdisco:2"><service host="TURN.example.org" type="turns" port="5349"/></credentials></iq>`,
		want: result("c2", `<credentials xmlns="urn:xmpp:extdisco:2">`+turnS+`</credentials>`),
	}, {
		name: "credentials for a port not configured",
		cfg:  testConfig,
		in:   `<iq type="get" id="c3" to="example.org"><credentials xmlns="urn:xmpp:extdisco:2"><service host="turn.example.org" type="turn" port="3479"/></credentials></iq>`,
		want: failure("c3", "cancel", "item-not-found"),
	}, {
		name: "credentials for a service without a secret",
		cfg:  testConfig,
		in:   `<iq type="get" id="c4" to="example.org"><credentials xmlns="urn:xmpp:extdisco:2"><service host="192.0.2.1" type="turn"/></credentials></iq>`,
		want: failure("c4", "cancel", "item-not-found"),
	}, {
		name: "credentials without type",
		cfg:  testConfig,
		in:   `<iq type="get" id="c5" to="example.org"><credentials xmlns="urn:xmpp:extdisco:2"><service host="turn.example.org"/></credentials></iq>`,
		want: `<iq xmlns="jabber:client" id="c5" from="example.org" to="romeo@example.org/orchard" type="error"><error type="modify"><bad-request xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/><text xmlns="urn:ietf:params:xml:ns:xmpp-stanzas" xml:lang="en">a service with host and type is required</text></error></iq>`,
	}, {
		name: "credentials without service",
		cfg:  testConfig,
		in:   `<iq type="get" id="c6" to="example.org"><credentials xmlns="urn:xmpp:extdisco:2"/></iq>`,
		want: `<iq xmlns="jabber:client" id="c6" from="example.org" to="romeo@example.org/orchard" type="error"><error type="modify"><bad-request xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/><text xmlns="urn:ietf:params:xml:ns:xmpp-stanzas" xml:lang="en">a service with host and type is required</text></error></iq>`,
	}, {
		name: "bad port",
		cfg:  testConfig,
		in:   `<iq type="get" id="c7" to="example.org"><credentials xmlns="urn:xmpp:extdisco:2"><service host="turn.example.org" type="turn" port="x"/></credentials></iq>`,
		want: `<iq xmlns="jabber:client" id="c7" from="example.org" to="romeo@example.org/orchard" type="error"><error type="modify"><bad-request xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/><text xmlns="urn:ietf:params:xml:ns:xmpp-stanzas" xml:lang="en">port is not a port number</text></error></iq>`,
	}, {
		name: "set is not a request",
		cfg:  testConfig,
		in:   `<iq type="set" id="x1" to="example.org"><services xmlns="urn:xmpp:extdisco:2"/></iq>`,
		want: failure("x1", "cancel", "service-unavailable"),
	}, {
		name: "to an account",
		cfg:  testConfig,
		in:   `<iq type="get" id="x2" to="juliet@example.org"><services xmlns="urn:xmpp:extdisco:2"/></iq>`,
		want: `<iq xmlns="jabber:client" id="x2" from="juliet@example.org" to="romeo@example.org/orchard" type="error"><error type="cancel"><service-unavailable xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error></iq>`,
	}, {
		name: "no services: not supported",
		cfg:  DefaultConfig(),
		in:   `<iq type="get" id="x3" to="example.org"><services xmlns="urn:xmpp:extdisco:2"/></iq>`,
		want: failure("x3", "cancel", "service-unavailable"),
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := routertest.New(t, "romeo@example.org", "juliet@example.org")
			e.Router.Register(New(tt.cfg, func() time.Time { return now }))
			s, rec := e.Bind("romeo@example.org/orchard", true, 0)
			e.Send(s, tt.in)
			routertest.Expect(t, rec, tt.want)
		})
	}
	if f, _ := New(testConfig, nil).DiscoFeatures(); len(f) != 1 || f[0] != NS {
		t.Errorf("features = %v", f)
	}
	if f, _ := New(DefaultConfig(), nil).DiscoFeatures(); len(f) != 0 {
		t.Errorf("features without services = %v", f)
	}
}

// remoteRecorder is a router.RemoteRouter recording what goes out.
type remoteRecorder struct {
	mu   sync.Mutex
	sent []string
}

func (r *remoteRecorder) SendRemote(st *xml.Element, _, _ jid.JID) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sent = append(r.sent, st.String())
	return nil
}

// TestRemoteForbidden: an entity of another server gets neither the list
// nor credentials.
func TestRemoteForbidden(t *testing.T) {
	e := routertest.New(t, "romeo@example.org")
	remote := &remoteRecorder{}
	e.Router.SetRemote(remote)
	e.Router.Register(New(testConfig, nil))
	for _, raw := range []string{
		`<iq from="mallory@remote.example/x" to="example.org" type="get" id="r1"><services xmlns="urn:xmpp:extdisco:2"/></iq>`,
		`<iq from="mallory@remote.example/x" to="example.org" type="get" id="r1"><credentials xmlns="urn:xmpp:extdisco:2"><service host="turn.example.org" type="turn"/></credentials></iq>`,
	} {
		remote.sent = nil
		if err := e.Router.HandleFromRemote(context.Background(), "remote.example", routertest.Parse(t, raw)); err != nil {
			t.Fatal(err)
		}
		if len(remote.sent) != 1 || !strings.Contains(remote.sent[0], "<forbidden") || strings.Contains(remote.sent[0], "password") {
			t.Errorf("%s: answered %v", raw, remote.sent)
		}
	}
}

func TestValidate(t *testing.T) {
	ok := Service{Type: "turn", Host: "turn.example.org", Port: 3478, Transport: "udp", Secret: secret}
	tests := []struct {
		name string
		cfg  func(*Config)
		bad  bool
	}{
		{"defaults", func(*Config) {}, false},
		{"one service", func(c *Config) { c.Services = []Service{ok} }, false},
		{"IPv6 host", func(c *Config) { s := ok; s.Host = "2001:db8::1"; c.Services = []Service{s} }, false},
		{"no type", func(c *Config) { s := ok; s.Type = ""; c.Services = []Service{s} }, true},
		{"type with space", func(c *Config) { s := ok; s.Type = "tu rn"; c.Services = []Service{s} }, true},
		{"no host", func(c *Config) { s := ok; s.Host = ""; c.Services = []Service{s} }, true},
		{"host with slash", func(c *Config) { s := ok; s.Host = "turn.example.org/x"; c.Services = []Service{s} }, true},
		{"port too big", func(c *Config) { s := ok; s.Port = 70000; c.Services = []Service{s} }, true},
		{"transport sctp", func(c *Config) { s := ok; s.Transport = "sctp"; c.Services = []Service{s} }, true},
		{"short secret", func(c *Config) { s := ok; s.Secret = "abc"; c.Services = []Service{s} }, true},
		{"twice", func(c *Config) { c.Services = []Service{ok, ok} }, true},
		{"lifetime zero", func(c *Config) { c.CredentialLifetime = 0 }, true},
		{"lifetime a year", func(c *Config) { c.CredentialLifetime = 365 * 24 * time.Hour }, true},
		{"too many", func(c *Config) {
			for i := range MaxServices + 1 {
				s := ok
				s.Port = 1000 + i
				c.Services = append(c.Services, s)
			}
		}, true},
	}
	for _, tt := range tests {
		c := DefaultConfig()
		tt.cfg(&c)
		if err := c.Validate(); (err != nil) != tt.bad {
			t.Errorf("%s: Validate() = %v", tt.name, err)
		}
	}
}
