package keylock

import (
	"sync"
	"testing"
	"time"
)

// TestSameKeyExcludes: a second Lock of a held key waits for the unlock;
// a Lock of another key does not.
func TestSameKeyExcludes(t *testing.T) {
	tests := []struct {
		name      string
		first     string
		second    string
		mustBlock bool
	}{
		{"same key waits", "a@x", "a@x", true},
		{"other key runs", "a@x", "b@x", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var l Locks
			unlock := l.Lock(tc.first)
			got := make(chan func())
			go func() { got <- l.Lock(tc.second) }()
			select {
			case u := <-got:
				if tc.mustBlock {
					t.Fatal("Lock of a held key returned before its unlock")
				}
				u()
				unlock()
			case <-time.After(50 * time.Millisecond):
				if !tc.mustBlock {
					t.Fatal("Lock of another key waited for the held one")
				}
				unlock()
				(<-got)()
			}
			if n := l.held(); n != 0 {
				t.Errorf("%d keys still have a mutex after every unlock", n)
			}
		})
	}
}

// TestCounterIsSerialised: many goroutines doing read-modify-write on
// per-key counters under the key's lock lose no update (and -race sees
// no race), and no mutex outlives its users.
func TestCounterIsSerialised(t *testing.T) {
	var l Locks
	keys := []string{"a", "b", "c"}
	counts := map[string]*int{}
	for _, k := range keys {
		counts[k] = new(int)
	}
	const per = 200
	var wg sync.WaitGroup
	for _, k := range keys {
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range per {
					unlock := l.Lock(k)
					v := *counts[k]
					*counts[k] = v + 1
					unlock()
				}
			}()
		}
	}
	wg.Wait()
	for _, k := range keys {
		if *counts[k] != 4*per {
			t.Errorf("key %s: counter %d, want %d", k, *counts[k], 4*per)
		}
	}
	if n := l.held(); n != 0 {
		t.Errorf("%d keys still have a mutex after every unlock", n)
	}
}
