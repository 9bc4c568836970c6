package component

import (
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/skald-xmpp/skald/jid"
)

// Config is the [component] section.
type Config struct {
	// Address is the listener for XEP-0114 component streams
	// (jabber:component:accept; 5347 by custom). "" (the default) turns
	// components off. The protocol has no TLS: bind it to loopback (or a
	// private network) unless the link is protected otherwise.
	Address string `toml:"address"`
	// MaxStanzaBytes caps one stanza from a component; a bigger one ends
	// the stream with policy-violation (RFC 6120 §13.12: at least 10000).
	MaxStanzaBytes int `toml:"max_stanza_bytes"`
	// SendQueueBytes bounds the data waiting for one component; a
	// component that does not read is cut off rather than buffered
	// without end (as a slow client is).
	SendQueueBytes int `toml:"send_queue_bytes"`
	// HandshakeTimeout bounds the time from connection to a valid
	// <handshake/>.
	HandshakeTimeout time.Duration `toml:"handshake_timeout"`
	// MaxPendingConnections caps the connections that have not
	// authenticated yet (each holds a goroutine and a read buffer until
	// handshake_timeout); one over it is closed at once. Authenticated
	// streams, one per domain, do not count.
	MaxPendingConnections int `toml:"max_pending_connections"`
	// Domains are the components this server accepts: each its domain
	// (the name clients address it by, the stream header's 'to') and
	// the shared secret of its handshake.
	Domains []Domain `toml:"domains"`
}

// Domain is one configured component.
type Domain struct {
	Domain string `toml:"domain"`
	Secret string `toml:"secret"`
}

// Enabled reports whether the listener is on.
func (c Config) Enabled() bool { return c.Address != "" }

// DefaultConfig returns the defaults: no listener, no components.
func DefaultConfig() Config {
	return Config{
		MaxStanzaBytes:   256 << 10,
		SendQueueBytes:   4 << 20,
		HandshakeTimeout: 30 * time.Second,
		// A few components reconnecting at once; the listener is meant
		// to be reachable by them alone.
		MaxPendingConnections: 16,
	}
}

// DomainNames returns the configured component domains, in their
// canonical form (RFC 7622 §3.2).
func (c Config) DomainNames() []string {
	out := make([]string, 0, len(c.Domains))
	for _, d := range c.Domains {
		if j, err := jid.Parse(d.Domain); err == nil {
			out = append(out, j.String())
		}
	}
	return out
}

// Validate checks the section on its own; internal/server checks the
// domains against the hosted and service domains.
func (c Config) Validate() error {
	if c.Address != "" {
		if _, _, err := net.SplitHostPort(c.Address); err != nil {
			return fmt.Errorf("address %q: %v", c.Address, err)
		}
	}
	if len(c.Domains) > 0 && c.Address == "" {
		return errors.New("domains are configured but address is empty: set address (e.g. \"127.0.0.1:5347\") to accept components")
	}
	if c.MaxStanzaBytes < 10000 {
		return errors.New("max_stanza_bytes: RFC 6120 §13.12 wants at least 10000")
	}
	if c.SendQueueBytes < c.MaxStanzaBytes {
		return errors.New("send_queue_bytes must be at least max_stanza_bytes")
	}
	if c.HandshakeTimeout < time.Second {
		return errors.New("handshake_timeout must be at least 1s")
	}
	if c.MaxPendingConnections < 1 {
		return errors.New("max_pending_connections must be positive")
	}
	seen := map[string]bool{}
	for _, d := range c.Domains {
		j, err := jid.Parse(d.Domain)
		if err != nil || j.Local() != "" || j.Resource() != "" || j.String() == "" {
			return fmt.Errorf("domains: %q is not a domain", d.Domain)
		}
		if seen[j.String()] {
			return fmt.Errorf("domains: %s is configured twice", j.String())
		}
		seen[j.String()] = true
		if d.Secret == "" {
			return fmt.Errorf("domains: %s has no secret", j.String())
		}
	}
	return nil
}
