package c2s

import (
	"context"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/jid"
	"github.com/skald-xmpp/skald/router"
	"github.com/skald-xmpp/skald/stream"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func internalServer(t *testing.T) *Server {
	t.Helper()
	r := router.New(router.Config{Domains: []string{"localhost"}, Log: quiet})
	cfg := DefaultConfig()
	cfg.ResumeTimeout = time.Hour // tests fire expiry by hand
	return NewServer(cfg, r, nil, quiet)
}

// pipeConn returns a conn over a pipe and a reader of what it writes.
func pipeConn(t *testing.T, srv *Server) (*conn, *xml.Reader) {
	t.Helper()
	a, b := net.Pipe()
	t.Cleanup(func() { a.Close(); b.Close() })
	c := newConn(srv, a, false)
	b.SetReadDeadline(time.Now().Add(5 * time.Second))
	rd := xml.NewReader(io.MultiReader(strings.NewReader(`<s xmlns='jabber:client'>`), b), xml.DefaultLimits, 0)
	if _, _, err := rd.ReadStreamStart(); err != nil {
		t.Fatal(err)
	}
	return c, rd
}

// boundSession binds alice@localhost/r on c with stream management on.
func boundSession(t *testing.T, srv *Server, c *conn, resumable bool) *session {
	t.Helper()
	s := newSession(srv, jid.MustParse("alice@localhost/r"), c)
	srv.router.Bind(context.Background(), s.rs)
	s.attach(c)
	c.sess = s
	s.mu.Lock()
	s.smOn, s.resumable = true, resumable
	if resumable {
		s.smID = newID()
		srv.sm.add(s.smID, s)
	}
	s.mu.Unlock()
	return s
}

// h is a mod-2^32 counter (XEP-0198 §4): acks across the wrap work, and an
// ack beyond what was sent is refused.
func TestAckWrapsAround(t *testing.T) {
	s := &session{srv: internalServer(t)}
	// Three stanzas sent around the wrap: numbers 2^32-2, 2^32-1 and 0
	// (h after each: 2^32-1, 0, 1).
	s.sent = 1
	s.unacked = [][]byte{[]byte("a"), []byte("b"), []byte("c")}
	steps := []struct {
		h        uint32
		wantErr  bool
		wantLeft int
	}{
		{1<<32 - 2, false, 3}, // nothing new
		{1<<32 - 1, false, 2},
		{1<<32 - 1, false, 2}, // repeated ack
		{0, false, 1},
		{2, true, 1}, // one more than sent
		{1, false, 0},
		{1, false, 0},
		{0, true, 0}, // going backwards reads as 2^32-1 too many
	}
	for i, st := range steps {
		err := s.ack(st.h)
		if (err != nil) != st.wantErr {
			t.Fatalf("step %d: ack(%d) = %v", i, st.h, err)
		}
		if err != nil && err.Condition != stream.UndefinedCondition {
			t.Fatalf("step %d: condition %s", i, err.Condition)
		}
		if len(s.unacked) != st.wantLeft {
			t.Fatalf("step %d: ack(%d) left %d unacked, want %d", i, st.h, len(s.unacked), st.wantLeft)
		}
	}
}

func TestHandledWrapsAround(t *testing.T) {
	s := &session{srv: internalServer(t)}
	s.handled = 1<<32 - 1
	s.stanzaHandled()
	if s.handled != 0 || formatH(s.handled) != "0" {
		t.Fatalf("handled = %d after 2^32-1", s.handled)
	}
}

// The resume timer of a detachment must not end a session a client has
// resumed meanwhile, nor one detached again later (whose own timer runs).
func TestStaleResumeTimerIgnored(t *testing.T) {
	srv := internalServer(t)
	c1, _ := pipeConn(t, srv)
	s := boundSession(t, srv, c1, true)
	full := jid.MustParse("alice@localhost/r")

	s.connectionLost(c1) // detachment 1
	c2, _ := pipeConn(t, srv)
	s.mu.Lock()
	s.c = c2 // resumed, as smResume does, before detachment 1's timer runs
	s.mu.Unlock()
	s.expire(1)
	if s.ended || srv.router.Session(full) != s.rs {
		t.Fatal("a resumed session was ended by the old resume timer")
	}

	s.connectionLost(c2) // detachment 2
	s.expire(1)
	if s.ended {
		t.Fatal("detachment 1's timer ended detachment 2")
	}
	s.expire(2)
	if !s.ended || srv.router.Session(full) != nil {
		t.Fatal("the resume timeout did not end the detached session")
	}
	if srv.sm.get(s.smID) != nil {
		t.Fatal("an ended session is still resumable")
	}
}

// A session the router replaced (Close) is not resumable even before its
// connection has finished ending it.
func TestResumeRefusesReplacedSession(t *testing.T) {
	srv := internalServer(t)
	c1, _ := pipeConn(t, srv)
	s := boundSession(t, srv, c1, true)
	s.mu.Lock()
	s.noResume = true // what Close does while the connection still winds down
	s.mu.Unlock()

	c2, rd := pipeConn(t, srv)
	c2.user, c2.domain = "alice", "localhost"
	errc := make(chan error, 1)
	go func() { errc <- c2.smResume(xml.New(stream.NSSM, "resume", "previd", s.smID, "h", "0")) }()
	el, err := rd.Next()
	if err != nil {
		t.Fatal(err)
	}
	if !el.Is(stream.NSSM, "failed") || el.ChildNS("urn:ietf:params:xml:ns:xmpp-stanzas").Local != "item-not-found" {
		t.Fatalf("got %s, want <failed><item-not-found/></failed>", el)
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if c2.sess != nil || s.c != c1 {
		t.Fatal("the replaced session was taken over")
	}
}

// Shutdown ends a detached session but leaves one a connection holds (that
// connection ends it when it closes).
func TestEndIfDetached(t *testing.T) {
	srv := internalServer(t)
	c1, _ := pipeConn(t, srv)
	s := boundSession(t, srv, c1, true)
	s.endIfDetached()
	if s.ended {
		t.Fatal("ended an attached session")
	}
	s.connectionLost(c1)
	s.endIfDetached()
	if !s.ended {
		t.Fatal("did not end a detached session")
	}
}

// writeFailed runs on whichever goroutine overflowed the queue (a router
// send from another connection) while the reader may be updating the
// connection's logger (bind, resume): it must not touch reader-owned state.
func TestWriteFailedOnAnotherGoroutine(t *testing.T) {
	srv := internalServer(t)
	c, _ := pipeConn(t, srv)
	done := make(chan struct{})
	go func() {
		c.writeFailed(errQueueFull)
		close(done)
	}()
	c.log = newConnLogger(c, "alice@localhost", "alice@localhost/r") // what the reader does on bind
	<-done
}

// A session closed between its Bind and its attach (adhoc's disable-user
// or end-user-session, or a replacing bind, in the moment its bind result
// is being queued) is not ended as if detached, which would leave its
// connection running a session the router no longer has: attach hands
// the close's stream error to the connection, which ends with it, and
// the session ends with the connection.
func TestCloseBeforeAttach(t *testing.T) {
	srv := internalServer(t)
	c, _ := pipeConn(t, srv)
	s := newSession(srv, jid.MustParse("alice@localhost/r"), c)
	srv.router.Bind(context.Background(), s.rs)
	c.sess = s
	s.CloseWithText("policy-violation", "the account is disabled")
	s.CloseWithText("conflict", "") // the first close's error stands
	se := s.attach(c)
	if se == nil || se.Condition != stream.PolicyViolation || se.Text != "the account is disabled" {
		t.Fatalf("attach after a close: %v, want policy-violation with the text", se)
	}
	s.mu.Lock()
	ended, noResume := s.ended, s.noResume
	s.mu.Unlock()
	if ended || !noResume {
		t.Fatalf("ended %v, noResume %v: want the session left to its connection, never resumable", ended, noResume)
	}
	s.connectionLost(c)
	if got := srv.router.Sessions("alice@localhost"); len(got) != 0 {
		t.Fatalf("sessions after the connection went: %v", got)
	}
}
