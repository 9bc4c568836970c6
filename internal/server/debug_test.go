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

func TestDebugListener(t *testing.T) {
	t.Run("off by default", func(t *testing.T) {
		s := startServer(t, nil, nil)
		if a := s.DebugAddr(); a != "" {
			t.Fatalf("debug listener at %s without debug_address", a)
		}
	})
	s := startServer(t, nil, func(c *config.Config) { c.DebugAddress = "127.0.0.1:0" })
	base := "http://" + s.DebugAddr()
	tests := []struct{ path, want string }{
		{"/debug/pprof/", "goroutine"},
		{"/debug/pprof/goroutine?debug=1", "goroutine profile: total"},
		{"/debug/pprof/heap?debug=1", "heap profile"},
		{"/debug/pprof/cmdline", ""},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			req, _ := http.NewRequestWithContext(ctx, "GET", base+tc.path, nil)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), tc.want) {
				t.Fatalf("GET %s: %s, body %.200q; want 200 containing %q", tc.path, resp.Status, body, tc.want)
			}
		})
	}
	// Only the profiles: nothing else is served there.
	resp, err := http.Get(base + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("GET /: %s, want 404", resp.Status)
	}
}
