package s2s

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/skald-xmpp/skald/internal/certs"
	"github.com/skald-xmpp/skald/internal/metrics"
	"github.com/skald-xmpp/skald/internal/routertest"
	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/jid"
	"github.com/skald-xmpp/skald/router"
	"github.com/skald-xmpp/skald/stanza"
	"github.com/skald-xmpp/skald/storage"
	"github.com/skald-xmpp/skald/storage/memory"
)

func TestBackoffTable(t *testing.T) {
	t0 := time.Unix(1_000_000, 0)
	b := newBackoffTable(time.Minute, 3)
	// Waits double from 10 s up to the maximum.
	now := t0
	for _, want := range []time.Duration{10 * time.Second, 20 * time.Second, 40 * time.Second, time.Minute, time.Minute} {
		b.failed("dead.test", stanza.RemoteServerTimeout, now)
		if c, ok := b.refused("dead.test", now.Add(want-time.Millisecond)); !ok || c != stanza.RemoteServerTimeout {
			t.Fatalf("refused just before %v: %v %v", want, c, ok)
		}
		if _, ok := b.refused("dead.test", now.Add(want)); ok {
			t.Fatalf("still refused after %v", want)
		}
		now = now.Add(want) // the next attempt, at expiry
	}
	// Long after the last wait ended, the next failure starts again at 10 s.
	now = now.Add(10 * time.Minute)
	b.failed("dead.test", stanza.RemoteServerNotFound, now)
	if c, ok := b.refused("dead.test", now.Add(9*time.Second)); !ok || c != stanza.RemoteServerNotFound {
		t.Fatalf("after a long pause: %v %v", c, ok)
	}
	if _, ok := b.refused("dead.test", now.Add(10*time.Second)); ok {
		t.Fatal("the wait did not start again at 10 s")
	}
	// Forgetting clears, other domains are untouched.
	b.failed("other.test", stanza.RemoteServerTimeout, now)
	b.forget("dead.test")
	if _, ok := b.refused("dead.test", now); ok {
		t.Fatal("forgotten domain still refused")
	}
	if _, ok := b.refused("other.test", now); !ok || b.active(now) != 1 {
		t.Fatalf("other domain: active %d", b.active(now))
	}
	// The table holds at most limit domains; the oldest failure goes.
	for _, d := range []string{"d1.test", "d2.test", "d3.test"} {
		now = now.Add(time.Second)
		b.failed(d, stanza.RemoteServerTimeout, now)
	}
	if len(b.domains) != 3 || b.order.Len() != 3 {
		t.Fatalf("table holds %d (%d in order), want 3", len(b.domains), b.order.Len())
	}
	if _, ok := b.refused("other.test", now); ok {
		t.Fatal("the oldest domain was not evicted")
	}
	if b.active(now) != 3 || b.active(now.Add(time.Hour)) != 0 {
		t.Fatalf("active %d, later %d", b.active(now), b.active(now.Add(time.Hour)))
	}
	// retry_backoff_max = 0 turns it off.
	off := newBackoffTable(0, 3)
	off.failed("dead.test", stanza.RemoteServerTimeout, now)
	if _, ok := off.refused("dead.test", now); ok || len(off.domains) != 0 {
		t.Fatal("back-off with retry_backoff_max = 0")
	}
}

// switchResolver resolves domains to 127.0.0.1 ports set by the test and
// counts SRV lookups (one per connection attempt); unknown domains do
// not exist.
type switchResolver struct {
	mu      sync.Mutex
	ports   map[string]string
	lookups map[string]int
	gate    chan struct{} // when set, lookups wait for it to close
}

func (r *switchResolver) set(domain, addr string) {
	_, port, _ := net.SplitHostPort(addr)
	r.mu.Lock()
	r.ports[domain] = port
	r.mu.Unlock()
}

func (r *switchResolver) count(domain string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.lookups[domain]
}

func (r *switchResolver) LookupSRV(ctx context.Context, service, _, name string) (string, []*net.SRV, error) {
	r.mu.Lock()
	gate := r.gate
	r.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if service == "xmpp-server" {
		r.lookups[name]++
	}
	if p, ok := r.ports[name]; ok && service == "xmpp-server" {
		n, _ := strconv.Atoi(p)
		return "", []*net.SRV{{Target: "127.0.0.1.", Port: uint16(n)}}, nil
	}
	return "", nil, &net.DNSError{Err: "no such host", Name: name, IsNotFound: true}
}

func (r *switchResolver) LookupHost(_ context.Context, host string) ([]string, error) {
	if host == "127.0.0.1" {
		return []string{host}, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}

// fakeClock is the servers' clock in these tests: back-off expires when
// the test says.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

type backoffNode struct {
	s      *Server
	domain string
	addr   string // the listener's, when it listens
	rec    *routertest.Recorder
}

func (n *backoffNode) metric(t *testing.T, name string) (float64, bool) {
	t.Helper()
	reg := metrics.NewRegistry()
	reg.Register(n.s)
	return reg.Value(name)
}

// startBackoffNode serves domain (user@domain/res bound) without TLS,
// finding peers with res and telling time by clock.
func startBackoffNode(t *testing.T, domain string, res *switchResolver, clock *fakeClock, listen bool) *backoffNode {
	t.Helper()
	st := memory.New()
	if err := st.CreateUser(context.Background(), "user@"+domain, storage.Credentials{}); err != nil {
		t.Fatal(err)
	}
	r := router.New(router.Config{Domains: []string{domain}, Users: st})
	cfg := DefaultConfig()
	cfg.RequireEncryption = false
	cfg.ConnectTimeout = 2 * time.Second
	cf, kf, err := certs.EnsureSelfSigned(t.TempDir(), []string{domain})
	if err != nil {
		t.Fatal(err)
	}
	tlsCfg, err := certs.Load(cf, kf)
	if err != nil {
		t.Fatal(err)
	}
	s := New(cfg, r, Options{TLS: tlsCfg, Secret: []byte(domain + "-secret"), Resolver: res,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	s.now = clock.Now
	addr := ""
	if listen {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr = l.Addr().String()
		res.set(domain, addr)
		go s.Serve(l)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	rec := &routertest.Recorder{}
	sess := router.NewSession(jid.MustParse("user@"+domain+"/res"), "test", rec)
	r.Bind(context.Background(), sess)
	sess.SetPresence(xml.New("jabber:client", "presence"), 0)
	return &backoffNode{s: s, domain: domain, addr: addr, rec: rec}
}

// send hands the server a message from its user to user@to.
func (n *backoffNode) send(t *testing.T, to, id string) error {
	t.Helper()
	st := routertest.Parse(t, `<message from='user@`+n.domain+`/res' to='user@`+to+`' id='`+id+`'><body>hi</body></message>`)
	return n.s.SendRemote(st, jid.MustParse("user@"+n.domain+"/res"), jid.MustParse("user@"+to))
}

// waitFor waits for the node's user to receive one stanza for each of
// wants, in order, the stanza containing the string.
func (n *backoffNode) waitFor(t *testing.T, wants ...string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	var got []string
	for len(got) < len(wants) && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
		got = append(got, n.rec.Take()...)
	}
	if len(got) != len(wants) {
		t.Fatalf("%s's user got %v, want %q", n.domain, got, wants)
	}
	for i, w := range wants {
		if !strings.Contains(got[i], w) {
			t.Fatalf("%s's user got %v, want %q", n.domain, got, wants)
		}
	}
}

// idle waits until the node has no outgoing stream (a failed one is gone).
func (n *backoffNode) idle(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		n.s.mu.Lock()
		k := len(n.s.out)
		n.s.mu.Unlock()
		if k == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("outgoing stream still there")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func wantRefused(t *testing.T, err error, cond stanza.Condition) {
	t.Helper()
	var se *stanza.Error
	if !errors.As(err, &se) || se.Condition != cond {
		t.Fatalf("got %v, want %s at once", err, cond)
	}
}

// TestBackoffDeadDomain: after a failed attempt, stanzas for the domain
// are refused at once with the failure's condition and no new lookup;
// once the wait expires one stanza makes one new attempt, and a failure
// again doubles the wait.
func TestBackoffDeadDomain(t *testing.T) {
	res := &switchResolver{ports: map[string]string{}, lookups: map[string]int{}}
	clock := &fakeClock{now: time.Unix(1_000_000, 0)}
	a := startBackoffNode(t, "a.test", res, clock, false)
	if err := a.send(t, "nowhere.test", "1"); err != nil {
		t.Fatal(err)
	}
	a.waitFor(t, "remote-server-not-found")
	a.idle(t)
	if n := res.count("nowhere.test"); n == 0 {
		t.Fatal("no lookup")
	}
	lookups := res.count("nowhere.test")
	wantRefused(t, a.send(t, "nowhere.test", "2"), stanza.RemoteServerNotFound)
	if res.count("nowhere.test") != lookups {
		t.Fatal("a stanza in back-off looked the domain up again")
	}
	if v, _ := a.metric(t, "skald_s2s_domains_backoff"); v != 1 {
		t.Fatalf("domains in back-off %v, want 1", v)
	}
	// Expired: the next stanzas make one attempt between them (the
	// lookup held until both are queued).
	clock.advance(backoffFirst)
	gate := make(chan struct{})
	res.mu.Lock()
	res.gate = gate
	res.mu.Unlock()
	for _, id := range []string{"3", "4"} {
		if err := a.send(t, "nowhere.test", id); err != nil {
			t.Fatalf("stanza %s after expiry: %v", id, err)
		}
	}
	res.mu.Lock()
	res.gate = nil
	res.mu.Unlock()
	close(gate)
	a.waitFor(t, `id="3"`, `id="4"`)
	a.idle(t)
	if got := res.count("nowhere.test"); got != 2*lookups {
		t.Fatalf("%d lookups after expiry, want %d (one attempt)", got, 2*lookups)
	}
	// The second failure waits 20 s.
	clock.advance(backoffFirst + time.Second)
	wantRefused(t, a.send(t, "nowhere.test", "5"), stanza.RemoteServerNotFound)

	// A domain that resolves but refuses connections: remote-server-timeout.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	res.set("down.test", l.Addr().String())
	l.Close()
	if err := a.send(t, "down.test", "6"); err != nil {
		t.Fatal(err)
	}
	a.waitFor(t, "remote-server-timeout")
	a.idle(t)
	wantRefused(t, a.send(t, "down.test", "7"), stanza.RemoteServerTimeout)
}

// TestBackoffCleared: a domain that comes back is forgotten when a
// stream to it becomes ready after the wait, and at once when it
// authenticates an incoming stream.
func TestBackoffCleared(t *testing.T) {
	res := &switchResolver{ports: map[string]string{}, lookups: map[string]int{}}
	clock := &fakeClock{now: time.Unix(1_000_000, 0)}
	a := startBackoffNode(t, "a.test", res, clock, true)
	down := func() {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		res.set("b.test", l.Addr().String())
		l.Close()
		if err := a.send(t, "b.test", "fail"); err != nil {
			t.Fatal(err)
		}
		a.waitFor(t, "remote-server-timeout")
		a.idle(t)
		wantRefused(t, a.send(t, "b.test", "refused"), stanza.RemoteServerTimeout)
	}
	down()
	b := startBackoffNode(t, "b.test", res, clock, true)
	// Success after the wait resets.
	clock.advance(backoffFirst)
	if err := a.send(t, "b.test", "up"); err != nil {
		t.Fatal(err)
	}
	b.waitFor(t, `id="up"`)
	a.s.mu.Lock()
	n := len(a.s.backoff.domains)
	a.s.mu.Unlock()
	if n != 0 {
		t.Fatalf("%d domains remembered after success", n)
	}

	// Down again (b's listener moves away), then b opens a stream to a:
	// a forgets b.test without waiting.
	a.s.mu.Lock()
	for _, o := range a.s.out {
		o.stop()
	}
	a.s.mu.Unlock()
	a.idle(t)
	down()
	res.set("b.test", b.addr)
	if err := b.send(t, "a.test", "hello"); err != nil {
		t.Fatal(err)
	}
	a.waitFor(t, `id="hello"`)
	if err := a.send(t, "b.test", "back"); err != nil {
		t.Fatalf("after b's incoming stream: %v", err)
	}
	b.waitFor(t, `id="back"`)
}
