package bosh

import (
	"fmt"
	"time"

	"github.com/skald-xmpp/skald/internal/httpfront"
)

// Config is the [bosh] section.
type Config struct {
	// httpfront.Listener: address, path, tls, behind_tls_proxy, origins
	// (CORS), url (announced in host-meta) and max_connections, as in
	// [websocket].
	httpfront.Listener
	// MaxWait bounds the 'wait' a client may ask for: how long a request
	// is held when there is nothing to send (XEP-0124 §7.2).
	MaxWait time.Duration `toml:"max_wait"`
	// MaxHold bounds the 'hold' a client may ask for: how many requests
	// are held at once; 'requests' is hold+1.
	MaxHold int `toml:"max_hold"`
	// MaxInactivity is the 'inactivity' announced: how long a session may
	// have no request pending before it ends (XEP-0124 §10).
	MaxInactivity time.Duration `toml:"max_inactivity"`
	// MaxSessions bounds the sessions open at once.
	MaxSessions int `toml:"max_sessions"`
	// MaxSessionsPerIP bounds the sessions open at once from one client
	// address (an IPv6 /64): a session outlives its HTTP connections, so
	// without it one host could fill MaxSessions with a burst of
	// creation requests. Behind a TLS proxy the address is the last
	// X-Forwarded-For entry; a request without one is not counted.
	MaxSessionsPerIP int `toml:"max_sessions_per_ip"`
}

// DefaultConfig returns the defaults: off, path /http-bind, TLS, any
// Origin (see doc.go for why), wait 60 s, hold 1, inactivity 60 s, 10000
// sessions, 100 from one address, 20000 HTTP connections (a session
// with hold 1 keeps up to two).
func DefaultConfig() Config {
	return Config{
		Listener:         httpfront.Listener{Path: "/http-bind", TLS: true, Origins: []string{"*"}, MaxConnections: 20000},
		MaxWait:          60 * time.Second,
		MaxHold:          1,
		MaxInactivity:    60 * time.Second,
		MaxSessions:      10000,
		MaxSessionsPerIP: 100,
	}
}

// Validate checks the section.
func (c Config) Validate() error {
	if err := c.Listener.Validate("http", "https"); err != nil {
		return err
	}
	// 'wait', 'inactivity' are whole seconds on the wire (unsignedShort).
	if c.MaxWait < time.Second || c.MaxWait > 3600*time.Second {
		return fmt.Errorf("max_wait %v: want 1s to 1h", c.MaxWait)
	}
	if c.MaxInactivity < 5*time.Second || c.MaxInactivity > 3600*time.Second {
		return fmt.Errorf("max_inactivity %v: want 5s to 1h", c.MaxInactivity)
	}
	if c.MaxHold < 1 || c.MaxHold > 10 {
		return fmt.Errorf("max_hold %d: want 1 to 10", c.MaxHold)
	}
	if c.MaxSessions < 1 {
		return fmt.Errorf("max_sessions %d: want at least 1", c.MaxSessions)
	}
	if c.MaxSessionsPerIP < 1 {
		return fmt.Errorf("max_sessions_per_ip %d: want at least 1", c.MaxSessionsPerIP)
	}
	return nil
}
