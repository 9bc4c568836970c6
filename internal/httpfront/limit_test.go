package httpfront

import (
	"io"
	"net"
	"net/http"
	"testing"
	"time"
)

// TestConnLimiter: beyond max open connections, one more is accepted and
// closed at once (its descriptor freed, the client told by EOF); closing
// one makes room.
func TestConnLimiter(t *testing.T) {
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	lim := NewConnLimiter(2)
	l := lim.Listener(inner)
	defer l.Close()
	accepted := make(chan net.Conn, 10)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			accepted <- c
		}
	}()
	dial := func() net.Conn {
		c, err := net.Dial("tcp", inner.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	dial()
	dial()
	first, second := <-accepted, <-accepted
	_ = second
	if lim.Open() != 2 {
		t.Fatalf("open %d, want 2", lim.Open())
	}
	third := dial()
	third.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := third.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("connection beyond the cap: read %v, want EOF (closed)", err)
	}
	if lim.Refused() != 1 {
		t.Fatalf("refused %d, want 1", lim.Refused())
	}
	first.Close()
	first.Close() // counted once
	dial()
	select {
	case <-accepted:
	case <-time.After(5 * time.Second):
		t.Fatal("no room after a connection closed")
	}
	if lim.Open() != 2 {
		t.Fatalf("open %d after close and accept, want 2", lim.Open())
	}
}

// TestClientKey: behind a TLS proxy the last X-Forwarded-For entry is
// the client; without one the request is not counted ("").
func TestClientKey(t *testing.T) {
	tests := []struct {
		proxy bool
		xff   []string
		addr  string
		key   string
	}{
		{false, nil, "192.0.2.1:5", "192.0.2.1"},
		{false, []string{"198.51.100.9"}, "192.0.2.1:5", "192.0.2.1"},
		{true, []string{"203.0.113.1, 198.51.100.9"}, "192.0.2.1:5", "198.51.100.9"},
		{true, []string{"203.0.113.1", "2001:db8::7"}, "192.0.2.1:5", "2001:db8::/64"},
		{true, []string{"bogus"}, "192.0.2.1:5", ""},
		{true, nil, "192.0.2.1:5", ""},
	}
	for _, tc := range tests {
		r := &http.Request{RemoteAddr: "192.0.2.1:5", Header: http.Header{}}
		for _, v := range tc.xff {
			r.Header.Add("X-Forwarded-For", v)
		}
		l := Listener{BehindTLSProxy: tc.proxy}
		if got := l.ClientKey(r); got != tc.key {
			t.Errorf("proxy %v xff %q: key %q, want %q", tc.proxy, tc.xff, got, tc.key)
		}
	}
}
