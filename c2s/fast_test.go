package c2s_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"net"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/skald-xmpp/skald/c2s"
	"github.com/skald-xmpp/skald/internal/metrics"
	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/internal/xmpptest"
	"github.com/skald-xmpp/skald/router"
	"github.com/skald-xmpp/skald/sasl"
	"github.com/skald-xmpp/skald/storage"
	"github.com/skald-xmpp/skald/storage/memory"
)

// XEP-0484 Fast Authentication Streamlining Tokens, raw XML over a real
// socket: the tokens are issued into, and checked against, a real store.

const (
	nsFast   = "urn:xmpp:fast:0"
	uaPhone  = `<user-agent id='5a8b3c2d-0000-4000-8000-000000000001'><software>FastClient</software></user-agent>`
	uaLaptop = `<user-agent id='5a8b3c2d-0000-4000-8000-000000000002'><software>FastClient</software></user-agent>`
	idPhone  = "5a8b3c2d-0000-4000-8000-000000000001"
	lifetime = 14 * 24 * time.Hour
)

type fastFixture struct {
	*fixture
	store *memory.Store
}

// startFast serves alice and bob from a memory store that also keeps
// their FAST tokens.
func startFast(t *testing.T, mod func(*c2s.Config)) *fastFixture {
	t.Helper()
	st := memory.New()
	t.Cleanup(func() { st.Close() })
	for _, name := range []string{"alice", "bob"} {
		if err := st.CreateUser(context.Background(), name+"@localhost", xmpptest.Credentials(t, "secret-"+name)); err != nil {
			t.Fatal(err)
		}
	}
	r := router.New(router.Config{Domains: []string{"localhost"}, Users: st})
	cfg := c2s.DefaultConfig()
	cfg.TLS = testTLS(t)
	cfg.AuthFailuresPerMinute = 100
	cfg.FastTokens = st
	cfg.FastTokenLifetime = lifetime
	if mod != nil {
		mod(&cfg)
	}
	srv := c2s.NewServer(cfg, r, st, nil)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(l, false)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	})
	return &fastFixture{fixture: &fixture{addr: l.Addr().String(), srv: srv, router: r}, store: st}
}

// binding is the client's side of mech's channel binding: tls-exporter
// for -EXPR, tls-unique for -UNIQ, none for -NONE.
func binding(t *testing.T, c *xmpptest.Conn, mech string) []byte {
	t.Helper()
	tc, ok := c.Raw().(*tls.Conn)
	if !ok {
		t.Fatal("not a TLS connection")
	}
	st := tc.ConnectionState()
	switch mech {
	case sasl.HTSHA256Expr:
		cb, err := st.ExportKeyingMaterial("EXPORTER-Channel-Binding", nil, 32)
		if err != nil {
			t.Fatal(err)
		}
		return cb
	case sasl.HTSHA256Uniq:
		if len(st.TLSUnique) == 0 {
			t.Fatal("no tls-unique")
		}
		return st.TLSUnique
	}
	return []byte{}
}

// htMAC is HMAC-SHA-256 keyed with the token itself, as a client computes
// it (draft-schmaus-kitten-sasl-ht-08 §3.1, §3.3).
func htMAC(token, label string, cb []byte) []byte {
	m := hmac.New(sha256.New, []byte(token))
	m.Write([]byte(label))
	m.Write(cb)
	return m.Sum(nil)
}

// passwordToken logs in with SCRAM, asking for a token for mech, and
// returns the token the <success/> carries.
func passwordToken(t *testing.T, f *fastFixture, user, ua, mech string) string {
	t.Helper()
	c := tlsStream(t, f.fixture)
	success, _ := sasl2OK(t, c, user, ua+`<request-token xmlns='urn:xmpp:fast:0' mechanism='`+mech+`'/>`)
	tok := success.Child(nsFast, "token")
	if tok == nil || tok.Attr("token") == "" {
		t.Fatalf("no token in %s", success)
	}
	return tok.Attr("token")
}

// fastAuth sends an <authenticate/> with an HT initial response for user
// and token (cb nil: the connection's own tls-exporter for -EXPR, none
// for -NONE) and extra, and returns the server's answer.
func fastAuth(t *testing.T, c *xmpptest.Conn, mech, user, token string, cb []byte, extra string) *xml.Element {
	t.Helper()
	if cb == nil {
		cb = binding(t, c, mech)
	}
	msg := append(append([]byte(user), 0), htMAC(token, "Initiator", cb)...)
	c.Sendf(`<authenticate xmlns='urn:xmpp:sasl:2' mechanism='%s'><initial-response>%s</initial-response>%s</authenticate>`,
		mech, base64.StdEncoding.EncodeToString(msg), extra)
	return c.Next()
}

// fastOK logs in with a token and checks the success: the responder-msg
// (mutual authentication), then the features. It returns the new token
// the success carries, if any.
func fastOK(t *testing.T, f *fastFixture, mech, user, token, extra string) (success *xml.Element, newToken string) {
	t.Helper()
	c := tlsStream(t, f.fixture)
	cb := binding(t, c, mech)
	success = fastAuth(t, c, mech, user, token, cb, extra)
	if !success.Is(nsSASL2, "success") {
		t.Fatalf("FAST login with %s: %s", mech, success)
	}
	data, _ := base64.StdEncoding.DecodeString(success.ChildText(nsSASL2, "additional-data"))
	if !hmac.Equal(data, htMAC(token, "Responder", cb)) {
		t.Fatalf("additional-data is not the responder-msg: %s", success)
	}
	if el := c.Next(); !el.Is(nsStreams, "features") {
		t.Fatalf("FAST success not followed by features: %s", el)
	}
	return success, success.Child(nsFast, "token").Attr("token")
}

// fastFails logs in with a token and returns the failure condition.
func fastFails(t *testing.T, f *fastFixture, mech, user, token, extra string) string {
	t.Helper()
	c := tlsStream(t, f.fixture)
	el := fastAuth(t, c, mech, user, token, nil, extra)
	if !el.Is(nsSASL2, "failure") {
		t.Fatalf("FAST login succeeded, want a failure: %s", el)
	}
	return el.FirstElement().Local
}

// tls12 limits the server to TLS 1.2, where tls-unique binds.
func tls12(cfg *c2s.Config) { cfg.TLS.MaxVersion = tls.VersionTLS12 }

func TestFASTFeature(t *testing.T) {
	tests := []struct {
		name     string
		lifetime time.Duration
		tls12    bool
		want     []string
	}{
		{"TLS 1.3", lifetime, false, []string{sasl.HTSHA256Expr, sasl.HTSHA256None}},
		{"TLS 1.2", lifetime, true, []string{sasl.HTSHA256Uniq, sasl.HTSHA256None}},
		{"off", 0, false, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := startFast(t, func(cfg *c2s.Config) {
				cfg.FastTokenLifetime = tc.lifetime
				if tc.tls12 {
					tls12(cfg)
				}
			})
			c := xmpptest.Dial(t, f.addr)
			c.OpenStream("localhost")
			if strings.Contains(c.Features.String(), nsFast) {
				t.Fatalf("FAST offered before TLS: %s", c.Features)
			}
			c.StartTLS("localhost")
			auth := c.Features.Child(nsSASL2, "authentication")
			var got []string
			if fast := auth.Child(nsSASL2, "inline").Child(nsFast, "fast"); fast != nil {
				if fast.Attr("tls-0rtt") != "" {
					t.Errorf("tls-0rtt announced without 0-RTT: %s", fast)
				}
				for _, m := range fast.Elements() {
					if !m.Is(nsFast, "mechanism") {
						t.Errorf("unexpected %s in <fast/>", m)
					}
					got = append(got, m.Text())
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("FAST mechanisms %q, want %q (%s)", got, tc.want, auth)
			}
			// Never among the ordinary mechanisms (XEP-0484 §3.1).
			for _, m := range append(auth.Elements(), c.Features.Child(nsSASL, "mechanisms").Elements()...) {
				if strings.HasPrefix(m.Text(), "HT-") {
					t.Errorf("HT mechanism among the ordinary ones: %s", m)
				}
			}
		})
	}
}

func TestFASTIssueAndLogin(t *testing.T) {
	tests := []struct {
		mech string
		mod  func(*c2s.Config)
	}{
		{sasl.HTSHA256None, nil},
		{sasl.HTSHA256Expr, nil},
		{sasl.HTSHA256Uniq, tls12},
	}
	for _, tc := range tests {
		mech := tc.mech
		t.Run(mech, func(t *testing.T) {
			f := startFast(t, tc.mod)
			reg := metrics.NewRegistry()
			reg.Register(f.srv)
			c := tlsStream(t, f.fixture)
			success, _ := sasl2OK(t, c, "alice", uaPhone+`<request-token xmlns='urn:xmpp:fast:0' mechanism='`+mech+`'/>`)
			tok := success.Child(nsFast, "token")
			if tok == nil {
				t.Fatalf("no <token/> in %s", success)
			}
			token := tok.Attr("token")
			if len(token) < 22 { // 128 bits at least (the draft's §5)
				t.Fatalf("token %q too short", token)
			}
			exp, err := time.Parse("2006-01-02T15:04:05Z", tok.Attr("expiry"))
			if err != nil {
				t.Fatalf("expiry %q is not a XEP-0082 DateTime: %v", tok.Attr("expiry"), err)
			}
			if d := time.Until(exp); d < lifetime-time.Minute || d > lifetime+time.Minute {
				t.Fatalf("expiry %v, want in %v", exp, lifetime)
			}
			// Only a hash is stored.
			ts, _ := f.store.FastTokens(context.Background(), "alice@localhost", idPhone)
			if len(ts) != 1 || ts[0].Mechanism != mech || strings.Contains(string(ts[0].Hash), token) {
				t.Fatalf("stored %+v", ts)
			}

			success, rotated := fastOK(t, f, mech, "alice", token, uaPhone+`<fast xmlns='urn:xmpp:fast:0' count='1'/>`+
				`<bind xmlns='urn:xmpp:bind:0'><tag>FastClient</tag></bind>`)
			if rotated != "" {
				t.Fatalf("a fresh token rotated: %s", success)
			}
			if full := authzid(success); !strings.HasPrefix(full, "alice@localhost/FastClient/") {
				t.Fatalf("authorization-identifier %q", full)
			}
			waitValue(t, reg, "skald_c2s_fast_logins_total", 1)
			waitValue(t, reg, "skald_c2s_fast_tokens_issued_total", 1)
			// The token stays valid: it has not been rotated.
			fastOK(t, f, mech, "alice", token, uaPhone+`<fast xmlns='urn:xmpp:fast:0' count='2'/>`)
		})
	}
}

// A token is bound to its account, client and mechanism (XEP-0484 §3.4),
// and every failure has its RFC 6120 §6.5 condition.
func TestFASTFailures(t *testing.T) {
	f := startFast(t, func(cfg *c2s.Config) { cfg.AccountAuthFailuresPerMinute = 100 })
	token := passwordToken(t, f, "alice", uaPhone, sasl.HTSHA256None)
	exprToken := passwordToken(t, f, "bob", uaPhone, sasl.HTSHA256Expr)
	expired, key, _ := sasl.NewHTToken()
	if err := f.store.PutFastToken(context.Background(), "alice@localhost", "expired-client",
		storage.FastToken{Hash: key, Mechanism: sasl.HTSHA256None, Expiry: time.Now().Add(-time.Second)}); err != nil {
		t.Fatal(err)
	}
	const uaExpired = `<user-agent id='expired-client'/>`
	raw := func(user, proof string) string {
		return base64.StdEncoding.EncodeToString([]byte(user + "\x00" + proof))
	}
	tests := []struct {
		name              string
		mech, user, token string
		extra             string
		initial           string // replaces the HT message when set
		cb                []byte
		want              string
	}{
		{name: "wrong token", mech: sasl.HTSHA256None, user: "alice", token: "not the token", extra: uaPhone, want: "not-authorized"},
		{name: "other user-agent id", mech: sasl.HTSHA256None, user: "alice", token: token, extra: uaLaptop, want: "not-authorized"},
		{name: "other account", mech: sasl.HTSHA256None, user: "bob", token: token, extra: uaPhone, want: "not-authorized"},
		{name: "unknown account", mech: sasl.HTSHA256None, user: "carol", token: token, extra: uaPhone, want: "not-authorized"},
		{name: "other mechanism", mech: sasl.HTSHA256Expr, user: "alice", token: token, extra: uaPhone, want: "not-authorized"},
		{name: "token of EXPR with NONE", mech: sasl.HTSHA256None, user: "bob", token: exprToken, extra: uaPhone, want: "not-authorized"},
		{name: "wrong channel binding", mech: sasl.HTSHA256Expr, user: "bob", token: exprToken, extra: uaPhone, cb: make([]byte, 32), want: "not-authorized"},
		{name: "expired", mech: sasl.HTSHA256None, user: "alice", token: expired, extra: uaExpired, want: "credentials-expired"},
		{name: "no user-agent id", mech: sasl.HTSHA256None, user: "alice", token: token, want: "malformed-request"},
		{name: "no NUL", mech: sasl.HTSHA256None, extra: uaPhone, initial: base64.StdEncoding.EncodeToString([]byte("alice")), want: "malformed-request"},
		{name: "empty proof", mech: sasl.HTSHA256None, extra: uaPhone, initial: raw("alice", ""), want: "malformed-request"},
		{name: "not base64", mech: sasl.HTSHA256None, extra: uaPhone, initial: "!!!", want: "incorrect-encoding"},
		{name: "count not a number", mech: sasl.HTSHA256None, user: "alice", token: token, extra: uaPhone + `<fast xmlns='urn:xmpp:fast:0' count='many'/>`, want: "malformed-request"},
		{name: "mechanism not offered", mech: "HT-SHA-256-ENDP", user: "alice", token: token, extra: uaPhone, want: "invalid-mechanism"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := tlsStream(t, f.fixture)
			var el *xml.Element
			if tc.initial != "" {
				c.Sendf(`<authenticate xmlns='urn:xmpp:sasl:2' mechanism='%s'><initial-response>%s</initial-response>%s</authenticate>`,
					tc.mech, tc.initial, tc.extra)
				el = c.Next()
			} else {
				el = fastAuth(t, c, tc.mech, tc.user, tc.token, tc.cb, tc.extra)
			}
			if !el.Is(nsSASL2, "failure") || el.FirstElement().Local != tc.want {
				t.Fatalf("got %s, want failure %s", el, tc.want)
			}
		})
	}
	// HT is a SASL2 mechanism only: RFC 6120 SASL does not offer it.
	c := tlsStream(t, f.fixture)
	c.Sendf(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='HT-SHA-256-NONE'>%s</auth>`,
		base64.StdEncoding.EncodeToString(append([]byte("alice\x00"), htMAC(token, "Initiator", nil)...)))
	if el := c.Next(); !el.Is(nsSASL, "failure") || el.FirstElement().Local != "invalid-mechanism" {
		t.Fatalf("legacy HT login: %s", el)
	}
	// After all that, the right token still works.
	fastOK(t, f, sasl.HTSHA256None, "alice", token, uaPhone)
}

// XEP-0484 §3.5: a token near its expiry is rotated; the old one stays
// valid until the new one is used, then both the old and any older are
// invalid.
func TestFASTRotation(t *testing.T) {
	f := startFast(t, nil)
	ctx := context.Background()
	old, key, _ := sasl.NewHTToken()
	if err := f.store.PutFastToken(ctx, "alice@localhost", idPhone,
		storage.FastToken{Hash: key, Mechanism: sasl.HTSHA256None, Expiry: time.Now().Add(lifetime / 4)}); err != nil {
		t.Fatal(err)
	}
	success, next := fastOK(t, f, sasl.HTSHA256None, "alice", old, uaPhone)
	if next == "" {
		t.Fatalf("a token with a quarter of its lifetime left was not rotated: %s", success)
	}
	// The client lost that success: the old token still logs in, and
	// rotates again (the unused token is replaced).
	_, next2 := fastOK(t, f, sasl.HTSHA256None, "alice", old, uaPhone)
	if next2 == "" || next2 == next {
		t.Fatalf("second rotation gave %q (first %q)", next2, next)
	}
	if got := fastFails(t, f, sasl.HTSHA256None, "alice", next, uaPhone); got != "not-authorized" {
		t.Fatalf("the replaced unused token: %s, want not-authorized", got)
	}
	// Using the new token invalidates the old one.
	if _, again := fastOK(t, f, sasl.HTSHA256None, "alice", next2, uaPhone); again != "" {
		t.Fatalf("a fresh token was rotated again: %q", again)
	}
	if got := fastFails(t, f, sasl.HTSHA256None, "alice", old, uaPhone); got != "not-authorized" {
		t.Fatalf("the old token after the new one was used: %s, want not-authorized", got)
	}
	fastOK(t, f, sasl.HTSHA256None, "alice", next2, uaPhone)
}

// XEP-0484 §3.6: invalidate='true' ends the token; no new one unless
// requested.
func TestFASTInvalidate(t *testing.T) {
	tests := []struct {
		name    string
		request bool
	}{
		{"invalidate", false},
		{"invalidate and request", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := startFast(t, nil)
			token := passwordToken(t, f, "alice", uaPhone, sasl.HTSHA256None)
			extra := uaPhone + `<fast xmlns='urn:xmpp:fast:0' count='1' invalidate='true'/>`
			if tc.request {
				extra += `<request-token xmlns='urn:xmpp:fast:0' mechanism='HT-SHA-256-NONE'/>`
			}
			_, next := fastOK(t, f, sasl.HTSHA256None, "alice", token, extra)
			if got := fastFails(t, f, sasl.HTSHA256None, "alice", token, uaPhone); got != "not-authorized" {
				t.Fatalf("the invalidated token: %s, want not-authorized", got)
			}
			if !tc.request {
				if next != "" {
					t.Fatalf("a token after invalidation without a request: %q", next)
				}
				return
			}
			if next == "" {
				t.Fatal("no token though one was requested")
			}
			fastOK(t, f, sasl.HTSHA256None, "alice", next, uaPhone)
		})
	}
}

// A new password, and the account's deletion, end every token.
func TestFASTRevokedWithAccount(t *testing.T) {
	tests := []struct {
		name   string
		revoke func(s *memory.Store) error
	}{
		{"password change", func(s *memory.Store) error {
			return s.SetUserCredentials(context.Background(), "alice@localhost", xmpptest.Credentials(t, "new-secret"))
		}},
		{"account deleted and recreated", func(s *memory.Store) error {
			if err := s.DeleteUser(context.Background(), "alice@localhost"); err != nil {
				return err
			}
			return s.CreateUser(context.Background(), "alice@localhost", xmpptest.Credentials(t, "secret-alice"))
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := startFast(t, nil)
			token := passwordToken(t, f, "alice", uaPhone, sasl.HTSHA256None)
			laptop := passwordToken(t, f, "alice", uaLaptop, sasl.HTSHA256None)
			bob := passwordToken(t, f, "bob", uaPhone, sasl.HTSHA256None)
			if err := tc.revoke(f.store); err != nil {
				t.Fatal(err)
			}
			if got := fastFails(t, f, sasl.HTSHA256None, "alice", token, uaPhone); got != "not-authorized" {
				t.Fatalf("token after %s: %s", tc.name, got)
			}
			if got := fastFails(t, f, sasl.HTSHA256None, "alice", laptop, uaLaptop); got != "not-authorized" {
				t.Fatalf("other client's token after %s: %s", tc.name, got)
			}
			fastOK(t, f, sasl.HTSHA256None, "bob", bob, uaPhone)
		})
	}
}

// The failed-login limits count token failures as they count password
// failures.
func TestFASTAuthLimiter(t *testing.T) {
	f := startFast(t, func(cfg *c2s.Config) { cfg.AccountAuthFailuresPerMinute = 2 })
	token := passwordToken(t, f, "alice", uaPhone, sasl.HTSHA256None)
	for range 2 {
		if got := fastFails(t, f, sasl.HTSHA256None, "alice", "guess", uaPhone); got != "not-authorized" {
			t.Fatalf("wrong token: %s", got)
		}
	}
	if got := fastFails(t, f, sasl.HTSHA256None, "alice", token, uaPhone); got != "temporary-auth-failure" {
		t.Fatalf("right token after the limit: %s, want temporary-auth-failure", got)
	}
}

// A request the server cannot honour gives no token; the login stands.
func TestFASTRequestIgnored(t *testing.T) {
	f := startFast(t, nil)
	tests := []struct{ name, extra string }{
		{"mechanism not offered", uaPhone + `<request-token xmlns='urn:xmpp:fast:0' mechanism='SCRAM-SHA-256'/>`},
		{"no mechanism", uaPhone + `<request-token xmlns='urn:xmpp:fast:0'/>`},
		{"no user-agent id", `<request-token xmlns='urn:xmpp:fast:0' mechanism='HT-SHA-256-NONE'/>`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := tlsStream(t, f.fixture)
			success, _ := sasl2OK(t, c, "alice", tc.extra)
			if tok := success.Child(nsFast, "token"); tok != nil {
				t.Fatalf("token issued: %s", success)
			}
		})
	}
}

// racingTokens changes alice's password just before a token is stored,
// as a password change racing a login would.
type racingTokens struct {
	*memory.Store
	t *testing.T
}

func (r racingTokens) PutFastToken(ctx context.Context, owner, client string, tok storage.FastToken) error {
	if err := r.Store.SetUserCredentials(ctx, owner, xmpptest.Credentials(r.t, "changed")); err != nil {
		return err
	}
	return r.Store.PutFastToken(ctx, owner, client, tok)
}

// A password change between a login and its token's storage withdraws
// the token: the change deleted the tokens it saw, and this one came
// after it.
func TestFASTPasswordChangeDuringLogin(t *testing.T) {
	f := startFast(t, func(cfg *c2s.Config) {
		cfg.FastTokens = racingTokens{Store: cfg.FastTokens.(*memory.Store), t: t}
	})
	c := tlsStream(t, f.fixture)
	success, _ := sasl2OK(t, c, "alice", uaPhone+`<request-token xmlns='urn:xmpp:fast:0' mechanism='HT-SHA-256-NONE'/>`)
	if success.Child(nsFast, "token") != nil {
		t.Fatalf("a token survived a password change during the login: %s", success)
	}
	if ts, _ := f.store.FastTokens(context.Background(), "alice@localhost", idPhone); len(ts) != 0 {
		t.Fatalf("tokens stored: %+v", ts)
	}
}

// A PLAIN login that completes an imported account's SCRAM credentials
// (which ends the account's tokens) still gets the token it asks for:
// issued after the completion, and checked against the completed
// credentials.
func TestFASTAfterCredentialCompletion(t *testing.T) {
	f := startFast(t, nil)
	ctx := context.Background()
	imported := xmpptest.Credentials(t, "old-secret")
	imported.SHA256 = storage.Credential{}
	if err := f.store.CreateUser(ctx, "migrated@localhost", imported); err != nil {
		t.Fatal(err)
	}
	c := tlsStream(t, f.fixture)
	c.Sendf(`<authenticate xmlns='urn:xmpp:sasl:2' mechanism='PLAIN'><initial-response>%s</initial-response>%s`+
		`<request-token xmlns='urn:xmpp:fast:0' mechanism='HT-SHA-256-NONE'/></authenticate>`,
		base64.StdEncoding.EncodeToString([]byte("\x00migrated\x00old-secret")), uaPhone)
	success := c.Next()
	if !success.Is(nsSASL2, "success") {
		t.Fatalf("PLAIN: %s", success)
	}
	if got, _ := f.store.UserCredentials(ctx, "migrated@localhost"); len(got.SHA256.StoredKey) == 0 {
		t.Fatal("SCRAM-SHA-256 credentials not completed")
	}
	token := success.Child(nsFast, "token").Attr("token")
	if token == "" {
		t.Fatalf("no token after completing the credentials: %s", success)
	}
	fastOK(t, f, sasl.HTSHA256None, "migrated", token, uaPhone)
}

// A disabled account cannot log in with a token either: disabling deletes
// its tokens (storage), and a token that survived (put back here, as a
// store without that rule would keep it) still meets the account-disabled
// check every mechanism goes through after its proof.
func TestFASTDisabledAccount(t *testing.T) {
	f := startFast(t, nil)
	ctx := context.Background()
	token := passwordToken(t, f, "alice", uaPhone, sasl.HTSHA256None)
	kept, err := f.store.FastTokens(ctx, "alice@localhost", idPhone)
	if err != nil || len(kept) != 1 {
		t.Fatalf("tokens: %v, %v", kept, err)
	}
	if err := f.store.SetUserDisabled(ctx, "alice@localhost", true, "taken over"); err != nil {
		t.Fatal(err)
	}
	if got := fastFails(t, f, sasl.HTSHA256None, "alice", token, uaPhone); got != "not-authorized" {
		t.Fatalf("token of a disabled account (deleted with the disable): %s", got)
	}
	if err := f.store.PutFastToken(ctx, "alice@localhost", idPhone, kept[0]); err != nil {
		t.Fatal(err)
	}
	if got := fastFails(t, f, sasl.HTSHA256None, "alice", token, uaPhone); got != "account-disabled" {
		t.Fatalf("surviving token of a disabled account: %s", got)
	}
	if err := f.store.SetUserDisabled(ctx, "alice@localhost", false, ""); err != nil {
		t.Fatal(err)
	}
	fastOK(t, f, sasl.HTSHA256None, "alice", token, uaPhone)
}

// A client names itself, so an account cannot gather tokens without
// bound: once it holds tokens for storage.MaxFastTokenClients clients,
// a token for one more ends those of the client issued to least
// recently, and the others still log in.
func TestFASTClientCap(t *testing.T) {
	f := startFast(t, nil)
	ctx := context.Background()
	ua := func(i int) string { return "cap-client-" + strconv.Itoa(i) }
	tokens := make([]string, storage.MaxFastTokenClients)
	for i := range tokens {
		tok, key, _ := sasl.NewHTToken()
		tokens[i] = tok
		exp := time.Now().Add(lifetime - time.Duration(len(tokens)-i)*time.Minute)
		if err := f.store.PutFastToken(ctx, "alice@localhost", ua(i),
			storage.FastToken{Hash: key, Mechanism: sasl.HTSHA256None, Expiry: exp}); err != nil {
			t.Fatal(err)
		}
	}
	uaNew := `<user-agent id='cap-client-new'/>`
	next := passwordToken(t, f, "alice", uaNew, sasl.HTSHA256None)
	if got := fastFails(t, f, sasl.HTSHA256None, "alice", tokens[0], `<user-agent id='`+ua(0)+`'/>`); got != "not-authorized" {
		t.Fatalf("the least recent client past the cap: %s, want not-authorized", got)
	}
	fastOK(t, f, sasl.HTSHA256None, "alice", tokens[1], `<user-agent id='`+ua(1)+`'/>`)
	fastOK(t, f, sasl.HTSHA256None, "alice", next, uaNew)
}
