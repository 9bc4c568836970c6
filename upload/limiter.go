package upload

import (
	"sync"
	"time"
)

// limiter allows each key n events per sliding window.
//
// Lock: mu guards hits and is a leaf.
type limiter struct {
	n      int // 0: no limit
	window time.Duration

	mu   sync.Mutex
	hits map[string][]time.Time // per key, oldest first, at most n, within window
}

func newLimiter(n int, window time.Duration) *limiter {
	return &limiter{n: n, window: window, hits: map[string][]time.Time{}}
}

// allow records an event for key at now if the window has room; otherwise
// it returns when there will be room.
func (l *limiter) allow(key string, now time.Time) (ok bool, retry time.Time) {
	if l.n == 0 {
		return true, time.Time{}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.hits) > 4096 {
		l.forgetIdle(now) // bounded memory: keys with nothing in the window go
	}
	h := l.hits[key]
	for len(h) > 0 && !h[0].After(now.Add(-l.window)) {
		h = h[1:]
	}
	if len(h) >= l.n {
		l.hits[key] = h
		return false, h[0].Add(l.window)
	}
	l.hits[key] = append(h, now)
	return true, time.Time{}
}

// forgetIdle drops keys whose events all left the window; under mu.
func (l *limiter) forgetIdle(now time.Time) {
	for k, h := range l.hits {
		if len(h) == 0 || !h[len(h)-1].After(now.Add(-l.window)) {
			delete(l.hits, k)
		}
	}
}
