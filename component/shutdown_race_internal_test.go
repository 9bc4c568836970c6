package component

import (
	"io"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/skald-xmpp/skald/internal/routertest"
	"github.com/skald-xmpp/skald/stream"
)

// TestEndDuringStartWriter: a stream ended (Shutdown) while its reader
// hands the socket to the writer still gets its stream error and
// closing tag: whichever of the two goes first, the end is written
// directly or queued, never lost between them.
func TestEndDuringStartWriter(t *testing.T) {
	env := routertest.New(t, "alice@example.org")
	cfg := DefaultConfig()
	cfg.Address = "127.0.0.1:0"
	s := New(cfg, env.Router, slog.New(slog.NewTextHandler(io.Discard, nil)))
	final := stream.New(stream.SystemShutdown, "").Bytes()
	want := string(final) + stream.Close
	for i := 0; i < 50; i++ {
		ours, theirs := net.Pipe()
		got := make(chan string, 1)
		go func() { b, _ := io.ReadAll(theirs); got <- string(b) }()
		c := newConn(s, ours)
		c.opened = true // the header went out
		c.wmu.Lock()    // holds both back until both are waiting
		started := make(chan bool, 1)
		go func() { started <- c.startWriter() }()
		ended := make(chan struct{})
		go func() { c.end(final); close(ended) }()
		for {
			c.mu.Lock()
			ending := c.ending
			c.mu.Unlock()
			if ending {
				break
			}
			time.Sleep(time.Millisecond)
		}
		time.Sleep(time.Millisecond) // startWriter waits for wmu
		c.wmu.Unlock()
		<-ended
		if <-started {
			<-c.written
		}
		ours.Close()
		if g := <-got; g != want {
			t.Fatalf("round %d: the component read %q, want %q", i, g, want)
		}
	}
}

// TestEndAfterStartWriterRefused: a handshake completed while the
// server shuts down (no writer may start) still ends with the stream
// error and closing tag.
func TestEndAfterStartWriterRefused(t *testing.T) {
	env := routertest.New(t, "alice@example.org")
	cfg := DefaultConfig()
	cfg.Address = "127.0.0.1:0"
	s := New(cfg, env.Router, slog.New(slog.NewTextHandler(io.Discard, nil)))
	s.mu.Lock()
	s.closing = true
	s.mu.Unlock()
	ours, theirs := net.Pipe()
	got := make(chan string, 1)
	go func() { b, _ := io.ReadAll(theirs); got <- string(b) }()
	c := newConn(s, ours)
	c.opened = true
	if c.startWriter() {
		t.Fatal("a writer started while shutting down")
	}
	final := stream.New(stream.SystemShutdown, "").Bytes()
	c.end(final)
	ours.Close()
	if g, want := <-got, string(final)+stream.Close; g != want {
		t.Fatalf("the component read %q, want %q", g, want)
	}
}
