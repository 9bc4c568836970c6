package server_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/skald-xmpp/skald/config"
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
