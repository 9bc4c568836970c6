package keylock

import "sync"

// Locks is a set of mutexes named by key. The zero value is ready to use;
// a Locks must not be copied after first use.
//
// Lock ordering: Locks.mu is only ever held for map bookkeeping, never
// while waiting on a key's mutex, so holding one key never blocks work on
// another key.
type Locks struct {
	mu sync.Mutex
	m  map[string]*keyLock
}

type keyLock struct {
	sync.Mutex
	// refs counts the holder and the waiters of this key; the entry
	// leaves the map when it drops to zero. Guarded by Locks.mu.
	refs int
}

// Lock locks key, waiting for its current holder, and returns the
// function that unlocks it. The unlock function must be called once.
func (l *Locks) Lock(key string) (unlock func()) {
	l.mu.Lock()
	if l.m == nil {
		l.m = make(map[string]*keyLock)
	}
	kl := l.m[key]
	if kl == nil {
		kl = &keyLock{}
		l.m[key] = kl
	}
	kl.refs++
	l.mu.Unlock()
	kl.Lock()
	return func() {
		kl.Unlock()
		l.mu.Lock()
		if kl.refs--; kl.refs == 0 {
			delete(l.m, key)
		}
		l.mu.Unlock()
	}
}

// held reports how many keys have a mutex right now (for tests).
func (l *Locks) held() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.m)
}
