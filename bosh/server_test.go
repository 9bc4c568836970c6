package bosh

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/skald-xmpp/skald/internal/xml"
)

// stallingListener hands out connections whose writes never reach the
// client (a client that stops reading): a Write blocks until the
// connection's write deadline, or for stallFor when there is none.
type stallingListener struct {
	net.Listener
	stallFor time.Duration
	mu       sync.Mutex
	results  chan stallResult
}

type stallResult struct {
	deadline time.Time // the write deadline the blocked write had
	blocked  time.Duration
}

type stallingConn struct {
	net.Conn
	l        *stallingListener
	mu       sync.Mutex
	deadline time.Time
}

func (l *stallingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &stallingConn{Conn: c, l: l}, nil
}

func (c *stallingConn) SetWriteDeadline(t time.Time) error {
	c.mu.Lock()
	c.deadline = t
	c.mu.Unlock()
	return c.Conn.SetWriteDeadline(t)
}

func (c *stallingConn) SetDeadline(t time.Time) error {
	c.SetWriteDeadline(t)
	return c.Conn.SetDeadline(t)
}

func (c *stallingConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	deadline := c.deadline
	c.mu.Unlock()
	start := time.Now()
	wait := c.l.stallFor
	if !deadline.IsZero() {
		wait = min(wait, time.Until(deadline))
	}
	time.Sleep(max(wait, 0))
	c.l.results <- stallResult{deadline: deadline, blocked: time.Since(start)}
	return 0, os.ErrDeadlineExceeded
}

// TestResponseWriteDeadline: a client that never reads its response
// does not hold the request's handler (and its connection) for ever: the
// response is written within the server's writeTimeout.
func TestResponseWriteDeadline(t *testing.T) {
	cfg := DefaultConfig()
	cfg.TLS = false
	srv, err := New(cfg, nil, nil, xml.DefaultLimits, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv.writeTimeout = 500 * time.Millisecond
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sl := &stallingListener{Listener: l, stallFor: 3 * time.Second, results: make(chan stallResult, 4)}
	go srv.Serve(sl)
	defer srv.http.Close()

	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	body := fmt.Sprintf(`<body rid='5' sid='unknown' xmlns='%s'/>`, NSHTTPBind)
	fmt.Fprintf(c, "POST /http-bind HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
	go io.Copy(io.Discard, bufio.NewReader(c))
	select {
	case r := <-sl.results:
		if r.deadline.IsZero() || r.blocked > srv.writeTimeout+time.Second {
			t.Fatalf("response written with deadline %v, blocked %v: want a write deadline of at most %v", r.deadline, r.blocked, srv.writeTimeout)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no write")
	}
}
