package c2s

import (
	"net"
	"sync"
	"testing"
	"time"
)

// TestQueueCloseAfterSetConn: a queue told to close (Shutdown's
// closeWith) while a direct TLS handshake is still running closes the
// connection it has under its lock, so that the handshake's setConn
// afterwards is no data race (go test -race catches the unlocked read).
func TestQueueCloseAfterSetConn(t *testing.T) {
	raw, peer := net.Pipe()
	defer peer.Close()
	var wg sync.WaitGroup
	spawn := func(f func()) { wg.Add(1); go func() { defer wg.Done(); f() }() }
	q := newOutQueue(raw, 1<<10, time.Second, spawn, func(error) {})
	q.pushAndClose(nil) // nothing to write: the flusher closes at once
	// The handshake ends once the flusher has left its locked part, with
	// no other ordering between the two (as in Shutdown).
	for {
		q.mu.Lock()
		flushing := q.flushing
		q.mu.Unlock()
		if !flushing {
			break
		}
		time.Sleep(time.Millisecond)
	}
	tlsSide, other := net.Pipe()
	defer other.Close()
	q.setConn(tlsSide)
	wg.Wait()
	if _, err := peer.Read(make([]byte, 1)); err == nil {
		t.Fatal("the connection was not closed")
	}
}
