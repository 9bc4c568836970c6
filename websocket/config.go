package websocket

import (
	"fmt"

	"github.com/skald-xmpp/skald/internal/httpfront"
)

// Config is the [websocket] section: the listener's common keys
// (httpfront.Listener: address, path, tls, behind_tls_proxy, origins,
// url, max_connections) and the per-address cap.
type Config struct {
	httpfront.Listener
	// MaxConnectionsPerIP bounds the WebSocket connections open at once
	// from one client address (an IPv6 /64), so that one host cannot take
	// all of max_connections. Behind a TLS proxy the address is the last
	// X-Forwarded-For entry; a request without one is not counted.
	MaxConnectionsPerIP int `toml:"max_connections_per_ip"`
}

// DefaultConfig returns the defaults: off, path /xmpp-websocket, TLS, any
// Origin (see doc.go for why), 10000 connections, 100 from one address.
func DefaultConfig() Config {
	return Config{
		Listener:            httpfront.Listener{Path: "/xmpp-websocket", TLS: true, Origins: []string{"*"}, MaxConnections: 10000},
		MaxConnectionsPerIP: 100,
	}
}

// Validate checks the section.
func (c Config) Validate() error {
	if err := c.Listener.Validate("ws", "wss"); err != nil {
		return err
	}
	if c.MaxConnectionsPerIP < 1 {
		return fmt.Errorf("max_connections_per_ip %d: want at least 1", c.MaxConnectionsPerIP)
	}
	return nil
}
