package bosh

import (
	"sync"
	"testing"
)

// TestLockedUnlocksOnPanic: net/http recovers a handler's panic and goes
// on serving, so a lock held across the panic would stall every later
// request of the session (or, for the server's lock, of the endpoint).
func TestLockedUnlocksOnPanic(t *testing.T) {
	var mu sync.Mutex
	func() {
		defer func() { recover() }()
		locked(&mu, func() { panic("handler bug") })
	}()
	if !mu.TryLock() {
		t.Fatal("lock still held after a panic under it")
	}
}
