package c2s

import (
	"context"
	"net"
	"testing"
	"time"
)

// TestShutdownRightAfterServe stops servers whose Serve has only just
// started: every goroutine Serve starts (keepalives, connections) must be
// one Shutdown waits for. Under -race, an Add racing Shutdown's Wait at a
// zero count is reported; without it, a goroutine still running after
// Shutdown returned would be.
func TestShutdownRightAfterServe(t *testing.T) {
	for i := range 500 {
		srv := internalServer(t)
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		served := make(chan error, 1)
		go func() { served <- srv.Serve(l, false) }()
		if i%2 == 1 { // also with a connection being accepted
			if c, err := net.Dial("tcp", l.Addr().String()); err == nil {
				defer c.Close()
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if err := srv.Shutdown(ctx); err != nil {
			t.Fatalf("shutdown %d: %v", i, err)
		}
		cancel()
		if err := <-served; err != ErrServerClosed {
			t.Fatalf("Serve after Shutdown: %v, want ErrServerClosed", err)
		}
	}
}
