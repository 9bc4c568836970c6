package bosh

import (
	"strings"
	"testing"
	"time"
)

// newTestSession is a session with no c2s behind it: what the client
// sends piles up in s.in, and tests write c2s's output with output().
func newTestSession(hold int) *session {
	srv := &Server{sessions: make(map[string]*session)}
	s := &session{
		srv: srv, sid: "sid", wait: time.Minute, hold: hold, requests: hold + 1,
		inactivity: time.Minute, domain: "example.com", version: "1.0",
		lastRID: 10, pending: make(map[uint64]*exchange),
		inWake: make(chan struct{}), outWake: make(chan struct{}),
		lastResponse: time.Now(),
	}
	s.conn = &conn{s: s}
	srv.sessions[s.sid] = s
	return s
}

func rq(rid uint64, payload string) *request {
	r := &request{rid: rid, sid: "sid", wait: -1, hold: -1, payload: []byte(payload)}
	if payload != "" {
		r.children = 1
	}
	return r
}

func answered(x *exchange) bool {
	select {
	case <-x.done:
		return true
	default:
		return false
	}
}

func (s *session) write(units ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, u := range units {
		s.output([]byte(u))
	}
	s.flush()
}

// TestRIDWindow: XEP-0124 §14.2: payloads reach the stream in rid order
// whatever order the requests come in, and requests are answered in rid
// order; one beyond the window ends the session with item-not-found.
func TestRIDWindow(t *testing.T) {
	s := newTestSession(1) // requests 2: rids 11 and 12 are in the window
	x12 := s.receive(rq(12, "<b/>"))
	if answered(x12) || len(s.in) != 0 {
		t.Fatalf("12 before 11: answered %v, input %q", answered(x12), s.in)
	}
	x11 := s.receive(rq(11, "<a/>"))
	if got := string(s.in); got != "<a/><b/>" {
		t.Fatalf("input %q, want rid order", got)
	}
	// hold 1: 11 is answered (empty) once 12 is handled; 12 is held.
	if !answered(x11) || answered(x12) {
		t.Fatalf("answered: 11 %v, 12 %v", answered(x11), answered(x12))
	}
	if !strings.Contains(string(x11.resp), "ack='12'") {
		t.Fatalf("response to 11 does not acknowledge 12: %s", x11.resp)
	}
	s.write(`<message to="a@b"><body>x</body></message>`)
	if !answered(x12) || string(x12.resp) != `<body xmlns='`+NSHTTPBind+`'><message xmlns="jabber:client" to="a@b"><body>x</body></message></body>` {
		t.Fatalf("response to 12: %s", x12.resp)
	}
	// A repeated rid gets the cached response (§14.3).
	if again := s.receive(rq(12, "<b/>")); !answered(again) || string(again.resp) != string(x12.resp) {
		t.Fatalf("repeated 12: %s", again.resp)
	}
	if again := s.receive(rq(11, "<a/>")); string(again.resp) != string(x11.resp) {
		t.Fatalf("repeated 11: %s", again.resp)
	}
	// The client acknowledged 12: its cache is dropped, a repeat now is
	// item-not-found.
	x13 := s.receive(&request{rid: 13, ack: 12, wait: -1, hold: -1})
	if answered(x13) {
		t.Fatal("13 answered at once")
	}
	if x := s.receive(rq(12, "<b/>")); !strings.Contains(string(x.resp), "item-not-found") || !s.ended {
		t.Fatalf("repeat of an acknowledged rid: %s", x.resp)
	}
	if !answered(x13) || len(s.srv.sessions) != 0 {
		t.Fatal("the ended session still holds requests or is still in the table")
	}
}

func TestRIDBeyondWindow(t *testing.T) {
	for _, rid := range []uint64{13, 1000, 5} {
		s := newTestSession(1)
		s.lastRID = 10
		s.cache = map[uint64][]byte{}
		x := s.receive(rq(rid, ""))
		if !strings.Contains(string(x.resp), "condition='item-not-found'") || !s.ended || !s.inEOF {
			t.Errorf("rid %d: %s ended %v", rid, x.resp, s.ended)
		}
	}
}

// TestOveractivity: §11, more unanswered requests than 'requests'.
func TestOveractivity(t *testing.T) {
	s := newTestSession(1)
	x11 := s.receive(rq(11, ""))
	x13 := s.receive(rq(13, ""))
	x12 := s.receive(rq(12, ""))
	if !strings.Contains(string(x12.resp), "condition='policy-violation'") {
		t.Fatalf("third request: %s", x12.resp)
	}
	if !answered(x11) || !answered(x13) || !s.ended {
		t.Fatal("the others were not answered")
	}
}

// TestPollingTooOften: §12, a polling session (hold 0) sending two empty
// requests within 'polling' when the first got nothing.
func TestPollingTooOften(t *testing.T) {
	s := newTestSession(0)
	x11 := s.receive(rq(11, ""))
	if !answered(x11) || string(x11.resp) != `<body xmlns='`+NSHTTPBind+`'/>` {
		t.Fatalf("a polling session's request: %s", x11.resp)
	}
	x12 := s.receive(rq(12, ""))
	if !strings.Contains(string(x12.resp), "policy-violation") {
		t.Fatalf("polling again at once: %s", x12.resp)
	}
	// With something to send in between, polling again is fine.
	s = newTestSession(0)
	s.receive(rq(11, ""))
	s.lastPoll = time.Now().Add(-3 * time.Second)
	if x := s.receive(rq(12, "")); strings.Contains(string(x.resp), "terminate") {
		t.Fatalf("polling after the interval: %s", x.resp)
	}
}

// TestRepeatOfHeldRequest: the held copy gets a recoverable error and
// the repeat takes its place (§14.3).
func TestRepeatOfHeldRequest(t *testing.T) {
	s := newTestSession(1)
	first := s.receive(rq(11, ""))
	second := s.receive(rq(11, ""))
	if !answered(first) || string(first.resp) != `<body xmlns='`+NSHTTPBind+`' type='error'/>` {
		t.Fatalf("first copy: %s", first.resp)
	}
	if answered(second) || s.held[0] != second {
		t.Fatal("the repeat is not held")
	}
}

// TestOutput: c2s's stream as response payloads (XEP-0206 §2, §5, §6).
func TestOutput(t *testing.T) {
	s := newTestSession(1)
	x := s.receive(rq(11, ""))
	x.first = true
	s.write(`<?xml version='1.0'?>`, `<stream:stream xmlns="jabber:client" xmlns:stream="http://etherx.jabber.org/streams" from="example.com" id="abc" version="1.0">`)
	if answered(x) {
		t.Fatal("the stream header alone answered the request")
	}
	s.write(`<stream:features><mechanisms xmlns="urn:ietf:params:xml:ns:xmpp-sasl"><mechanism>PLAIN</mechanism></mechanisms></stream:features>`)
	got := string(x.resp)
	for _, want := range []string{
		`xmlns:stream='http://etherx.jabber.org/streams'`, `xmlns:xmpp='urn:xmpp:xbosh'`, `sid='sid'`, `wait='60'`, `requests='2'`, `hold='1'`,
		`inactivity='60'`, `polling='2'`, `ver='1.11'`, `from='example.com'`, `authid='abc'`, `ack='11'`, `xmpp:version='1.0'`, `xmpp:restartlogic='true'`,
		`><stream:features xmlns="jabber:client"><mechanisms`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("creation response lacks %s: %s", want, got)
		}
	}
	s.write(`<success xmlns="urn:ietf:params:xml:ns:xmpp-sasl"/>`)
	if !s.awaitRestart {
		t.Fatal("SASL success did not allow a restart")
	}
	s.write(`<message from="b@example.com"><body>1</body></message>`, `<stream:error><conflict xmlns="urn:ietf:params:xml:ns:xmpp-streams"/></stream:error>`, `</stream:stream>`)
	if !s.ended || string(s.final) != `<body xmlns='`+NSHTTPBind+`' xmlns:stream='http://etherx.jabber.org/streams' type='terminate' condition='remote-stream-error'><success xmlns="urn:ietf:params:xml:ns:xmpp-sasl"/><message xmlns="jabber:client" from="b@example.com"><body>1</body></message><stream:error><conflict xmlns="urn:ietf:params:xml:ns:xmpp-streams"/></stream:error></body>` {
		t.Fatalf("final body: %s", s.final)
	}
	// Nobody was waiting: the next request gets it, then the session is
	// gone.
	if x := s.receive(rq(13, "")); string(x.resp) != string(s.final) && !strings.Contains(string(x.resp), "remote-stream-error") {
		t.Fatalf("next request: %s", x.resp)
	}
	if len(s.srv.sessions) != 0 {
		t.Fatal("session still in the table")
	}
}

// TestConnWrite: whitespace keepalives are dropped, elements split
// across writes wait for their end, and a queue beyond its bound blocks
// the writer until its deadline.
func TestConnWrite(t *testing.T) {
	s := newTestSession(1)
	c := s.conn
	if n, err := c.Write([]byte(" ")); n != 1 || err != nil || len(s.out) != 0 {
		t.Fatalf("keepalive: %d %v %d", n, err, len(s.out))
	}
	c.Write([]byte(`<message><bo`))
	if len(s.out) != 0 {
		t.Fatal("a partial element was queued")
	}
	c.Write([]byte(`dy>x</body></message><iq/>`))
	if len(s.out) != 2 {
		t.Fatalf("queued %d elements, want 2", len(s.out))
	}
	c.SetWriteDeadline(time.Now().Add(100 * time.Millisecond))
	big := "<message><body>" + strings.Repeat("x", maxOutBytes) + "</body></message>"
	if _, err := c.Write([]byte(big)); err == nil {
		t.Fatal("a write beyond the queue's bound did not time out")
	}
}

// TestConnRead: Read returns the client's input, honours its deadline,
// and ends with EOF when the session ends uncleanly.
func TestConnRead(t *testing.T) {
	s := newTestSession(1)
	c := s.conn
	c.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	buf := make([]byte, 64)
	if _, err := c.Read(buf); err == nil {
		t.Fatal("read without input did not time out")
	}
	c.SetReadDeadline(time.Time{})
	s.receive(rq(11, "<presence/>"))
	if n, err := c.Read(buf); err != nil || string(buf[:n]) != "<presence/>" {
		t.Fatalf("read %q %v", buf[:n], err)
	}
	done := make(chan error, 1)
	go func() { _, err := c.Read(buf); done <- err }()
	time.Sleep(20 * time.Millisecond)
	s.mu.Lock()
	s.end(nil, true)
	s.mu.Unlock()
	if err := <-done; err == nil {
		t.Fatal("read after the session ended did not fail")
	}
}

// TestSweep: the sweeper answers a request held past 'wait' whose
// handler is gone, ends a session waiting too long for a missing rid, and
// ends an inactive session as a broken connection.
func TestSweep(t *testing.T) {
	s := newTestSession(1)
	s.wait = 2 * time.Second
	x := s.receive(rq(11, ""))
	s.sweep(time.Now())
	if answered(x) {
		t.Fatal("answered before 'wait'")
	}
	s.sweep(time.Now().Add(s.wait + 2*time.Second))
	if !answered(x) || string(x.resp) != `<body xmlns='`+NSHTTPBind+`'/>` || s.cache[11] == nil {
		t.Fatalf("held past wait: %s", x.resp)
	}
	if s.ended {
		t.Fatal("ended right after a response")
	}
	s.sweep(time.Now().Add(s.wait + s.inactivity + 3*time.Second))
	if !s.ended || !s.inEOF || len(s.srv.sessions) != 0 {
		t.Fatal("an inactive session was not ended")
	}

	s = newTestSession(1)
	y := s.receive(rq(12, ""))
	s.sweep(time.Now().Add(s.wait + s.inactivity + time.Second))
	if !strings.Contains(string(y.resp), "item-not-found") || !s.ended {
		t.Fatalf("waiting for rid 11 forever: %s", y.resp)
	}
}
