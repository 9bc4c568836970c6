package netaccept

import (
	"errors"
	"net"
	"os"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// scripted is a listener whose Accept returns the scripted errors first,
// then a connection.
type scripted struct {
	errs  []error
	calls int
}

func (l *scripted) Accept() (net.Conn, error) {
	l.calls++
	if len(l.errs) > 0 {
		err := l.errs[0]
		l.errs = l.errs[1:]
		return nil, err
	}
	a, _ := net.Pipe()
	return a, nil
}
func (l *scripted) Close() error   { return nil }
func (l *scripted) Addr() net.Addr { return &net.TCPAddr{} }

// opErr is how the net package reports a failed accept.
func opErr(err error) error {
	return &net.OpError{Op: "accept", Net: "tcp", Err: os.NewSyscallError("accept4", err)}
}

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

func TestAccept(t *testing.T) {
	permanent := errors.New("use of closed network connection")
	tests := []struct {
		name    string
		errs    []error
		closing bool
		want    error // nil: a connection
		calls   int
	}{
		{"a connection", nil, false, nil, 1},
		// A burst that exhausts the process's descriptors must not end
		// the listener: net/http waits these out too.
		{"out of descriptors, then a connection", []error{opErr(syscall.EMFILE), opErr(syscall.ENFILE), opErr(syscall.EMFILE)}, false, nil, 4},
		{"aborted before accepted", []error{opErr(syscall.ECONNABORTED)}, false, nil, 2},
		{"timeout", []error{timeoutErr{}}, false, nil, 2},
		{"any other error ends the loop", []error{permanent}, false, permanent, 1},
		{"closing wins over a retryable error", []error{opErr(syscall.EMFILE)}, true, ErrClosed, 1},
		{"closing wins over any error", []error{permanent}, true, ErrClosed, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := &scripted{errs: tc.errs}
			var closing atomic.Bool
			closing.Store(tc.closing)
			nc, err := Accept(l, closing.Load)
			if tc.want == nil {
				if err != nil || nc == nil {
					t.Fatalf("Accept = %v, %v; want a connection", nc, err)
				}
				nc.Close()
			} else if !errors.Is(err, tc.want) || nc != nil {
				t.Fatalf("Accept = %v, %v; want %v", nc, err, tc.want)
			}
			if l.calls != tc.calls {
				t.Errorf("%d calls of Accept, want %d", l.calls, tc.calls)
			}
		})
	}
}

// A server shutting down while Accept waits out a busy system is not kept
// waiting for the back-off's full second.
func TestAcceptStopsWhenClosing(t *testing.T) {
	errs := make([]error, 100)
	for i := range errs {
		errs[i] = opErr(syscall.EMFILE)
	}
	l := &scripted{errs: errs}
	var closing atomic.Bool
	time.AfterFunc(50*time.Millisecond, func() { closing.Store(true) })
	start := time.Now()
	if _, err := Accept(l, closing.Load); !errors.Is(err, ErrClosed) {
		t.Fatalf("Accept = %v, want ErrClosed", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Accept took %v to notice the close", d)
	}
}

// Serve hands over every connection until handle refuses one, then
// reports the server closing; a listener's lasting failure ends it too.
func TestServe(t *testing.T) {
	l := &scripted{errs: []error{opErr(syscall.EMFILE)}}
	n := 0
	err := Serve(l, func() bool { return false }, func(nc net.Conn) bool {
		nc.Close()
		n++
		return n < 3
	})
	if !errors.Is(err, ErrClosed) || n != 3 {
		t.Fatalf("Serve = %v after %d connections, want ErrClosed after 3", err, n)
	}
	permanent := errors.New("listener gone")
	l = &scripted{errs: []error{permanent}}
	if err := Serve(l, func() bool { return false }, func(net.Conn) bool { t.Error("handled"); return true }); !errors.Is(err, permanent) {
		t.Fatalf("Serve = %v, want %v", err, permanent)
	}
}
