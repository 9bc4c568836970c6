package c2s

import (
	"bytes"
	"log/slog"
	"net"
	"strings"
	"testing"
)

// TestConnLog: a connection's log lines carry its id and remote address,
// then its user and JID once known, then the line's own attributes; and
// nothing is formatted for a level that is not logged.
func TestConnLog(t *testing.T) {
	var out bytes.Buffer
	srv := internalServer(t)
	srv.log = slog.New(slog.NewTextHandler(&out, &slog.HandlerOptions{Level: slog.LevelInfo}))
	a, b := net.Pipe()
	t.Cleanup(func() { a.Close(); b.Close() })
	c := newConn(srv, a, false)
	remote := a.RemoteAddr().String()
	tests := []struct {
		user, jid string
		want      string
	}{
		{"", "", `msg=hello conn=` + c.id + ` remote=` + remote + ` n=1`},
		{"alice@localhost", "", `msg=hello conn=` + c.id + ` remote=` + remote + ` user=alice@localhost n=1`},
		{"alice@localhost", "alice@localhost/r", `msg=hello conn=` + c.id + ` remote=` + remote + ` user=alice@localhost jid=alice@localhost/r n=1`},
	}
	for _, tt := range tests {
		out.Reset()
		log := newConnLogger(c, tt.user, tt.jid)
		log.Debug("hidden", "n", 0)
		log.Info("hello", "n", 1)
		line := strings.TrimSpace(out.String())
		if _, rest, _ := strings.Cut(line, "level=INFO "); rest != tt.want {
			t.Errorf("user %q jid %q: logged %q, want %q after the level", tt.user, tt.jid, line, tt.want)
		}
	}
	out.Reset()
	newConnLogger(c, "alice@localhost", "").With("k", "v").WithGroup("g").Info("grouped", "n", 2)
	want := `msg=grouped conn=` + c.id + ` remote=` + remote + ` user=alice@localhost k=v g.n=2`
	if _, got, _ := strings.Cut(strings.TrimSpace(out.String()), "level=INFO "); got != want {
		t.Errorf("With and WithGroup: logged %q, want %q after the level", got, want)
	}
	quiet := newConnLogger(c, "", "")
	if n := testing.AllocsPerRun(100, func() { quiet.Debug("hidden", "n", 3) }); n != 0 {
		t.Errorf("a line below the level costs %v allocations", n)
	}
}
