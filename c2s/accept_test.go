package c2s_test

import (
	"context"
	"net"
	"os"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/skald-xmpp/skald/c2s"
	"github.com/skald-xmpp/skald/internal/xmpptest"
	"github.com/skald-xmpp/skald/router"
)

// busyListener fails its first n accepts as a process out of file
// descriptors does, then accepts for real.
type busyListener struct {
	net.Listener
	n atomic.Int32
}

func (l *busyListener) Accept() (net.Conn, error) {
	if l.n.Add(-1) >= 0 {
		return nil, &net.OpError{Op: "accept", Net: "tcp", Err: os.NewSyscallError("accept4", syscall.EMFILE)}
	}
	return l.Listener.Accept()
}

// A burst of connections the descriptor limit cannot hold must not end
// the listener: once descriptors are free again, clients are served.
func TestAcceptSurvivesDescriptorExhaustion(t *testing.T) {
	r := router.New(router.Config{Domains: []string{"localhost"}, Users: &users{m: nil}})
	cfg := c2s.DefaultConfig()
	cfg.TLS = testTLS(t)
	srv := c2s.NewServer(cfg, r, &users{m: nil}, nil)
	tl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := &busyListener{Listener: tl}
	l.n.Store(3)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l, false) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	})
	c := xmpptest.Dial(t, tl.Addr().String())
	c.OpenStream("localhost")
	if c.Features == nil {
		t.Fatal("no stream features after the listener's EMFILE errors")
	}
	select {
	case err := <-served:
		t.Fatalf("Serve returned %v after EMFILE", err)
	default:
	}
}
