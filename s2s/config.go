package s2s

import (
	"errors"
	"fmt"
	"net"
	"time"
)

// Config is the [s2s] section.
type Config struct {
	// Address is the listener for incoming server-to-server streams
	// (RFC 6120 §3.2: port 5269). Federation is on when it is set; ""
	// (the default) turns it off: stanzas to other domains are answered
	// remote-server-not-found. The listener is needed both ways: a peer
	// verifying our dialback keys connects back to it.
	Address string `toml:"address"`
	// DialbackSecret is the XEP-0185 secret of dialback keys; "" derives
	// one from the data directory's secret.key. Servers of one cluster
	// serving the same domains must share it.
	DialbackSecret string `toml:"dialback_secret"`
	// RequireEncryption refuses streams without TLS, both ways (RFC 6120
	// §13.7.2 recommends it).
	RequireEncryption bool `toml:"require_encryption"`
	// RequireValidCertificates trusts a peer only with a certificate
	// valid for its domain, both ways (like Prosody's s2s_secure_auth):
	// dialback alone no longer authenticates. Safer against DNS
	// spoofing, but federation with servers using self-signed or
	// expired certificates stops.
	RequireValidCertificates bool `toml:"require_valid_certificates"`
	// Routes maps remote domains to host:port, before DNS: for tests and
	// private networks.
	Routes map[string]string `toml:"routes"`
	// MaxStanzaBytes caps one stanza from a remote server.
	MaxStanzaBytes int `toml:"max_stanza_bytes"`
	// QueueStanzas caps the stanzas waiting for one remote domain while
	// its stream is set up or slow; beyond it stanzas bounce.
	QueueStanzas int `toml:"queue_stanzas"`
	// ConnectionsPerIP caps incoming streams from one address.
	ConnectionsPerIP int `toml:"connections_per_ip"`
	// MaxIncomingStreams caps incoming streams from all addresses; a
	// connection over it is closed at once.
	MaxIncomingStreams int `toml:"max_incoming_streams"`
	// MaxOutgoingStreams caps outgoing streams (one per local and remote
	// domain pair, each with a goroutine and a queue); a stanza that
	// would need one more is refused with resource-constraint.
	MaxOutgoingStreams int `toml:"max_outgoing_streams"`
	// IdleTimeout closes an outgoing stream unused this long, and an
	// incoming stream silent this long.
	IdleTimeout time.Duration `toml:"idle_timeout"`
	// ConnectTimeout bounds connecting and negotiating an outgoing stream
	// (and a dialback verification); stanzas waiting then bounce with
	// remote-server-timeout.
	ConnectTimeout time.Duration `toml:"connect_timeout"`
	// RetryBackoffMax is the longest a remote domain is left alone after
	// failed attempts to reach it: stanzas for it are refused at once
	// meanwhile (the wait starts at 10s and doubles per failure, capped
	// by this). 0 turns the back-off off: every stanza may try again.
	RetryBackoffMax time.Duration `toml:"retry_backoff_max"`
}

// Enabled reports whether federation is on.
func (c Config) Enabled() bool { return c.Address != "" }

// DefaultConfig returns the defaults: federation off (no listener),
// encryption required.
func DefaultConfig() Config {
	return Config{
		RequireEncryption:  true,
		Routes:             map[string]string{},
		MaxStanzaBytes:     256 << 10,
		QueueStanzas:       1000,
		ConnectionsPerIP:   16,
		MaxIncomingStreams: 1000,
		MaxOutgoingStreams: 1000,
		IdleTimeout:        10 * time.Minute,
		ConnectTimeout:     30 * time.Second,
		RetryBackoffMax:    10 * time.Minute,
	}
}

// Validate checks the section.
func (c Config) Validate() error {
	if c.Address != "" {
		if _, _, err := net.SplitHostPort(c.Address); err != nil {
			return fmt.Errorf("address %q: %v", c.Address, err)
		}
	}
	for d, a := range c.Routes {
		if _, _, err := net.SplitHostPort(a); err != nil {
			return fmt.Errorf("routes: %q = %q: %v", d, a, err)
		}
	}
	if c.MaxStanzaBytes < 10000 {
		return errors.New("max_stanza_bytes: RFC 6120 §13.12 wants at least 10000")
	}
	if c.QueueStanzas < 1 || c.ConnectionsPerIP < 1 || c.MaxIncomingStreams < 1 || c.MaxOutgoingStreams < 1 {
		return errors.New("queue_stanzas, connections_per_ip, max_incoming_streams and max_outgoing_streams must be positive")
	}
	if c.IdleTimeout < time.Second || c.ConnectTimeout < time.Second {
		return errors.New("idle_timeout and connect_timeout must be at least 1s")
	}
	if c.RetryBackoffMax != 0 && c.RetryBackoffMax < time.Second {
		return errors.New("retry_backoff_max must be 0 (off) or at least 1s")
	}
	return nil
}
