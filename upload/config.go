package upload

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"time"

	"github.com/skald-xmpp/skald/internal/period"
)

// Config is the [upload] section of the server configuration.
type Config struct {
	// Address is the host:port of the HTTP listener that takes the
	// uploads and serves the files; "" (the default) disables the service,
	// and the server then does not advertise it.
	Address string `toml:"address"`
	// PublicURL is the base URL clients are given (PUT and GET URLs are
	// PublicURL/<id>/<file name>); "" derives it from Address and the
	// first domain: https://<domain>:<port>. Set it when a reverse proxy
	// or another host name is in front.
	PublicURL string `toml:"public_url"`
	// TLS serves https with the server's certificate. XEP-0363 §4 requires
	// TLS towards clients; false only behind a proxy that terminates it.
	TLS bool `toml:"tls"`
	// MaxFileSize is the largest file one slot may carry, in bytes; it is
	// announced in disco#info.
	MaxFileSize int64 `toml:"max_file_size"`
	// QuotaPerUser bounds the bytes of one account's stored files.
	QuotaPerUser int64 `toml:"quota_per_user"`
	// ExpiresAfter is how long files are kept: seconds, or a period such
	// as "1w", "30 days", or "never" (see period.Parse).
	ExpiresAfter any `toml:"expires_after"`
	// CleanupInterval is how often expired files are removed.
	CleanupInterval any `toml:"cleanup_interval"`
	// SlotsPerMinute bounds the slots one account may request per minute;
	// 0 means no limit.
	SlotsPerMinute int `toml:"slots_per_minute"`
	// MaxConnections caps the HTTP connections open at once (see
	// LimitListener); more clients wait to be accepted.
	MaxConnections int `toml:"max_connections"`
}

// DefaultConfig returns the defaults: disabled; when enabled, https with
// the server's certificate, files up to 100 MiB, 1 GiB per account, kept
// one week, swept every hour, 30 slots per minute, 1024 connections.
func DefaultConfig() Config {
	return Config{
		TLS:             true,
		MaxFileSize:     100 << 20,
		QuotaPerUser:    1 << 30,
		ExpiresAfter:    "1w",
		CleanupInterval: "1h",
		SlotsPerMinute:  30,
		MaxConnections:  1024,
	}
}

// Enabled reports whether the service runs (an address is configured).
func (c Config) Enabled() bool { return c.Address != "" }

// settings are the validated, typed form of a Config.
type settings struct {
	maxFileSize int64
	quota       int64
	expiry      time.Duration // 0 with never
	never       bool
	interval    time.Duration
	perMinute   int
}

// Validate reports the first configuration error, naming the option.
func (c Config) Validate() error {
	_, err := c.settings()
	return err
}

func (c Config) settings() (settings, error) {
	var s settings
	if c.Address != "" {
		if _, port, err := net.SplitHostPort(c.Address); err != nil {
			return s, fmt.Errorf("upload: address %q: %v", c.Address, err)
		} else if _, err := strconv.ParseUint(port, 10, 16); err != nil {
			return s, fmt.Errorf("upload: address %q: bad port", c.Address)
		}
	}
	if c.PublicURL != "" {
		if _, err := parseBaseURL(c.PublicURL); err != nil {
			return s, fmt.Errorf("upload: public_url: %w", err)
		}
	}
	if c.MaxFileSize < 1 {
		return s, fmt.Errorf("upload: max_file_size = %d: must be at least 1", c.MaxFileSize)
	}
	if c.QuotaPerUser < c.MaxFileSize {
		return s, fmt.Errorf("upload: quota_per_user = %d is smaller than max_file_size = %d", c.QuotaPerUser, c.MaxFileSize)
	}
	if c.SlotsPerMinute < 0 {
		return s, fmt.Errorf("upload: slots_per_minute = %d: must be 0 (no limit) or positive", c.SlotsPerMinute)
	}
	if c.MaxConnections < 1 {
		return s, fmt.Errorf("upload: max_connections = %d: must be at least 1", c.MaxConnections)
	}
	var err error
	if s.expiry, s.never, err = period.Parse(c.ExpiresAfter); err != nil {
		return s, fmt.Errorf("upload: expires_after: %w", err)
	}
	if s.interval, err = period.ParseInterval(c.CleanupInterval, `set expires_after = "never" to keep files forever`); err != nil {
		return s, fmt.Errorf("upload: cleanup_interval: %w", err)
	}
	s.maxFileSize, s.quota, s.perMinute = c.MaxFileSize, c.QuotaPerUser, c.SlotsPerMinute
	return s, nil
}

// parseBaseURL checks a public base URL: absolute http(s), no query or
// fragment. The result has no trailing slash in its path.
func parseBaseURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, err
	}
	if u.Scheme != "https" && u.Scheme != "http" {
		return nil, fmt.Errorf("%q: want an https:// (or http:// behind a proxy) URL", raw)
	}
	if u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return nil, errors.New("want scheme://host[:port][/path] without user, query or fragment")
	}
	for len(u.Path) > 0 && u.Path[len(u.Path)-1] == '/' {
		u.Path = u.Path[:len(u.Path)-1]
	}
	u.RawPath = ""
	return u, nil
}

// DefaultPublicURL is the base URL when public_url is not set: the first
// domain with the port the listener is bound to (which tests learn only
// after binding port 0).
func DefaultPublicURL(tls bool, domain string, boundAddr string) string {
	scheme := "https"
	if !tls {
		scheme = "http"
	}
	_, port, _ := net.SplitHostPort(boundAddr)
	return scheme + "://" + net.JoinHostPort(domain, port)
}
