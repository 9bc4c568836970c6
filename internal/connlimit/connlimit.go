// Package connlimit counts connections per client address, for the
// transports that cap them: c2s (TCP and direct TLS) and the web
// listeners (websocket, through internal/httpfront). PerIP counts what
// each key has open, IPKey is the key a client address counts under.
//
// Layering: it imports nothing of Skald.
package connlimit

import (
	"net"
	"strings"
	"sync"
)

// PerIP counts what each client address (an IPKey) has open, up to max.
type PerIP struct {
	max  int
	mu   sync.Mutex
	open map[string]int
}

// NewPerIP returns a counter allowing max per address.
func NewPerIP(max int) *PerIP { return &PerIP{max: max, open: make(map[string]int)} }

// Acquire counts one more for key, unless key has max already.
func (p *PerIP) Acquire(key string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.open[key] >= p.max {
		return false
	}
	p.open[key]++
	return true
}

// Release gives back one place of key.
func (p *PerIP) Release(key string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.open[key]--; p.open[key] <= 0 {
		delete(p.open, key)
	}
}

// IPKey is the key per-address limits count a client address (host:port
// or host) under: the IP, or its /64 for IPv6, where one host commonly
// has a whole prefix. A link-local address's zone is left out (else
// every address of the /64 would count apart).
func IPKey(client string) string {
	host, _, err := net.SplitHostPort(client)
	if err != nil {
		host = client
	}
	if i := strings.IndexByte(host, '%'); i >= 0 {
		host = host[:i]
	}
	ip := net.ParseIP(host)
	if ip == nil {
		return host
	}
	if ip4 := ip.To4(); ip4 != nil {
		return ip4.String()
	}
	return ip.Mask(net.CIDRMask(64, 128)).String() + "/64"
}
