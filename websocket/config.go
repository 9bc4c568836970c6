package websocket

import "github.com/skald-xmpp/skald/internal/httpfront"

// Config is the [websocket] section: the listener's common keys
// (httpfront.Listener: address, path, tls, behind_tls_proxy, origins,
// url), nothing more.
type Config struct {
	httpfront.Listener
}

// DefaultConfig returns the defaults: off, path /xmpp-websocket, TLS, any
// Origin (see doc.go for why).
func DefaultConfig() Config {
	return Config{httpfront.Listener{Path: "/xmpp-websocket", TLS: true, Origins: []string{"*"}}}
}

// Validate checks the section.
func (c Config) Validate() error { return c.Listener.Validate("ws", "wss") }
