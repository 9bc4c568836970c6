//go:build linux

package c2s

import (
	"errors"
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

	mu       sync.Mutex
	epfd     int // the epoll set; valid while started && !stopped
	wakefd   int // an eventfd in the set (token 0) that interrupts run
	started  bool
	stopped  bool
	next     uint64           // the last token handed out; tokens are never reused
	parked   map[uint64]*conn // by token
	earliest time.Time        // no parked connection's deadline is before this; zero: none
}

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
func (p *parker) park(c *conn, deadline time.Time) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped || c.parking.closed {
		return false
	}
	if !p.started {
		if err := p.start(); err != nil {
			p.stopped = true // no parking on this server; connections wait on goroutines
			return false
		}
	}
	tok := p.next + 1
	var ctlErr error
	err := c.sysConn.Control(func(fd uintptr) {
		ctlErr = unix.EpollCtl(p.epfd, unix.EPOLL_CTL_ADD, int(fd), tokenEvent(parkEvents, tok))
	})
	if err != nil || ctlErr != nil {
		return false
	}
	p.next = tok
	p.parked[tok] = c
	c.parking.token = tok
	c.parking.deadline = deadline
	// The parked connection holds a count of the wait group (see park.go);
	// the caller is counted, so the count is not zero here.
	p.srv.wg.Add(1)
	if !deadline.IsZero() && (p.earliest.IsZero() || deadline.Before(p.earliest)) {
		p.earliest = deadline
		p.poke() // run may be waiting for a later deadline, or none
	}
	return true
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
	var one = [8]byte{1} // an eventfd adds the 8-byte integer written; little-endian
	unix.Write(p.wakefd, one[:])
}

// unpark takes c out of the set (p.mu held, c parked). Its socket is still
// open: closing needs p.mu first (closing).
func (p *parker) unpark(c *conn) {
	tok := c.parking.token
	delete(p.parked, tok)
	c.parking.token = 0
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
		p.resume(c, false)
	}
}

// resume starts the goroutine that takes c on; it inherits the count park
// took.
func (p *parker) resume(c *conn, timedOut bool) {
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
		if !p.earliest.IsZero() {
			// Rounded up, so that the deadline has passed when the wait ends.
			wait = int((time.Until(p.earliest) + time.Millisecond - 1) / time.Millisecond)
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
		if !p.earliest.IsZero() && !time.Now().Before(p.earliest) {
			ready = p.expire(ready)
		}
		p.mu.Unlock()
		for i, c := range ready {
			p.resume(c, i >= nInput)
		}
	}
}

// expire unparks every connection whose idle deadline has passed, appends
// them to timedOut, and sets earliest to the next deadline (p.mu held).
func (p *parker) expire(timedOut []*conn) []*conn {
	now := time.Now()
	p.earliest = time.Time{}
	for _, c := range p.parked {
		d := c.parking.deadline
		if d.IsZero() {
			continue
		}
		if !now.Before(d) {
			p.unpark(c)
			timedOut = append(timedOut, c)
			continue
		}
		if p.earliest.IsZero() || d.Before(p.earliest) {
			p.earliest = d
		}
	}
	return timedOut
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
		p.resume(c, false)
	}
}

// count returns how many connections are parked.
func (p *parker) count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.parked)
}
