//go:build linux

package c2s

import (
	"container/heap"
	"encoding/binary"
	"errors"
	"math"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// parker holds a server's parked connections (see park.go): their sockets
// are in an epoll set of its own, level-triggered and one-shot, and one
// goroutine (run) waits on it and on the earliest idle deadline.
//
// Lock ordering: mu is a leaf. Under it the parker only changes its own
// fields and the connections' parkState and makes epoll system calls; it
// never calls into a connection, the server or a logger while holding it.
type parker struct {
	srv *Server

	mu        sync.Mutex
	epfd      int // the epoll set; valid while started && !stopped
	wakefd    int // an eventfd in the set (token 0) that interrupts run
	started   bool
	stopped   bool
	retryAt   time.Time        // after the set could not be made: when to try again
	loggedAt  time.Time        // the last failure logged (at most one a minute)
	next      uint64           // the last token handed out; tokens are never reused
	parked    map[uint64]*conn // by token
	deadlines deadlineHeap     // the parked connections that have an idle deadline
}

// retryStart is how long parking stays off after the epoll set could not be
// made (out of descriptors, say), and how often a failure is logged.
const retryStart = time.Minute

// wakeToken marks wakefd's events; connections' tokens start at 1.
const wakeToken = 0

// parkEvents are the events a parked socket waits for: input, the end of
// the client's input, an error or a hang-up (the last two always count).
const parkEvents = unix.EPOLLIN | unix.EPOLLRDHUP | unix.EPOLLONESHOT

func newParker(s *Server) *parker {
	return &parker{srv: s, parked: make(map[uint64]*conn)}
}

// park adds c's socket to the set, unless the parker is stopped, c is
// closing or the set cannot be had; it reports whether c is now parked.
// A failure of the set is logged (at most once a minute); the connection
// then waits on a goroutine.
func (p *parker) park(c *conn, deadline time.Time) bool {
	p.mu.Lock()
	parked, err := p.add(c, deadline)
	logIt := err != nil && time.Since(p.loggedAt) >= retryStart
	if logIt {
		p.loggedAt = time.Now()
	}
	p.mu.Unlock()
	if logIt {
		p.srv.log.Warn("c2s: cannot park an idle connection; it waits on a goroutine", "err", err)
	}
	// Not c.parking.token: once p.mu is released, c may be resumed already.
	return parked
}

// add parks c (p.mu held) and reports whether it did; the error is a
// failure of the set, not a connection that is closing or a parker that
// is stopped.
func (p *parker) add(c *conn, deadline time.Time) (bool, error) {
	if p.stopped || c.parking.closed {
		return false, nil
	}
	if !p.started {
		if time.Now().Before(p.retryAt) {
			return false, nil
		}
		if err := p.start(); err != nil {
			p.retryAt = time.Now().Add(retryStart)
			return false, err
		}
	}
	tok := p.next + 1
	var ctlErr error
	err := c.sysConn.Control(func(fd uintptr) {
		ctlErr = unix.EpollCtl(p.epfd, unix.EPOLL_CTL_ADD, int(fd), tokenEvent(parkEvents, tok))
	})
	if err != nil {
		return false, nil // the socket is closed: the read that follows says so
	}
	if ctlErr != nil {
		return false, ctlErr // e.g. ENOSPC: fs.epoll.max_user_watches reached
	}
	p.next = tok
	p.parked[tok] = c
	c.parking.token = tok
	c.parking.deadline = deadline
	c.parking.index = -1
	if !deadline.IsZero() {
		heap.Push(&p.deadlines, c)
		if c.parking.index == 0 {
			p.poke() // run may be waiting for a later deadline, or none
		}
	}
	// The parked connection holds a count of the wait group (see park.go);
	// the caller is counted, so the count is not zero here.
	p.srv.wg.Add(1)
	return true, nil
}

// start creates the epoll set and starts run (p.mu held, from a counted
// goroutine).
func (p *parker) start() error {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return err
	}
	wakefd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		unix.Close(epfd)
		return err
	}
	if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, wakefd, tokenEvent(unix.EPOLLIN, wakeToken)); err != nil {
		unix.Close(wakefd)
		unix.Close(epfd)
		return err
	}
	p.epfd, p.wakefd, p.started = epfd, wakefd, true
	p.srv.goroutine(p.run)
	return nil
}

// tokenEvent is an epoll event carrying tok as its user data.
func tokenEvent(events uint32, tok uint64) *unix.EpollEvent {
	return &unix.EpollEvent{Events: events, Fd: int32(uint32(tok)), Pad: int32(uint32(tok >> 32))}
}

func eventToken(ev *unix.EpollEvent) uint64 {
	return uint64(uint32(ev.Fd)) | uint64(uint32(ev.Pad))<<32
}

// poke interrupts run's wait (p.mu held, started).
func (p *parker) poke() {
	var one [8]byte // an eventfd adds the integer written, in native byte order
	binary.NativeEndian.PutUint64(one[:], 1)
	unix.Write(p.wakefd, one[:])
}

// unpark takes c out of the set (p.mu held, c parked). Its socket is still
// open: closing needs p.mu first (closing).
func (p *parker) unpark(c *conn) {
	tok := c.parking.token
	delete(p.parked, tok)
	c.parking.token = 0
	if c.parking.index >= 0 {
		heap.Remove(&p.deadlines, c.parking.index)
	}
	c.sysConn.Control(func(fd uintptr) {
		unix.EpollCtl(p.epfd, unix.EPOLL_CTL_DEL, int(fd), nil)
	})
}

// closing marks c as closing and, if it is parked, resumes it: its
// goroutine then meets the closed socket and ends the connection. Called
// by watchedConn.Close before the socket closes.
func (p *parker) closing(c *conn) {
	p.mu.Lock()
	c.parking.closed = true
	resume := c.parking.token != 0
	if resume {
		p.unpark(c)
	}
	p.mu.Unlock()
	if resume {
		p.handBack(c, false)
	}
}

// handBack starts the goroutine that takes c on (conn.resume); it inherits
// the count park took.
func (p *parker) handBack(c *conn, timedOut bool) {
	go func() {
		defer p.srv.wg.Done()
		c.resume(timedOut)
	}()
}

// stop ends parking: run resumes every parked connection and returns, and
// connections that go idle after this wait on goroutines. Called by
// Shutdown.
func (p *parker) stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped {
		return
	}
	p.stopped = true
	if p.started {
		p.poke()
	}
}

// run waits for parked sockets to become readable and for idle deadlines,
// and resumes their connections, until stop.
func (p *parker) run() {
	events := make([]unix.EpollEvent, 128)
	var ready []*conn
	for {
		p.mu.Lock()
		if p.stopped {
			p.finish()
			return
		}
		wait := -1 // milliseconds; -1: no deadline
		if len(p.deadlines) > 0 {
			// Rounded up, so that the deadline has passed when the wait
			// ends; at most what epoll_wait takes (24 days).
			until := time.Until(p.deadlines[0].parking.deadline)
			wait = int(min((until+time.Millisecond-1)/time.Millisecond, math.MaxInt32))
			wait = max(wait, 0)
		}
		epfd := p.epfd
		p.mu.Unlock()

		n, err := unix.EpollWait(epfd, events, wait)
		if err != nil && !errors.Is(err, unix.EINTR) {
			p.srv.log.Error("c2s parker: epoll_wait failed; idle connections go back to goroutines", "err", err)
			p.mu.Lock()
			p.stopped = true
			p.finish()
			return
		}

		p.mu.Lock()
		ready = ready[:0]
		for i := range n {
			tok := eventToken(&events[i])
			if tok == wakeToken {
				var buf [8]byte
				unix.Read(p.wakefd, buf[:]) // reset the counter
				continue
			}
			if c := p.parked[tok]; c != nil { // else it was resumed for a close since
				p.unpark(c)
				ready = append(ready, c)
			}
		}
		nInput := len(ready)
		ready = p.expire(ready)
		p.mu.Unlock()
		for i, c := range ready {
			p.handBack(c, i >= nInput)
		}
		clear(ready) // hold no connection that has ended meanwhile
	}
}

// expire unparks every connection whose idle deadline has passed and
// appends them to timedOut (p.mu held).
func (p *parker) expire(timedOut []*conn) []*conn {
	now := time.Now()
	for len(p.deadlines) > 0 && !now.Before(p.deadlines[0].parking.deadline) {
		c := heap.Pop(&p.deadlines).(*conn)
		p.unpark(c)
		timedOut = append(timedOut, c)
	}
	return timedOut
}

// deadlineHeap orders parked connections by idle deadline, earliest first;
// each one's parkState.index is its position (-1: not in the heap).
type deadlineHeap []*conn

func (h deadlineHeap) Len() int { return len(h) }
func (h deadlineHeap) Less(i, j int) bool {
	return h[i].parking.deadline.Before(h[j].parking.deadline)
}

func (h deadlineHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].parking.index = i
	h[j].parking.index = j
}

func (h *deadlineHeap) Push(x any) {
	c := x.(*conn)
	c.parking.index = len(*h)
	*h = append(*h, c)
}

func (h *deadlineHeap) Pop() any {
	old := *h
	c := old[len(old)-1]
	old[len(old)-1] = nil
	c.parking.index = -1
	*h = old[:len(old)-1]
	return c
}

// finish resumes every parked connection and closes the set (p.mu held;
// releases it). The resumed connections wait for input on their goroutines.
func (p *parker) finish() {
	ready := make([]*conn, 0, len(p.parked))
	for _, c := range p.parked {
		p.unpark(c)
		ready = append(ready, c)
	}
	unix.Close(p.wakefd)
	unix.Close(p.epfd)
	p.mu.Unlock()
	for _, c := range ready {
		p.handBack(c, false)
	}
}

// count returns how many connections are parked.
func (p *parker) count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.parked)
}
