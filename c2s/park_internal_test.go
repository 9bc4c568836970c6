//go:build linux

package c2s

import (
	"container/heap"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// noSocket stands in for a parked connection's socket: the parker's epoll
// calls on it fail harmlessly (its set is not open either).
type noSocket struct{}

func (noSocket) Control(f func(fd uintptr)) error  { f(^uintptr(0)); return nil }
func (noSocket) Read(func(fd uintptr) bool) error  { return nil }
func (noSocket) Write(func(fd uintptr) bool) error { return nil }

// TestParkerExpire: expire hands back exactly the parked connections whose
// deadline has passed, earliest first, whatever the order they parked in
// and whichever left early (input, a close); those without a deadline
// never expire.
func TestParkerExpire(t *testing.T) {
	p := newParker(nil)
	p.epfd = -1
	now := time.Now()
	rng := rand.New(rand.NewPCG(1, 2))
	var due []*conn
	for i := range 2000 {
		c := &conn{sysConn: noSocket{}}
		tok := uint64(i + 1)
		c.parking.token, c.parking.index = tok, -1
		p.parked[tok] = c
		switch i % 4 {
		case 0: // no idle timeout
		case 1, 2: // due
			c.parking.deadline = now.Add(-time.Duration(rng.IntN(10000)) * time.Millisecond)
			heap.Push(&p.deadlines, c)
			due = append(due, c)
		case 3: // not yet
			c.parking.deadline = now.Add(time.Hour + time.Duration(rng.IntN(10000))*time.Millisecond)
			heap.Push(&p.deadlines, c)
		}
	}
	// Some leave before their deadline, as on input or a close.
	var left []*conn
	for i, c := range due {
		if i%7 == 0 {
			p.unpark(c)
			left = append(left, c)
		}
	}
	due = slices.DeleteFunc(due, func(c *conn) bool { return slices.Contains(left, c) })
	slices.SortFunc(due, func(a, b *conn) int { return a.parking.deadline.Compare(b.parking.deadline) })

	got := p.expire(nil)
	if len(got) != len(due) {
		t.Fatalf("expire handed back %d connections, want %d", len(got), len(due))
	}
	for i := range got {
		if got[i].parking.deadline != due[i].parking.deadline {
			t.Fatalf("connection %d handed back: deadline %v, want %v (earliest first)", i, got[i].parking.deadline, due[i].parking.deadline)
		}
		if got[i].parking.token != 0 || got[i].parking.index != -1 {
			t.Fatalf("connection %d handed back but still parked: %+v", i, got[i].parking)
		}
	}
	if again := p.expire(nil); len(again) != 0 {
		t.Fatalf("a second expire handed back %d connections", len(again))
	}
	if want := 2000 - len(due) - len(left); len(p.parked) != want {
		t.Fatalf("%d connections still parked, want %d", len(p.parked), want)
	}
	for i, c := range p.deadlines {
		if c.parking.index != i || !c.parking.deadline.After(now) {
			t.Fatalf("deadline heap entry %d: %+v", i, c.parking)
		}
	}
}
