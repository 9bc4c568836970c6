package server_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/skald-xmpp/skald/config"
	"github.com/skald-xmpp/skald/internal/server"
	"github.com/skald-xmpp/skald/storage/memory"
	"github.com/skald-xmpp/skald/storage/sqlite"
)

// scrape GETs url and returns the status, Content-Type and body.
func scrape(t testing.TB, url string) (int, string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header.Get("Content-Type"), string(body)
}

func TestMetricsListener(t *testing.T) {
	t.Run("off by default", func(t *testing.T) {
		s := startServer(t, nil, nil)
		if a := s.MetricsAddr(); a != "" {
			t.Fatalf("metrics listener at %s without metrics_address", a)
		}
	})
	s := startServer(t, nil, func(c *config.Config) { c.MetricsAddress = "127.0.0.1:0" })
	s.Metrics.GaugeFunc("skald_test_listener", "A test gauge.", func() float64 { return 42 })
	base := "http://" + s.MetricsAddr()
	code, ct, body := scrape(t, base+"/metrics")
	if code != http.StatusOK || ct != "text/plain; version=0.0.4; charset=utf-8" {
		t.Fatalf("GET /metrics: %d, Content-Type %q", code, ct)
	}
	if want := "# HELP skald_test_listener A test gauge.\n# TYPE skald_test_listener gauge\nskald_test_listener 42\n"; !strings.Contains(body, want) {
		t.Fatalf("GET /metrics: body %q does not contain %q", body, want)
	}
	// Only /metrics: nothing else is served there.
	for _, p := range []string{"/", "/metrics/x", "/debug/pprof/"} {
		if code, _, _ := scrape(t, base+p); code != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", p, code)
		}
	}
}

// TestMetricsListenerShutdown: Shutdown closes the metrics listener.
func TestMetricsListenerShutdown(t *testing.T) {
	s := startServer(t, nil, func(c *config.Config) { c.MetricsAddress = "127.0.0.1:0" })
	addr := s.MetricsAddr()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	c := http.Client{Timeout: 2 * time.Second}
	if resp, err := c.Get("http://" + addr + "/metrics"); err == nil {
		resp.Body.Close()
		t.Fatalf("metrics still served after Shutdown: %s", resp.Status)
	}
}

// parseText parses a scrape in the text format into name → value,
// checking that each sample is preceded by its # HELP and # TYPE lines.
func parseText(t testing.TB, body string) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	lines := strings.Split(strings.TrimSuffix(body, "\n"), "\n")
	if len(lines)%3 != 0 {
		t.Fatalf("%d lines, want three per metric:\n%s", len(lines), body)
	}
	prev := ""
	for i := 0; i < len(lines); i += 3 {
		name, value, ok := strings.Cut(lines[i+2], " ")
		if !ok || !strings.HasPrefix(lines[i], "# HELP "+name+" ") || !strings.HasPrefix(lines[i+1], "# TYPE "+name+" ") {
			t.Fatalf("malformed metric at line %d:\n%s", i+1, strings.Join(lines[i:i+3], "\n"))
		}
		if name <= prev {
			t.Errorf("%s after %s: not sorted", name, prev)
		}
		prev = name
		v, err := strconv.ParseFloat(value, 64)
		if err != nil {
			t.Fatalf("%s: value %q: %v", name, value, err)
		}
		out[name] = v
	}
	return out
}

// TestMetricsEndToEnd scrapes a server on SQLite over HTTP while two
// clients, logged in over real sockets, exchange a message, and checks
// that what happened moved the metrics of every source.
func TestMetricsEndToEnd(t *testing.T) {
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "skald.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s := startServer(t, st, func(c *config.Config) { c.MetricsAddress = "127.0.0.1:0" }) // closes st at shutdown
	url := "http://" + s.MetricsAddr() + "/metrics"
	get := func() map[string]float64 {
		t.Helper()
		code, ct, body := scrape(t, url)
		if code != http.StatusOK || ct != "text/plain; version=0.0.4; charset=utf-8" {
			t.Fatalf("GET /metrics: %d, Content-Type %q", code, ct)
		}
		return parseText(t, body)
	}
	before := get()
	for _, name := range []string{
		"skald_c2s_connections", "skald_c2s_connections_accepted_total", "skald_c2s_connections_parked",
		"skald_c2s_sessions", "skald_c2s_stanzas_received_total", "skald_c2s_auth_failures_total",
		"skald_c2s_slow_consumer_disconnects_total",
		"skald_mam_messages_archived_total", "skald_mam_queries_total", "skald_mam_query_errors_total",
		"skald_muc_rooms", "skald_muc_occupants", "skald_muc_remote_occupant_sessions", "skald_muc_messages_total",
		"skald_sqlite_write_batches_total", "skald_sqlite_write_operations_total", "skald_sqlite_checkpoints_total",
		"skald_sqlite_text_indexed_rows_total",
		"skald_memory_releases_total", "skald_go_goroutines", "skald_go_heap_live_bytes", "skald_go_heap_mapped_bytes",
	} {
		if _, ok := before[name]; !ok {
			t.Errorf("%s is not served", name)
		}
	}

	alice := login(t, s, "alice", "a")
	bob := login(t, s, "bob", "b")
	alice.Send(`<message to='bob@localhost/b' type='chat' id='m1'><body>hello</body></message>`)
	bob.Expect(isMessageWithBody("hello"))
	alice.Send(`<presence to='` + room + `/Al'/>`)
	alice.Send(`<message to='` + room + `' type='groupchat'><body>hi room</body></message>`)
	alice.Expect(isMessageWithBody("hi room"))
	runtime.GC() // the live heap is measured by a collection
	after := get()

	atLeast := func(name string, want float64) {
		t.Helper()
		if after[name] < want {
			t.Errorf("%s = %v, want at least %v", name, after[name], want)
		}
	}
	moved := func(name string, by float64) {
		t.Helper()
		if d := after[name] - before[name]; d < by {
			t.Errorf("%s moved by %v (%v → %v), want at least %v", name, d, before[name], after[name], by)
		}
	}
	atLeast("skald_c2s_connections", 2)
	atLeast("skald_c2s_connections_accepted_total", 2)
	atLeast("skald_c2s_sessions", 2)
	moved("skald_c2s_stanzas_received_total", 3)  // two binds and the message
	moved("skald_mam_messages_archived_total", 2) // alice's copy and bob's
	atLeast("skald_muc_rooms", 1)
	atLeast("skald_muc_occupants", 1)
	moved("skald_muc_messages_total", 1)
	moved("skald_sqlite_write_batches_total", 1)
	moved("skald_sqlite_write_operations_total", 1)
	atLeast("skald_go_goroutines", 1)
	atLeast("skald_go_heap_live_bytes", 1)
	if after["skald_go_heap_mapped_bytes"] < after["skald_go_heap_live_bytes"] {
		t.Errorf("heap mapped %v < heap live %v", after["skald_go_heap_mapped_bytes"], after["skald_go_heap_live_bytes"])
	}
}

// TestMetricsMemoryStore: on the memory store there are no SQLite metrics.
func TestMetricsMemoryStore(t *testing.T) {
	s := startServer(t, nil, func(c *config.Config) { c.MetricsAddress = "127.0.0.1:0" })
	_, _, body := scrape(t, "http://"+s.MetricsAddr()+"/metrics")
	m := parseText(t, body)
	if _, ok := m["skald_sqlite_write_batches_total"]; ok {
		t.Error("SQLite metrics served on the memory store")
	}
	if _, ok := m["skald_c2s_connections"]; !ok {
		t.Error("c2s metrics missing on the memory store")
	}
}

// TestShutdownWithoutStart: a server whose listeners are bound but that
// was never started lets go of them at Shutdown, the metrics and debug
// listeners included (http.Server.Close closes only what it serves).
func TestShutdownWithoutStart(t *testing.T) {
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.C2S.StartTLSAddress = "127.0.0.1:0"
	cfg.C2S.DirectTLSAddress = ""
	cfg.MetricsAddress = "127.0.0.1:0"
	cfg.DebugAddress = "127.0.0.1:0"
	srv, err := server.New(context.Background(), cfg, testLogger(), server.Options{Store: memory.New()})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Listen(); err != nil {
		t.Fatal(err)
	}
	addrs := []string{srv.MetricsAddr(), srv.DebugAddr()}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	for _, a := range addrs {
		l, err := net.Listen("tcp", a)
		if err != nil {
			t.Fatalf("%s still held after Shutdown: %v", a, err)
		}
		l.Close()
	}
}
