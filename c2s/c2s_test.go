package c2s_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/skald-xmpp/skald/c2s"
	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/internal/xmpptest"
	"github.com/skald-xmpp/skald/router"
	"github.com/skald-xmpp/skald/storage"
)

// users is a minimal storage.Users for transport tests.
type users struct {
	mu       sync.Mutex
	m        map[string]storage.Credentials
	disabled map[string]string // bare JID -> reason
	// beforeWrite, if set, runs as SetUserCredentials or
	// ReplaceUserCredentials begins (a concurrent writer that lands just
	// before).
	beforeWrite func(bare string)
}

func (u *users) CreateUser(_ context.Context, bare string, c storage.Credentials) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.m[bare] = c
	return nil
}
func (u *users) UserCredentials(_ context.Context, bare string) (storage.Credentials, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	c, ok := u.m[bare]
	if !ok {
		return c, storage.ErrNotFound
	}
	return c, nil
}
func (u *users) SetUserCredentials(ctx context.Context, bare string, c storage.Credentials) error {
	u.runBeforeWrite(bare)
	return u.CreateUser(ctx, bare, c)
}
func (u *users) ReplaceUserCredentials(_ context.Context, bare string, old, c storage.Credentials) (bool, error) {
	u.runBeforeWrite(bare)
	u.mu.Lock()
	defer u.mu.Unlock()
	now, ok := u.m[bare]
	if !ok {
		return false, storage.ErrNotFound
	}
	if !now.Equal(old) {
		return false, nil
	}
	u.m[bare] = c
	return true, nil
}
func (u *users) runBeforeWrite(bare string) {
	u.mu.Lock()
	f := u.beforeWrite
	u.mu.Unlock()
	if f != nil {
		f(bare)
	}
}
func (u *users) UserExists(_ context.Context, bare string) (bool, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	_, ok := u.m[bare]
	return ok, nil
}
func (u *users) DeleteUser(context.Context, string) error            { return nil }
func (u *users) ListUsers(context.Context, string) ([]string, error) { return nil, nil }
func (u *users) CountUsers(context.Context, string) (int, error)     { return len(u.m), nil }
func (u *users) SetUserDisabled(_ context.Context, bare string, disabled bool, reason string) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.disabled == nil {
		u.disabled = map[string]string{}
	}
	if disabled {
		u.disabled[bare] = reason
	} else {
		delete(u.disabled, bare)
	}
	return nil
}
func (u *users) UserStatus(_ context.Context, bare string) (storage.AccountStatus, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if _, ok := u.m[bare]; !ok {
		return storage.AccountStatus{}, storage.ErrNotFound
	}
	reason, ok := u.disabled[bare]
	if !ok {
		return storage.AccountStatus{}, nil
	}
	return storage.AccountStatus{Disabled: true, Reason: reason, Since: time.Now()}, nil
}
func (u *users) DisabledUsers(context.Context, string) ([]storage.DisabledUser, error) {
	return nil, nil
}

func testTLS(t testing.TB) *tls.Config {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "localhost"},
		DNSNames: []string{"localhost"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}, MinVersion: tls.VersionTLS12}
}

type fixture struct {
	addr, tlsAddr string
	srv           *c2s.Server
	router        *router.Router
	users         *users
}

// start serves alice and bob (passwords secret-alice, secret-bob) on
// localhost, plain and direct TLS, with mods registered on the router and
// mod applied to the default configuration.
func start(t *testing.T, mod func(*c2s.Config), mods ...router.Module) *fixture {
	t.Helper()
	u := &users{m: map[string]storage.Credentials{}}
	for _, name := range []string{"alice", "bob"} {
		u.m[name+"@localhost"] = xmpptest.Credentials(t, "secret-"+name)
	}
	r := router.New(router.Config{Domains: []string{"localhost"}, Users: u})
	r.Register(mods...)
	cfg := c2s.DefaultConfig()
	cfg.TLS = testTLS(t)
	cfg.AuthFailuresPerMinute = 100
	if mod != nil {
		mod(&cfg)
	}
	srv := c2s.NewServer(cfg, r, u, nil)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	lt, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(l, false)
	go srv.Serve(lt, true)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	})
	return &fixture{addr: l.Addr().String(), tlsAddr: lt.Addr().String(), srv: srv, router: r, users: u}
}

func TestStreamErrors(t *testing.T) {
	f := start(t, nil)
	tests := []struct {
		name, send, want string
	}{
		{"unknown host", `<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='example.org' version='1.0'>`, "host-unknown"},
		{"bad stream namespace", `<stream:stream xmlns='jabber:client' xmlns:stream='urn:wrong' to='localhost' version='1.0'>`, "invalid-namespace"},
		{"bad content namespace", `<stream:stream xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'>`, "invalid-namespace"},
		{"no version", `<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='localhost'>`, "unsupported-version"},
		{"not well-formed", `<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'><a></b>`, "not-well-formed"},
		{"comment", `<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'><!-- hi -->`, "restricted-xml"},
		{"doctype", `<!DOCTYPE foo [<!ENTITY x "y">]><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'>`, "restricted-xml"},
		{"processing instruction", `<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'><?foo bar?>`, "restricted-xml"},
		{"entity", `<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'><message>&foo;</message>`, "restricted-xml"},
		{"undeclared prefix", `<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'><x:message/>`, "bad-namespace-prefix"},
		{"stanza before auth", `<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'><message to='bob@localhost'><body>x</body></message>`, "not-authorized"},
		{"oversize before auth", `<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'><message><body>` + strings.Repeat("a", 20000) + `</body></message>`, "policy-violation"},
		// Garbage where a stream header or a stanza belongs is an error at
		// its first byte, not once a '<' happens to follow (RFC 6120
		// §4.9.3.13, §11.1).
		{"not XML", "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n", "not-well-formed"},
		{"text before the header", `hello <stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'>`, "not-well-formed"},
		{"text at stream level", `<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'>hello`, "bad-format"},
		{"too deep", `<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'>` + strings.Repeat("<a>", 40), "policy-violation"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := xmpptest.Dial(t, f.addr)
			c.Send(tc.send)
			c.ReadHeader()
			if got := c.ExpectStreamError(); got != tc.want {
				t.Fatalf("stream error %q, want %q", got, tc.want)
			}
			c.ExpectClosed()
		})
	}
}

func TestLoginSCRAMAndBind(t *testing.T) {
	f := start(t, nil)
	c := xmpptest.Dial(t, f.addr)
	c.OpenStream("localhost")
	if c.Features.Child("urn:ietf:params:xml:ns:xmpp-tls", "starttls").Child("", "required") == nil {
		t.Fatalf("STARTTLS must be required: %s", c.Features)
	}
	if c.Features.Child("urn:ietf:params:xml:ns:xmpp-sasl", "mechanisms") != nil {
		t.Fatalf("mechanisms offered before TLS: %s", c.Features)
	}
	c.StartTLS("localhost")
	mechs := c.Features.Child("urn:ietf:params:xml:ns:xmpp-sasl", "mechanisms")
	var names []string
	for _, m := range mechs.Elements() {
		names = append(names, m.Text())
	}
	if got := strings.Join(names, " "); !strings.Contains(got, "SCRAM-SHA-256-PLUS") || !strings.Contains(got, "PLAIN") {
		t.Fatalf("mechanisms = %s", got)
	}
	c.AuthSCRAM("localhost", "alice", "secret-alice")
	if c.Features.Child("urn:ietf:params:xml:ns:xmpp-bind", "bind") == nil {
		t.Fatalf("no bind feature: %s", c.Features)
	}
	if j := c.Bind("phone"); j != "alice@localhost/phone" {
		t.Fatalf("bound %s", j)
	}
	// Legacy session iq is a no-op.
	c.Send(`<iq type='set' id='s1'><session xmlns='urn:ietf:params:xml:ns:xmpp-session'/></iq>`)
	if el := c.Next(); el.Attr("type") != "result" || el.Attr("id") != "s1" {
		t.Fatalf("session reply %s", el)
	}
	// Unknown iq gets service-unavailable.
	c.Send(`<iq type='get' id='u1'><query xmlns='urn:example:unknown'/></iq>`)
	el := c.Next()
	if el.Attr("type") != "error" || el.Child("", "error").Child("urn:ietf:params:xml:ns:xmpp-stanzas", "service-unavailable") == nil {
		t.Fatalf("unknown iq reply %s", el)
	}
	c.Close()
	c.ExpectClosed()
}

func TestAuthFailures(t *testing.T) {
	f := start(t, nil)
	for _, tc := range []struct{ user, pass string }{{"alice", "wrong"}, {"nobody", "wrong"}} {
		c := xmpptest.Dial(t, f.addr)
		c.OpenStream("localhost")
		c.StartTLS("localhost")
		err := c.TrySCRAM(tc.user, tc.pass)
		if err == nil || err.Error() != "sasl: not-authorized" {
			t.Fatalf("%s: got %v, want not-authorized", tc.user, err)
		}
	}
}

// SASL data that is not base64 (RFC 4648 §4) is refused with
// incorrect-encoding (RFC 6120 §6.5.2), whatever base64 decoders may
// skip: characters outside the alphabet MUST be rejected (RFC 4648 §3.3),
// line breaks and other whitespace included. The exchange fails, the
// stream stays, and a well-formed retry succeeds.
func TestAuthIncorrectEncoding(t *testing.T) {
	f := start(t, nil)
	plain := "AGFsaWNlAHNlY3JldC1hbGljZQ==" // \x00alice\x00secret-alice
	for _, tc := range []struct{ name, auth, response string }{
		{"line break in the initial response", plain[:8] + "\n" + plain[8:], ""},
		{"CRLF in the initial response", plain[:8] + "\r\n" + plain[8:], ""},
		{"space in the initial response", plain[:8] + " " + plain[8:], ""},
		{"not base64 at all", "not*base64", ""},
		{"line break in a response", "", plain[:8] + "\n" + plain[8:]},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := xmpptest.DialTLS(t, f.tlsAddr)
			c.OpenStream("localhost")
			c.Sendf(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>%s</auth>`, tc.auth)
			if tc.response != "" {
				if el := c.Next(); !el.Is(nsSASL, "challenge") {
					t.Fatalf("got %s, want an empty challenge", el)
				}
				c.Sendf(`<response xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>%s</response>`, tc.response)
			}
			if el := c.Next(); !el.Is(nsSASL, "failure") || el.Child(nsSASL, "incorrect-encoding") == nil {
				t.Fatalf("got %s, want <failure><incorrect-encoding/></failure>", el)
			}
			c.AuthPlain("localhost", "alice", "secret-alice")
		})
	}
}

func TestAuthRateLimit(t *testing.T) {
	f := start(t, func(c *c2s.Config) { c.AuthFailuresPerMinute = 2 })
	c := xmpptest.Dial(t, f.addr)
	c.OpenStream("localhost")
	c.StartTLS("localhost")
	for i := 0; i < 2; i++ {
		if err := c.TrySCRAM("alice", "wrong"); err == nil || err.Error() != "sasl: not-authorized" {
			t.Fatalf("attempt %d: %v", i, err)
		}
	}
	if err := c.TrySCRAM("alice", "secret-alice"); err == nil || err.Error() != "sasl: temporary-auth-failure" {
		t.Fatalf("after limit: %v", err)
	}
}

func TestPlainRequiresTLS(t *testing.T) {
	f := start(t, func(c *c2s.Config) { c.TLS = nil; c.RequireTLS = false })
	c := xmpptest.Dial(t, f.addr)
	c.OpenStream("localhost")
	for _, m := range c.Features.Child("urn:ietf:params:xml:ns:xmpp-sasl", "mechanisms").Elements() {
		if m.Text() == "PLAIN" {
			t.Fatal("PLAIN offered without TLS")
		}
	}
	// A mechanism the server has but uses only over TLS is refused with
	// encryption-required (RFC 6120 §6.5.4), one it does not have at all
	// with invalid-mechanism (§6.5.5).
	for mech, want := range map[string]string{
		"PLAIN":              "encryption-required",
		"SCRAM-SHA-256-PLUS": "encryption-required",
		"X-UNKNOWN":          "invalid-mechanism",
	} {
		c.Sendf(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='%s'>AGFsaWNlAHNlY3JldC1hbGljZQ==</auth>`, mech)
		el := c.Next()
		if !el.Is("urn:ietf:params:xml:ns:xmpp-sasl", "failure") || el.Child("", want) == nil {
			t.Fatalf("%s without TLS: %s, want %s", mech, el, want)
		}
	}
}

// Between authentication and binding, an iq of type error or result is
// not answered (RFC 6120 §8.3.1: an error stanza MUST NOT be answered with
// an error; §8.2.3: a result or error closes an exchange); a get or set
// other than bind is refused with not-authorized.
func TestUnboundIQResponsesNotAnswered(t *testing.T) {
	f := start(t, nil)
	c := xmpptest.DialTLS(t, f.tlsAddr)
	c.OpenStream("localhost")
	c.AuthPlain("localhost", "alice", "secret-alice")
	c.Send(`<iq type='error' id='e1'><error type='cancel'><service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>`)
	c.Send(`<iq type='result' id='r1'/>`)
	c.Send(`<iq type='get' id='g1'><ping xmlns='urn:xmpp:ping'/></iq>`)
	el := c.Next()
	if el.Attr("id") != "g1" || el.Attr("type") != "error" || el.Child("", "error").Child("urn:ietf:params:xml:ns:xmpp-stanzas", "not-authorized") == nil {
		t.Fatalf("first answer %s, want not-authorized for g1 only", el)
	}
	if j := c.Bind("r"); j != "alice@localhost/r" {
		t.Fatalf("bound %s", j)
	}
}

func TestDirectTLSAndMessageRouting(t *testing.T) {
	f := start(t, nil)
	a := xmpptest.DialTLS(t, f.tlsAddr)
	a.OpenStream("localhost")
	a.AuthPlain("localhost", "alice", "secret-alice")
	a.Bind("a1")
	b := xmpptest.Dial(t, f.addr)
	b.Login("localhost", "bob", "secret-bob", "b1")
	a.Send(`<message to='bob@localhost/b1' type='chat' id='m1'><body>hi &amp; bye</body></message>`)
	el := b.Next()
	if el.Attr("from") != "alice@localhost/a1" || el.ChildText("", "body") != "hi & bye" {
		t.Fatalf("bob got %s", el)
	}
	// Spoofed from ends the stream.
	a.Send(`<message from='bob@localhost/b1' to='bob@localhost/b1'><body>x</body></message>`)
	if got := a.ExpectStreamError(); got != "invalid-from" {
		t.Fatalf("spoofed from: %s", got)
	}
}

func TestBindConflictReplacesOldSession(t *testing.T) {
	f := start(t, nil)
	old := xmpptest.Dial(t, f.addr)
	old.Login("localhost", "alice", "secret-alice", "same")
	nu := xmpptest.Dial(t, f.addr)
	nu.Login("localhost", "alice", "secret-alice", "same")
	if got := old.ExpectStreamError(); got != "conflict" {
		t.Fatalf("old session got %q", got)
	}
}

func TestOversizeStanzaAfterAuth(t *testing.T) {
	f := start(t, func(c *c2s.Config) { c.Limits = xml.Limits{MaxStanzaBytes: 4096, MaxDepth: 16, MaxAttrs: 16} })
	c := xmpptest.Dial(t, f.addr)
	c.Login("localhost", "alice", "secret-alice", "r")
	c.Send(`<message to='bob@localhost'><body>` + strings.Repeat("x", 5000) + `</body></message>`)
	if got := c.ExpectStreamError(); got != "policy-violation" {
		t.Fatalf("got %q", got)
	}
}

func TestShutdownSendsSystemShutdown(t *testing.T) {
	f := start(t, nil)
	c := xmpptest.Dial(t, f.addr)
	c.Login("localhost", "alice", "secret-alice", "r")
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		f.srv.Shutdown(ctx)
	}()
	if got := c.ExpectStreamError(); got != "system-shutdown" {
		t.Fatalf("got %q", got)
	}
}

// TestNegotiationTimeout: a stream that has not bound a resource within
// the negotiation timeout ends with connection-timeout, however the client
// keeps it busy meanwhile (silent, parked, or sending whitespace), while a
// stream that bound in time is held to the idle timeout only.
func TestNegotiationTimeout(t *testing.T) {
	const negotiation = 1500 * time.Millisecond
	tests := []struct {
		name    string
		plain   bool
		prepare func(c *xmpptest.Conn) (stop func())
	}{
		{"silent before the stream header", true, func(c *xmpptest.Conn) func() {
			c.ReadHeader() // the server's, sent with its stream error
			return func() {}
		}},
		{"silent after STARTTLS", false, func(c *xmpptest.Conn) func() {
			c.OpenStream("localhost")
			c.StartTLS("localhost")
			return func() {}
		}},
		{"whitespace before authenticating", true, func(c *xmpptest.Conn) func() {
			c.OpenStream("localhost")
			done := make(chan struct{})
			go func() {
				for {
					select {
					case <-done:
						return
					case <-time.After(200 * time.Millisecond):
						c.Raw().Write([]byte(" "))
					}
				}
			}()
			return func() { close(done) }
		}},
		{"authenticated, not bound", true, func(c *xmpptest.Conn) func() {
			c.OpenStream("localhost")
			c.AuthSCRAM("localhost", "alice", "secret-alice")
			return func() {}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := start(t, func(cfg *c2s.Config) {
				cfg.NegotiationTimeout, cfg.IdleTimeout = negotiation, 30*time.Second
				if tt.plain {
					cfg.TLS, cfg.RequireTLS = nil, false
				}
			})
			began := time.Now()
			c := xmpptest.Dial(t, f.addr)
			c.Timeout = 5 * negotiation
			stop := tt.prepare(c)
			defer stop()
			if got := c.ExpectStreamError(); got != "connection-timeout" {
				t.Fatalf("stream error %q, want connection-timeout", got)
			}
			if took := time.Since(began); took < negotiation-100*time.Millisecond || took > 3*negotiation {
				t.Fatalf("ended after %v, want about %v", took, negotiation)
			}
		})
	}
	t.Run("bound in time", func(t *testing.T) {
		f := start(t, func(cfg *c2s.Config) { cfg.NegotiationTimeout, cfg.IdleTimeout = negotiation, 30*time.Second })
		c := xmpptest.Dial(t, f.addr)
		c.Login("localhost", "alice", "secret-alice", "r")
		time.Sleep(negotiation + time.Second) // past the negotiation deadline, parked meanwhile
		c.Send(`<iq type='get' id='after' to='localhost'><query xmlns='urn:example:unknown'/></iq>`)
		if el := c.Next(); el.Local != "iq" || el.Attr("id") != "after" {
			t.Fatalf("after the negotiation deadline: %s", el)
		}
	})
}

// An <abort/> is answered <failure><aborted/></failure> (RFC 6120 §6.4.4)
// even when no exchange is under way, and the client may then
// authenticate.
func TestAuthAbortWithoutExchange(t *testing.T) {
	f := start(t, nil)
	c := xmpptest.Dial(t, f.addr)
	c.OpenStream("localhost")
	c.StartTLS("localhost")
	c.Send(`<abort xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>`)
	if el := c.Next(); !el.Is("urn:ietf:params:xml:ns:xmpp-sasl", "failure") || el.Child("", "aborted") == nil {
		t.Fatalf("abort answered %s", el)
	}
	c.AuthSCRAM("localhost", "alice", "secret-alice")
	if c.Bind("r") != "alice@localhost/r" {
		t.Fatal("bind after abort failed")
	}
}

// Before binding, a stanza for anyone but the server or the client's own
// account is not processed and ends the stream with not-authorized (RFC
// 6120 §7.1); an iq for the server or the account is answered with a
// stanza error and the client may still bind.
func TestUnboundStanzaToOthersIsStreamError(t *testing.T) {
	f := start(t, nil)
	for _, to := range []string{"", "localhost", "alice@localhost", "ALICE@localhost"} {
		c := xmpptest.DialTLS(t, f.tlsAddr)
		c.OpenStream("localhost")
		c.AuthPlain("localhost", "alice", "secret-alice")
		attr := ""
		if to != "" {
			attr = " to='" + to + "'"
		}
		c.Sendf(`<iq type='get' id='g1'%s><query xmlns='jabber:iq:version'/></iq>`, attr)
		if el := c.Next(); el.Attr("id") != "g1" || el.Attr("type") != "error" {
			t.Fatalf("to=%q: answered %s, want a stanza error", to, el)
		}
		if j := c.Bind("r"); j != "alice@localhost/r" {
			t.Fatalf("to=%q: bound %s", to, j)
		}
	}
	for _, to := range []string{"bob@localhost", "alice@localhost/other", "example.org"} {
		c := xmpptest.DialTLS(t, f.tlsAddr)
		c.OpenStream("localhost")
		c.AuthPlain("localhost", "alice", "secret-alice")
		c.Sendf(`<iq type='get' id='g1' to='%s'><query xmlns='jabber:iq:version'/></iq>`, to)
		if got := c.ExpectStreamError(); got != "not-authorized" {
			t.Fatalf("to=%s: stream error %q, want not-authorized", to, got)
		}
		c.ExpectClosed()
	}
}
