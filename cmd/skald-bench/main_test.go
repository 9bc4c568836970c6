package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/skald-xmpp/skald/config"
	"github.com/skald-xmpp/skald/internal/server"
	"github.com/skald-xmpp/skald/internal/xmpptest"
)

// startSkald runs a Skald server on its default storage (SQLite in a
// temporary data directory) with accounts user1…userN, password pw-userI.
func startSkald(t *testing.T, users int) (host, port string) {
	t.Helper()
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.C2S.StartTLSAddress = "127.0.0.1:0"
	cfg.C2S.DirectTLSAddress = ""
	cfg.C2S.ReadBytesPerSecond = 0
	ctx := context.Background()
	srv, err := server.New(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), server.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= users; i++ {
		name := "user" + strconv.Itoa(i)
		if err := srv.Store.CreateUser(ctx, name+"@localhost", xmpptest.Credentials(t, "pw-"+name)); err != nil {
			t.Fatal(err)
		}
	}
	if err := srv.Listen(); err != nil {
		t.Fatal(err)
	}
	srv.Start(ctx)
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	})
	addr, _ := srv.Addrs()
	host, port, err = net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	return host, port
}

// TestSmokeRun is the CI smoke run of the skald-bench command against
// Skald: every scenario at a small size, through the command's own flag
// parsing, reporting and exit status.
func TestSmokeRun(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server")
	}
	host, port := startSkald(t, 12)
	small := []string{"-host", host, "-port", port, "-domain", "localhost", "-mech", "SCRAM-SHA-256",
		"-pairs", "2", "-messages", "50", "-window", "10",
		"-archive", "60", "-queries", "5", "-concurrency", "2", "-prefill-senders", "2", "-page-through", "40", "-page", "20",
		"-readers", "2", "-reader-archive", "30",
		"-conversations", "3", "-seen", "2", "-new", "5",
		"-conns", "10", "-idle-accounts", "5", "-hold", "100ms", "-pid", strconv.Itoa(os.Getpid()),
		"-q", "-timeout", "20s"}
	tests := []struct {
		name     string
		args     []string
		exit     int
		wantJSON []string // scenarios expected as JSON lines
		wantErr  string   // in stderr
	}{
		{"every scenario", append(small, "-json", "-scenario", "all"), 0, []string{"write", "query", "mixed", "catchup", "idle"}, ""},
		{"tables", append(small, "-scenario", "write"), 0, nil, ""},
		{"wrong password", append(small, "-json", "-scenario", "write", "-password", "nope"), 1, nil, "not-authorized"},
		{"unknown scenario", append(small, "-scenario", "nap"), 2, nil, "nap"},
		{"bad flag", []string{"-pairs", "many"}, 2, nil, "invalid value"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			if got := run(tc.args, &out, &errb); got != tc.exit {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", got, tc.exit, out.String(), errb.String())
			}
			if !strings.Contains(errb.String(), tc.wantErr) {
				t.Errorf("stderr %q, want it to mention %q", errb.String(), tc.wantErr)
			}
			if tc.name == "tables" && !strings.Contains(out.String(), "0 lost, 0 duplicates") {
				t.Errorf("table output without the loss line:\n%s", out.String())
			}
			var got []string
			for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
				if tc.wantJSON == nil {
					break
				}
				var r struct {
					Scenario string `json:"scenario"`
				}
				if err := json.Unmarshal([]byte(line), &r); err != nil {
					t.Fatalf("not a JSON line: %q: %v", line, err)
				}
				got = append(got, r.Scenario)
			}
			if strings.Join(got, ",") != strings.Join(tc.wantJSON, ",") {
				t.Errorf("JSON scenarios %v, want %v", got, tc.wantJSON)
			}
		})
	}
}
