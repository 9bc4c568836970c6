package c2s

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// queueHarness is an outQueue over one end of a pipe, with the flusher
// goroutines tracked so tests can check none is left behind.
type queueHarness struct {
	q      *outQueue
	peer   net.Conn
	wg     sync.WaitGroup
	errs   atomic.Int32
	lastMu sync.Mutex
	last   error
}

func newQueueHarness(t *testing.T, limit int) *queueHarness {
	a, b := net.Pipe()
	h := &queueHarness{peer: b}
	spawn := func(f func()) {
		h.wg.Add(1)
		go func() { defer h.wg.Done(); f() }()
	}
	h.q = newOutQueue(a, limit, time.Second, spawn, func(err error) {
		h.errs.Add(1)
		h.lastMu.Lock()
		h.last = err
		h.lastMu.Unlock()
	})
	t.Cleanup(func() {
		a.Close()
		b.Close()
		done := make(chan struct{})
		go func() { h.wg.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Error("flusher goroutine left running")
		}
	})
	return h
}

// pending is the number of bytes queued but not yet taken by the flusher.
func (h *queueHarness) pending() int {
	h.q.mu.Lock()
	defer h.q.mu.Unlock()
	return h.q.size
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// A peer that never reads cannot block producers: once more than the bound
// is waiting, the queue fails (once) and refuses everything after.
func TestQueueOverflowNeverBlocks(t *testing.T) {
	h := newQueueHarness(t, 100)
	done := make(chan error, 1)
	go func() {
		// Taken by the flusher, which then blocks on the unread pipe.
		if err := h.q.push(bytes.Repeat([]byte("a"), 60)); err != nil {
			done <- err
			return
		}
		done <- nil
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("push blocked on the network")
	}
	waitFor(t, "the flusher takes the first batch", func() bool { return h.pending() == 0 })
	if err := h.q.push(bytes.Repeat([]byte("b"), 60)); err != nil {
		t.Fatalf("second push (60 of 100 waiting): %v", err)
	}
	if err := h.q.push(bytes.Repeat([]byte("c"), 41)); !errors.Is(err, errQueueFull) {
		t.Fatalf("push over the bound: %v, want errQueueFull", err)
	}
	if err := h.q.push([]byte("d")); !errors.Is(err, errQueueClosed) {
		t.Fatalf("push after overflow: %v, want errQueueClosed", err)
	}
	h.q.pushAndClose([]byte("e")) // ignored
	if n := h.errs.Load(); n != 1 || !errors.Is(h.last, errQueueFull) {
		t.Fatalf("onError called %d times (last %v), want once with errQueueFull", n, h.last)
	}
}

// One element larger than the bound still goes out when nothing else is
// waiting (the bound is on backlog, not on a single stanza).
func TestQueueOversizeElementWhenEmpty(t *testing.T) {
	h := newQueueHarness(t, 10)
	go io.Copy(io.Discard, h.peer)
	if err := h.q.push(bytes.Repeat([]byte("x"), 50)); err != nil {
		t.Fatal(err)
	}
	if err := h.q.drain(); err != nil {
		t.Fatal(err)
	}
}

// Many producers, a flusher that starts and stops constantly: every byte
// arrives, in each producer's order, and no push is left stranded in the
// queue with no flusher to write it (a lost wakeup would hang here).
func TestQueueConcurrentProducersNoLostWakeup(t *testing.T) {
	const producers, each = 8, 500
	h := newQueueHarness(t, 1<<20)
	got := make(chan map[int][]int, 1)
	go func() {
		seen := map[int][]int{}
		sc := bufio.NewScanner(h.peer)
		for n := 0; n < producers*each && sc.Scan(); n++ {
			var p, i int
			fmt.Sscanf(sc.Text(), "%d:%d", &p, &i)
			seen[p] = append(seen[p], i)
		}
		got <- seen
	}()
	var wg sync.WaitGroup
	for p := range producers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				if err := h.q.push(fmt.Appendf(nil, "%d:%d\n", p, i)); err != nil {
					t.Errorf("push: %v", err)
					return
				}
				if i%50 == 0 {
					time.Sleep(time.Microsecond) // let the flusher go idle
				}
			}
		}()
	}
	wg.Wait()
	select {
	case seen := <-got:
		for p := range producers {
			if len(seen[p]) != each {
				t.Fatalf("producer %d: %d of %d lines arrived", p, len(seen[p]), each)
			}
			for i, v := range seen[p] {
				if v != i {
					t.Fatalf("producer %d: line %d is %d (reordered)", p, i, v)
				}
			}
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("not everything was written (lost wakeup?); %d bytes still queued", h.pending())
	}
	if err := h.q.drain(); err != nil {
		t.Fatal(err)
	}
	h.q.mu.Lock()
	defer h.q.mu.Unlock()
	if h.q.flushing || len(h.q.bufs) != 0 {
		t.Fatalf("after drain: flushing=%v, %d buffers queued", h.q.flushing, len(h.q.bufs))
	}
}

// pushAndClose writes everything queued before it, then its own bytes,
// then closes the connection; nothing is accepted afterwards.
func TestQueuePushAndClose(t *testing.T) {
	h := newQueueHarness(t, 1<<10)
	out := make(chan string, 1)
	go func() {
		b, _ := io.ReadAll(h.peer)
		out <- string(b)
	}()
	h.q.push([]byte("<a/>"))
	h.q.push([]byte("<b/>"))
	h.q.pushAndClose([]byte("</stream:stream>"))
	if err := h.q.push([]byte("<late/>")); !errors.Is(err, errQueueClosed) {
		t.Fatalf("push after pushAndClose: %v", err)
	}
	select {
	case got := <-out:
		if got != "<a/><b/></stream:stream>" {
			t.Fatalf("peer read %q", got)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("connection not closed after the final write")
	}
	if n := h.errs.Load(); n != 0 {
		t.Fatalf("onError called %d times on a clean close", n)
	}
}

// A failed write reports once, stops the flusher and closes the queue;
// drain reports the failure (the error is recorded before drain can see
// the flusher gone, hence the repetitions).
func TestQueueWriteError(t *testing.T) {
	for range 200 {
		h := newQueueHarness(t, 1<<10)
		h.peer.Close()
		h.q.push([]byte("<a/>"))
		if err := h.q.drain(); err == nil {
			t.Fatal("drain after a failed write returned nil")
		}
		if err := h.q.push([]byte("<b/>")); !errors.Is(err, errQueueClosed) {
			t.Fatalf("push after a write error: %v", err)
		}
		waitFor(t, "onError is called", func() bool { return h.errs.Load() > 0 })
		if n := h.errs.Load(); n != 1 {
			t.Fatalf("onError called %d times, want 1", n)
		}
	}
}

// drain returns once what was queued has been written (STARTTLS relies on
// <proceed/> being on the wire before the handshake starts).
func TestQueueDrain(t *testing.T) {
	h := newQueueHarness(t, 1<<10)
	var mu sync.Mutex
	var read strings.Builder
	go func() {
		buf := make([]byte, 64)
		for {
			n, err := h.peer.Read(buf)
			mu.Lock()
			read.Write(buf[:n])
			mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	for i := range 20 {
		h.q.push(fmt.Appendf(nil, "<x n='%d'/>", i))
	}
	if err := h.q.drain(); err != nil {
		t.Fatal(err)
	}
	// net.Pipe writes complete only when read, so all bytes are in.
	waitFor(t, "the reader stores the last bytes", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return strings.HasSuffix(read.String(), "<x n='19'/>")
	})
}
