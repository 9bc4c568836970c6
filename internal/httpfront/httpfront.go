// Package httpfront holds what the transports that serve XMPP to web
// clients over HTTP (websocket, bosh) configure alike: where they listen,
// at which path, with TLS or behind a TLS proxy, for which browser Origins,
// the URL they announce in host-meta, and how many connections they take
// at once. Each section embeds Listener, so its keys (address, path, tls,
// behind_tls_proxy, origins, url, max_connections) read and validate the
// same way in [websocket] and [bosh]. limit.go holds the limits both
// enforce: the connection cap (ConnLimiter) and the client address
// requests count under (ClientKey; the counting itself is
// internal/connlimit's, which c2s shares).
//
// Layering: it imports internal/connlimit only.
package httpfront

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"path"
	"strings"
)

// Listener is the part of a web transport's section common to all of them.
type Listener struct {
	// Address is where the HTTP listener listens; "" (the default) serves
	// nothing.
	Address string `toml:"address"`
	// Path is the endpoint's path.
	Path string `toml:"path"`
	// TLS serves https with the server's certificate. Without it the
	// listener speaks plain HTTP, which is allowed only on a loopback
	// address or with BehindTLSProxy.
	TLS bool `toml:"tls"`
	// BehindTLSProxy declares that the clients reach the listener through
	// a proxy that terminates TLS: plain HTTP is then allowed on any
	// address, connections count as encrypted (PLAIN is offered), and the
	// client's address is the last X-Forwarded-For entry.
	BehindTLSProxy bool `toml:"behind_tls_proxy"`
	// Origins lists the browser Origins allowed to use the endpoint: host
	// patterns ("chat.example.com", "*.example.com") or scheme://host
	// patterns matched with path.Match; ["*"] allows every origin.
	// Requests without an Origin (non-browser clients) and same-origin
	// requests are always allowed.
	Origins []string `toml:"origins"`
	// URL is the endpoint announced in host-meta; "" derives it from the
	// request (the secure scheme with TLS or behind a TLS proxy, the Host
	// header and Path).
	URL string `toml:"url"`
	// MaxConnections caps the HTTP connections open at once (a WebSocket
	// is one); more are closed as soon as accepted (ConnLimiter).
	MaxConnections int `toml:"max_connections"`
}

// Enabled reports whether the listener is configured.
func (l Listener) Enabled() bool { return l.Address != "" }

// AnyOrigin reports whether every Origin is allowed.
func (l Listener) AnyOrigin() bool { return len(l.Origins) == 1 && l.Origins[0] == "*" }

// Validate checks the common keys. plain and secure are the URL schemes of
// the transport without and with TLS ("ws", "wss"; "http", "https").
func (l Listener) Validate(plain, secure string) error {
	if !strings.HasPrefix(l.Path, "/") || strings.HasPrefix(l.Path, "/.well-known/") || l.Path != path.Clean(l.Path) {
		return fmt.Errorf("path %q: want an absolute, clean path outside /.well-known/", l.Path)
	}
	for _, o := range l.Origins {
		if o == "*" && len(l.Origins) > 1 {
			return errors.New(`origins: "*" allows every origin and stands alone`)
		}
		if _, err := path.Match(o, ""); o == "" || err != nil {
			return fmt.Errorf("origins: bad pattern %q", o)
		}
	}
	if l.MaxConnections < 1 {
		return fmt.Errorf("max_connections %d: want at least 1", l.MaxConnections)
	}
	if l.URL != "" {
		u, err := url.Parse(l.URL)
		if err != nil || (u.Scheme != plain && u.Scheme != secure) || u.Host == "" {
			return fmt.Errorf("url %q: want %s://host/path or %s://host/path", l.URL, plain, secure)
		}
	}
	if l.Address == "" {
		return nil
	}
	host, _, err := net.SplitHostPort(l.Address)
	if err != nil {
		return fmt.Errorf("address %q: %v", l.Address, err)
	}
	if !l.TLS && !l.BehindTLSProxy && !isLoopback(host) {
		return fmt.Errorf("address %q: plain %s:// is allowed only on a loopback address or with behind_tls_proxy = true; set tls = true", l.Address, plain)
	}
	return nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
