package upload

import (
	"log/slog"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/skald-xmpp/skald/internal/routertest"
	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/router"
)

const (
	romeo     = "romeo@example.org"
	romeoFull = "romeo@example.org/garden"
	// t0 is the fake clock's start.
	t0 = "2026-03-01T12:00:00Z"
)

// clock is a settable clock, read by handler goroutines.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock {
	t, _ := time.Parse(time.RFC3339, t0)
	return &clock{t: t}
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// env is a router with the module, romeo bound, and the module's HTTP side
// on a real TLS listener on loopback, which is also its public URL.
type env struct {
	*routertest.Env
	t     *testing.T
	m     *Module
	dir   string
	clock *clock
	s     *router.Session
	rec   *routertest.Recorder
	web   *httptest.Server
}

// quiet discards the module's log.
var quiet = slog.New(slog.DiscardHandler)

var testSecret = []byte("0123456789abcdef0123456789abcdef")

func newEnv(t *testing.T, tweak func(*Config)) *env {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Address = "127.0.0.1:0"
	if tweak != nil {
		tweak(&cfg)
	}
	dir := t.TempDir()
	m, err := New(cfg, dir, testSecret, quiet)
	if err != nil {
		t.Fatal(err)
	}
	c := newClock()
	m.now = c.Now
	web := httptest.NewTLSServer(m.Handler())
	t.Cleanup(web.Close)
	if err := m.SetPublicURL(web.URL + "/files"); err != nil {
		t.Fatal(err)
	}
	e := routertest.New(t, romeo, "juliet@example.org")
	e.Router.Register(m)
	s, rec := e.Bind(romeoFull, true, 0)
	return &env{Env: e, t: t, m: m, dir: dir, clock: c, s: s, rec: rec, web: web}
}

// ask sends one iq from romeo and returns the one reply, parsed.
func (e *env) ask(raw string) *xml.Element {
	e.t.Helper()
	e.Send(e.s, raw)
	out := e.rec.Take()
	if len(out) != 1 {
		e.t.Fatalf("%s: got %d replies: %v", raw, len(out), out)
	}
	return routertest.Parse(e.t, out[0])
}

// slotFor requests a slot and returns its PUT and GET URLs.
func (e *env) slotFor(name string, size int, ctype string) (put, get string) {
	e.t.Helper()
	req := `<iq type='get' id='s' to='example.org'><request xmlns='urn:xmpp:http:upload:0' filename='` + xmlAttr(name) + `' size='` + strconv.Itoa(size) + `'`
	if ctype != "" {
		req += ` content-type='` + ctype + `'`
	}
	reply := e.ask(req + `/></iq>`)
	sl := reply.Child(NS, "slot")
	if reply.Attr("type") != "result" || sl == nil {
		e.t.Fatalf("slot request for %s: %s", name, reply)
	}
	return sl.Child(NS, "put").Attr("url"), sl.Child(NS, "get").Attr("url")
}

func xmlAttr(s string) string {
	return strings.NewReplacer("&", "&amp;", "'", "&apos;", "<", "&lt;").Replace(s)
}
