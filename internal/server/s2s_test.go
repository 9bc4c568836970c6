package server_test

import (
	"context"
	"net"
	"os"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/skald-xmpp/skald/internal/server"
	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/internal/xmpptest"
	"github.com/skald-xmpp/skald/s2s"
	"github.com/skald-xmpp/skald/storage/memory"
)

// fakeSRV answers _xmpp-server._tcp lookups from a table filled once the
// servers listen (each needs the other's port); other lookups find
// nothing, as for a domain without records, and no host resolves: the
// tests never touch real DNS.
type fakeSRV struct {
	mu    sync.Mutex
	ports map[string]int // domain -> port on 127.0.0.1
}

func (f *fakeSRV) LookupSRV(_ context.Context, service, proto, name string) (string, []*net.SRV, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if p, ok := f.ports[name]; ok && service == "xmpp-server" {
		return "", []*net.SRV{{Target: "127.0.0.1.", Port: uint16(p)}}, nil
	}
	return "", nil, &net.DNSError{Err: "no such host", Name: name, IsNotFound: true}
}

func (f *fakeSRV) LookupHost(_ context.Context, host string) ([]string, error) {
	if host == "127.0.0.1" {
		return []string{host}, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}

func (f *fakeSRV) set(domain, addr string) {
	_, port, _ := net.SplitHostPort(addr)
	p, _ := strconv.Atoi(port)
	f.mu.Lock()
	f.ports[domain] = p
	f.mu.Unlock()
}

// fedServer is one Skald serving domain with the accounts users
// (password "pw-" + user) and federation on.
type fedServer struct {
	*server.Server
	domain, c2s string
}

func startFederated(t *testing.T, domain string, res *fakeSRV, extra string, users ...string) *fedServer {
	t.Helper()
	return startFederatedWith(t, domain, res, extra, nil, users...)
}

// startFederatedWith is startFederated with before called on the
// assembled server before it serves (to register test handlers).
func startFederatedWith(t *testing.T, domain string, res *fakeSRV, extra string, before func(*server.Server), users ...string) *fedServer {
	t.Helper()
	src := "domains = [\"" + domain + "\"]\n[s2s]\naddress = \"127.0.0.1:0\"\nconnect_timeout = \"3s\"\n" + extra
	cfg := loadConfigFile(t, src)
	cfg.DataDir = t.TempDir()
	cfg.C2S.StartTLSAddress = "127.0.0.1:0"
	cfg.C2S.DirectTLSAddress = ""
	st := memory.New()
	ctx := context.Background()
	for _, u := range users {
		if err := st.CreateUser(ctx, u+"@"+domain, xmpptest.Credentials(t, "pw-"+u)); err != nil {
			t.Fatal(err)
		}
	}
	srv, err := server.New(ctx, cfg, testLogger(), server.Options{Store: st, S2SResolver: res})
	if err != nil {
		t.Fatal(err)
	}
	if before != nil {
		before(srv)
	}
	if err := srv.Listen(); err != nil {
		t.Fatal(err)
	}
	res.set(domain, srv.S2SAddr())
	srv.Start(ctx)
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(sctx); err != nil {
			t.Errorf("shutdown %s: %v", domain, err)
		}
	})
	a, _ := srv.Addrs()
	return &fedServer{Server: srv, domain: domain, c2s: a}
}

func (f *fedServer) login(t *testing.T, user, resource string) *xmpptest.Conn {
	t.Helper()
	c := xmpptest.Dial(t, f.c2s)
	c.Timeout = 15 * time.Second
	c.Login(f.domain, user, "pw-"+user, resource)
	return c
}

// expectStanza reads until a stanza of kind with the given type ("" any)
// from a JID whose bare form is fromBare arrives, skipping roster pushes
// and other traffic.
func expectStanza(c *xmpptest.Conn, kind, typ, fromBare string) *xml.Element {
	c.T.Helper()
	return c.Expect(func(el *xml.Element) bool {
		if el.Local != kind || el.Attr("type") != typ {
			return false
		}
		f := el.Attr("from")
		if i := indexByte(f, '/'); i >= 0 {
			f = f[:i]
		}
		return f == fromBare
	})
}

func indexByte(s string, b byte) int {
	for i := 0; i < len(s); i++ {
		if s[i] == b {
			return i
		}
	}
	return -1
}

// TestFederationEndToEnd runs two servers, a.test and b.test, which find
// each other through (fake) SRV records, secure their streams with
// STARTTLS and authenticate with dialback (both have self-signed
// certificates): alice@a.test and bob@b.test subscribe to each other's
// presence, see each other come online, exchange messages in both
// directions, and each archive holds the message.
func TestFederationEndToEnd(t *testing.T) {
	res := &fakeSRV{ports: map[string]int{}}
	a := startFederated(t, "a.test", res, "", "alice")
	b := startFederated(t, "b.test", res, "", "bob")

	alice := a.login(t, "alice", "phone")
	alice.Send(`<iq type='get' id='r1'><query xmlns='jabber:iq:roster'/></iq>`)
	alice.Expect(func(el *xml.Element) bool { return el.Attr("id") == "r1" })
	alice.Send(`<presence/>`)
	bob := b.login(t, "bob", "laptop")
	bob.Send(`<iq type='get' id='r1'><query xmlns='jabber:iq:roster'/></iq>`)
	bob.Expect(func(el *xml.Element) bool { return el.Attr("id") == "r1" })
	bob.Send(`<presence/>`)

	// alice asks to see bob's presence; bob approves; and the other way.
	alice.Send(`<presence to='bob@b.test' type='subscribe'/>`)
	expectStanza(bob, "presence", "subscribe", "alice@a.test")
	bob.Send(`<presence to='alice@a.test' type='subscribed'/>`)
	expectStanza(alice, "presence", "subscribed", "bob@b.test")
	// Approval sends bob's current presence to alice (RFC 6121 §3.1.5).
	expectStanza(alice, "presence", "", "bob@b.test")

	bob.Send(`<presence to='alice@a.test' type='subscribe'/>`)
	expectStanza(alice, "presence", "subscribe", "bob@b.test")
	alice.Send(`<presence to='bob@b.test' type='subscribed'/>`)
	expectStanza(bob, "presence", "subscribed", "alice@a.test")
	expectStanza(bob, "presence", "", "alice@a.test")

	// A broadcast reaches the remote subscriber.
	alice.Send(`<presence><show>away</show></presence>`)
	p := expectStanza(bob, "presence", "", "alice@a.test")
	if p.ChildText("jabber:client", "show") != "away" {
		t.Fatalf("bob got %s", p)
	}

	alice.Send(`<message to='bob@b.test' type='chat' id='m1'><body>hello from a</body></message>`)
	m := expectStanza(bob, "message", "chat", "alice@a.test")
	if m.ChildText("jabber:client", "body") != "hello from a" || m.Attr("from") != "alice@a.test/phone" {
		t.Fatalf("bob got %s", m)
	}
	// bob's message claims a stanza-id by alice's archive: only a.test
	// may say that, so it is replaced (XEP-0359 §5); one by bob's own
	// JID, on the other server's say-so, passes.
	bob.Send(`<message to='alice@a.test/phone' type='chat' id='m2'><body>hello from b</body>` +
		`<stanza-id xmlns='urn:xmpp:sid:0' by='alice@a.test' id='forged'/></message>`)
	m = expectStanza(alice, "message", "chat", "bob@b.test")
	if m.ChildText("jabber:client", "body") != "hello from b" {
		t.Fatalf("alice got %s", m)
	}
	// The recipient's copy carries its archive's stanza-id, by the
	// recipient's bare JID (XEP-0359), and no other by that JID.
	sids := m.ChildrenNamed("urn:xmpp:sid:0", "stanza-id")
	if len(sids) != 1 || sids[0].Attr("by") != "alice@a.test" || sids[0].Attr("id") == "forged" {
		t.Fatalf("stanza-ids by alice@a.test: %s", m)
	}

	// A new session of bob's probes alice's presence (RFC 6121 §4.3):
	// b.test asks a.test, which answers with alice's presence.
	tablet := b.login(t, "bob", "tablet")
	tablet.Send(`<presence/>`)
	p = expectStanza(tablet, "presence", "", "alice@a.test")
	if p.ChildText("jabber:client", "show") != "away" {
		t.Fatalf("probe answered %s", p)
	}

	for _, side := range []struct {
		c    *xmpptest.Conn
		want []string
	}{{alice, []string{"hello from a", "hello from b"}}, {bob, []string{"hello from a", "hello from b"}}} {
		bodies := archivedBodies(t, side.c)
		if len(bodies) != 2 || bodies[0] != side.want[0] || bodies[1] != side.want[1] {
			t.Fatalf("archive holds %q, want %q", bodies, side.want)
		}
	}

	// alice leaves: her remote subscriber learns it.
	alice.Send(`<presence type='unavailable'/>`)
	expectStanza(tablet, "presence", "unavailable", "alice@a.test")

	// a.test shuts down while alice is online on her desk: the
	// unavailable presence of the ended session still reaches bob before
	// the server-to-server stream closes.
	desk := a.login(t, "alice", "desk")
	desk.Send(`<presence/>`)
	if p := expectStanza(tablet, "presence", "", "alice@a.test"); p.Attr("from") != "alice@a.test/desk" {
		t.Fatalf("tablet got %s", p)
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := a.Shutdown(sctx); err != nil {
		t.Fatal(err)
	}
	if p := expectStanza(tablet, "presence", "unavailable", "alice@a.test"); p.Attr("from") != "alice@a.test/desk" {
		t.Fatalf("tablet got %s", p)
	}
}

// archivedBodies queries the whole archive and returns its bodies.
func archivedBodies(t *testing.T, c *xmpptest.Conn) []string {
	t.Helper()
	c.Send(`<iq type='set' id='q'><query xmlns='urn:xmpp:mam:2' queryid='q'/></iq>`)
	var bodies []string
	for {
		el := c.Next()
		if r := el.Child(nsMAM, "result"); el.Local == "message" && r != nil {
			fw := r.Child("urn:xmpp:forward:0", "forwarded")
			msg := fw.Child("jabber:client", "message")
			bodies = append(bodies, msg.ChildText("jabber:client", "body"))
			continue
		}
		if el.Local == "iq" && el.Attr("id") == "q" {
			if el.Attr("type") != "result" {
				t.Fatalf("mam query: %s", el)
			}
			return bodies
		}
	}
}

// TestFederationUnreachable: a stanza to a domain with no server bounces
// remote-server-not-found (nothing resolves), one to a domain whose
// server does not answer remote-server-timeout.
func TestFederationUnreachable(t *testing.T) {
	res := &fakeSRV{ports: map[string]int{}}
	// A port nobody listens on: bound, then closed.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	res.set("dead.test", l.Addr().String())
	l.Close()
	a := startFederated(t, "a.test", res, "", "alice")
	alice := a.login(t, "alice", "phone")
	for _, tc := range []struct{ to, cond string }{
		{"nobody@nowhere.invalid", "remote-server-not-found"},
		{"nobody@dead.test", "remote-server-timeout"},
	} {
		alice.Send(`<message to='` + tc.to + `' type='chat' id='x'><body>hi</body></message>`)
		el := alice.Expect(func(el *xml.Element) bool { return el.Local == "message" && el.Attr("type") == "error" })
		e := el.Child("jabber:client", "error")
		if e == nil || e.Child("urn:ietf:params:xml:ns:xmpp-stanzas", tc.cond) == nil || el.Attr("from") != tc.to {
			t.Fatalf("to %s: got %s, want %s", tc.to, el, tc.cond)
		}
	}
}

// TestFederationIdleReconnect: an outgoing stream unused for idle_timeout
// is closed (gracefully: the metrics show none open and no bounce), and
// the next stanza sets up a new one.
func TestFederationIdleReconnect(t *testing.T) {
	res := &fakeSRV{ports: map[string]int{}}
	a := startFederated(t, "a.test", res, "idle_timeout = \"1s\"\n", "alice")
	b := startFederated(t, "b.test", res, "idle_timeout = \"1s\"\n", "bob")
	alice := a.login(t, "alice", "phone")
	bob := b.login(t, "bob", "laptop")
	bob.Send(`<presence/>`)
	metric := func(name string) float64 {
		v, _ := a.Metrics.Value(name)
		return v
	}
	for i, body := range []string{"first", "second"} {
		alice.Send(`<message to='bob@b.test' type='chat'><body>` + body + `</body></message>`)
		m := expectStanza(bob, "message", "chat", "alice@a.test")
		if m.ChildText("jabber:client", "body") != body {
			t.Fatalf("bob got %s", m)
		}
		if got := metric("skald_s2s_streams_out_total"); got != float64(i+1) {
			t.Fatalf("streams started %v, want %d", got, i+1)
		}
		deadline := time.Now().Add(5 * time.Second)
		for metric("skald_s2s_streams_out") != 0 {
			if time.Now().After(deadline) {
				t.Fatal("idle stream not closed")
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	if got := metric("skald_s2s_stanzas_bounced_total"); got != 0 {
		t.Fatalf("%v stanzas bounced", got)
	}
	if got := metric("skald_s2s_stanzas_sent_total"); got != 2 {
		t.Fatalf("%v stanzas sent, want 2", got)
	}
}

// TestS2SConfig: skald.example.toml's commented [s2s] section is the
// defaults (with its example address and route), and mistakes are errors
// naming the option.
func TestS2SConfig(t *testing.T) {
	example, err := os.ReadFile("../../skald.example.toml")
	if err != nil {
		t.Fatal(err)
	}
	_, tail, _ := strings.Cut(string(example), "# [s2s]\n")
	var lines []string
	for _, l := range strings.Split("# [s2s]\n"+tail, "\n") {
		if strings.HasPrefix(l, "# [") && !strings.HasPrefix(l, "# [s2s") && len(lines) > 0 {
			break
		}
		if strings.HasPrefix(l, "# [") || strings.Contains(l, " = ") {
			lines = append(lines, strings.TrimPrefix(l, "# "))
		}
	}
	want := s2s.DefaultConfig()
	want.Address = ":5269"
	want.Routes = map[string]string{"other.example": "127.0.0.1:5270"}
	if m, err := loadModuleConfig(t, strings.Join(lines, "\n")); err != nil || !reflect.DeepEqual(m.S2S, want) || len(lines) != 15 {
		t.Errorf("skald.example.toml's [s2s] %q gives %+v, %v; want %+v", lines, m.S2S, err, want)
	}
	if m, err := loadModuleConfig(t, ""); err != nil || m.S2S.Enabled() {
		t.Errorf("federation on by default: %+v, %v", m.S2S, err)
	}
	for src, want := range map[string]string{
		"[s2s]\nadress = \":1\"\n":                   "adress",
		"[s2s]\naddress = \"5269\"\n":                "address",
		"[s2s]\nmax_stanza_bytes = 100\n":            "max_stanza_bytes",
		"[s2s]\nqueue_stanzas = 0\n":                 "queue_stanzas",
		"[s2s]\nidle_timeout = \"0s\"\n":             "idle_timeout",
		"[s2s.routes]\n\"x.example\" = \"nohost\"\n": "routes",
		"[s2s]\nrequire_encryption = \"yes\"\n":      "require_encryption",
		"[s2s]\nmax_outgoing_streams = 0\n":          "max_outgoing_streams",
		"[s2s]\nmax_incoming_streams = -1\n":         "max_incoming_streams",
		"[s2s]\nrequire_valid_certificates = 1\n":    "require_valid_certificates",
		"[s2s]\nretry_backoff_max = \"10ms\"\n":      "retry_backoff_max",
	} {
		if _, err := loadModuleConfig(t, src); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want an error naming %s", src, err, want)
		}
	}
}
