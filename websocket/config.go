package websocket

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"path"
	"strings"
)

// Config is the [websocket] section.
type Config struct {
	// Address is where the HTTP listener for WebSocket and the XEP-0156
	// host-meta documents listens; "" (the default) serves nothing.
	Address string `toml:"address"`
	// Path is the WebSocket endpoint's path.
	Path string `toml:"path"`
	// TLS serves https/wss with the server's certificate. Without it the
	// listener speaks plain HTTP, which is allowed only on a loopback
	// address or with BehindTLSProxy.
	TLS bool `toml:"tls"`
	// BehindTLSProxy declares that the clients reach the listener through
	// a proxy that terminates TLS: plain ws:// is then allowed on any
	// address, connections count as encrypted (PLAIN is offered), and
	// the client's address is the last X-Forwarded-For entry.
	BehindTLSProxy bool `toml:"behind_tls_proxy"`
	// Origins lists the browser Origins allowed to connect: host patterns
	// ("chat.example.com", "*.example.com") or scheme://host patterns
	// matched with path.Match; ["*"] allows every origin. Requests without
	// an Origin (non-browser clients) and same-origin requests are always
	// allowed.
	Origins []string `toml:"origins"`
	// URL is the endpoint announced in host-meta; "" derives it from the
	// request (wss:// with TLS or behind a TLS proxy, the Host header and
	// Path).
	URL string `toml:"url"`
}

// DefaultConfig returns the defaults: off, path /xmpp-websocket, TLS, any
// Origin (see doc.go for why).
func DefaultConfig() Config {
	return Config{Path: "/xmpp-websocket", TLS: true, Origins: []string{"*"}}
}

// Enabled reports whether the listener is configured.
func (c Config) Enabled() bool { return c.Address != "" }

// AnyOrigin reports whether every Origin is allowed.
func (c Config) AnyOrigin() bool { return len(c.Origins) == 1 && c.Origins[0] == "*" }

// Validate checks the section.
func (c Config) Validate() error {
	if !strings.HasPrefix(c.Path, "/") || strings.HasPrefix(c.Path, "/.well-known/") || c.Path != path.Clean(c.Path) {
		return fmt.Errorf("path %q: want an absolute, clean path outside /.well-known/", c.Path)
	}
	for _, o := range c.Origins {
		if o == "*" && len(c.Origins) > 1 {
			return errors.New(`origins: "*" allows every origin and stands alone`)
		}
		if _, err := path.Match(o, ""); o == "" || err != nil {
			return fmt.Errorf("origins: bad pattern %q", o)
		}
	}
	if c.URL != "" {
		u, err := url.Parse(c.URL)
		if err != nil || (u.Scheme != "ws" && u.Scheme != "wss") || u.Host == "" {
			return fmt.Errorf("url %q: want ws://host/path or wss://host/path", c.URL)
		}
	}
	if c.Address == "" {
		return nil
	}
	host, _, err := net.SplitHostPort(c.Address)
	if err != nil {
		return fmt.Errorf("address %q: %v", c.Address, err)
	}
	if !c.TLS && !c.BehindTLSProxy && !isLoopback(host) {
		return fmt.Errorf("address %q: plain ws:// is allowed only on a loopback address or with behind_tls_proxy = true; set tls = true", c.Address)
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
