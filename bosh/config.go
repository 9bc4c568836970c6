package bosh

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"path"
	"strings"
	"time"
)

// Config is the [bosh] section.
type Config struct {
	// Address is where the HTTP listener for BOSH listens; "" (the
	// default) serves nothing.
	Address string `toml:"address"`
	// Path is the BOSH endpoint's path.
	Path string `toml:"path"`
	// TLS serves https with the server's certificate. Without it the
	// listener speaks plain HTTP, which is allowed only on a loopback
	// address or with BehindTLSProxy.
	TLS bool `toml:"tls"`
	// BehindTLSProxy declares that the clients reach the listener through
	// a proxy that terminates TLS: plain HTTP is then allowed on any
	// address, sessions count as encrypted (PLAIN is offered), and the
	// client's address is the last X-Forwarded-For entry.
	BehindTLSProxy bool `toml:"behind_tls_proxy"`
	// Origins lists the browser Origins allowed to use the
	// endpoint (CORS): host patterns ("chat.example.com",
	// "*.example.com") or scheme://host patterns matched with path.Match;
	// ["*"] allows every origin. Requests without an Origin (non-browser
	// clients) and same-origin requests are always allowed.
	Origins []string `toml:"origins"`
	// URL is the endpoint announced in host-meta; "" derives it from the
	// request (https:// with TLS or behind a TLS proxy, the Host header
	// and Path).
	URL string `toml:"url"`
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
// sessions, 100 from one address.
func DefaultConfig() Config {
	return Config{
		Path:          "/http-bind",
		TLS:           true,
		Origins:       []string{"*"},
		MaxWait:       60 * time.Second,
		MaxHold:       1,
		MaxInactivity: 60 * time.Second,
		MaxSessions:   10000,

		MaxSessionsPerIP: 100,
	}
}

// Enabled reports whether the listener is configured.
func (c Config) Enabled() bool { return c.Address != "" }

// AnyOrigin reports whether every Origin is allowed.
func (c Config) AnyOrigin() bool {
	return len(c.Origins) == 1 && c.Origins[0] == "*"
}

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
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("url %q: want http://host/path or https://host/path", c.URL)
		}
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
	if c.Address == "" {
		return nil
	}
	host, _, err := net.SplitHostPort(c.Address)
	if err != nil {
		return fmt.Errorf("address %q: %v", c.Address, err)
	}
	if !c.TLS && !c.BehindTLSProxy && !isLoopback(host) {
		return fmt.Errorf("address %q: plain http:// is allowed only on a loopback address or with behind_tls_proxy = true; set tls = true", c.Address)
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
