package config

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"

	"github.com/skald-xmpp/skald/jid"
	"github.com/skald-xmpp/skald/sasl"
)

// MinStanzaBytes is the smallest max_stanza_bytes accepted: RFC 6120
// §13.12 requires servers to accept stanzas of at least 10000 bytes.
const MinStanzaBytes = 10000

// Validate checks the settings and returns every problem found, each naming
// the option (and, for a loaded file, its line).
func (c *Config) Validate() error {
	var errs []error
	bad := func(key string, format string, args ...any) {
		errs = append(errs, c.problem(key, fmt.Sprintf(format, args...)))
	}

	if len(c.Domains) == 0 {
		bad("domains", "at least one domain is required")
	}
	seen := map[string]bool{}
	for _, d := range c.Domains {
		j, err := jid.Parse(d)
		switch {
		case err != nil:
			bad("domains", "%q is not a valid domain: %v", d, err)
		case j.Local() != "" || j.Resource() != "":
			bad("domains", "%q is a JID, not a domain", d)
		case seen[j.String()]:
			bad("domains", "%q is listed twice", d)
		}
		seen[j.String()] = true
	}
	c.validateAdmins(seen, bad)
	if c.DataDir == "" {
		bad("data_dir", "must not be empty")
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		bad("log_level", "%q is not one of debug, info, warn, error", c.LogLevel)
	}
	if a := c.DebugAddress; a != "" {
		if err := checkAddress(a); err != nil {
			bad("debug_address", "%v", err)
		} else if !IsLoopback(a) {
			bad("debug_address", "%q is not a loopback address; profiles show memory contents, so they are served on loopback only", a)
		}
	}
	if a := c.MetricsAddress; a != "" {
		if err := checkAddress(a); err != nil {
			bad("metrics_address", "%v", err)
		}
	}
	c.validateC2S(bad)

	if (c.TLS.CertFile == "") != (c.TLS.KeyFile == "") {
		bad("tls", "set both cert_file and key_file, or neither to use a generated self-signed certificate")
	}

	switch c.Storage.Backend {
	case BackendSQLite, BackendMemory:
		if c.Storage.DSN != "" {
			bad("storage.dsn", "is only used by network database backends, not %q", c.Storage.Backend)
		}
	case BackendPostgres:
		c.validatePostgres(bad)
	default:
		bad("storage.backend", "%q is not one of %q, %q, %q", c.Storage.Backend, BackendSQLite, BackendPostgres, BackendMemory)
	}
	return errors.Join(errs...)
}

func (c *Config) validateC2S(bad func(key, format string, args ...any)) {
	s := &c.C2S
	if s.StartTLSAddress == "" && s.DirectTLSAddress == "" {
		bad("c2s", "starttls_address and direct_tls_address are both empty: clients could not connect")
	}
	for _, l := range []struct{ key, addr string }{
		{"c2s.starttls_address", s.StartTLSAddress},
		{"c2s.direct_tls_address", s.DirectTLSAddress},
	} {
		key, addr := l.key, l.addr
		if addr == "" {
			continue
		}
		if err := checkAddress(addr); err != nil {
			bad(key, "%q: %v", addr, err)
		}
	}
	if s.StartTLSAddress != "" && s.StartTLSAddress == s.DirectTLSAddress {
		bad("c2s.direct_tls_address", "%q is also the starttls_address; the listeners need different ports", s.DirectTLSAddress)
	}
	if !s.RequireTLS && s.StartTLSAddress != "" && !IsLoopback(s.StartTLSAddress) {
		bad("c2s.require_tls", "false is only allowed when starttls_address is a loopback address "+
			"(such as \"127.0.0.1:5222\" or \"[::1]:5222\"), but it is %q: clients on the network "+
			"would send passwords and messages in the clear", s.StartTLSAddress)
	}
	if s.MaxStanzaBytes < MinStanzaBytes {
		bad("c2s.max_stanza_bytes", "%d is below %d, the minimum RFC 6120 §13.12 requires servers to accept", s.MaxStanzaBytes, MinStanzaBytes)
	}
	if s.MaxDepth < 8 {
		bad("c2s.max_depth", "%d is too small for ordinary stanzas (minimum 8)", s.MaxDepth)
	}
	if s.MaxAttrs < 8 {
		bad("c2s.max_attrs", "%d is too small for ordinary stanzas (minimum 8)", s.MaxAttrs)
	}
	if s.IdleTimeout <= 0 {
		bad("c2s.idle_timeout", "must be positive, got %v", s.IdleTimeout)
	}
	if s.NegotiationTimeout < 0 {
		bad("c2s.negotiation_timeout", "must not be negative (0 leaves it to idle_timeout), got %v", s.NegotiationTimeout)
	}
	if s.FastTokenLifetime < 0 {
		bad("c2s.fast_token_lifetime", "must not be negative (0 stops offering FAST), got %v", s.FastTokenLifetime)
	}
	if s.KeepaliveInterval < 0 {
		bad("c2s.keepalive_interval", "must not be negative (0 disables keepalives), got %v", s.KeepaliveInterval)
	}
	if s.SendQueueBytes < s.MaxStanzaBytes {
		bad("c2s.send_queue_bytes", "%d is smaller than max_stanza_bytes (%d): one large stanza would not fit", s.SendQueueBytes, s.MaxStanzaBytes)
	}
	if s.AuthFailuresPerMinutePerIP < 0 {
		bad("c2s.auth_failures_per_minute_per_ip", "must not be negative (0 means no limit)")
	}
	if s.ReadBytesPerSecond < 0 {
		bad("c2s.read_bytes_per_second", "must not be negative (0 means no limit)")
	}
	if s.AuthFailuresPerMinutePerAccount < 0 {
		bad("c2s.auth_failures_per_minute_per_account", "must not be negative (0 means no limit)")
	}
	if s.MaxConnections < 0 {
		bad("c2s.max_connections", "must not be negative (0 means no cap)")
	}
	if s.MaxConnectionsPerIP < 0 {
		bad("c2s.max_connections_per_ip", "must not be negative (0 means no cap)")
	}
	c.validateSASLMechanisms(bad)
}

// checkAddress accepts "host:port" and ":port" with a numeric port.
func checkAddress(addr string) error {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("not a host:port address: %v", err)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("port %q is not a number from 0 to 65535", port)
	}
	return nil
}

// IsLoopback reports whether a listen address binds only to the loopback
// interface: "localhost" or a loopback IP. An empty host (all interfaces)
// and other host names are not loopback.
func IsLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

// problem formats a validation error for the option key ("c2s.max_depth"),
// with the file and line when the option comes from a file.
func (c *Config) problem(key, msg string) error {
	if c.src != nil {
		k := toml.Key(strings.Split(key, "."))
		if c.md.IsDefined(k...) {
			if n := c.line(k); n > 0 {
				return fmt.Errorf("%s:%d: %s: %s", c.Path, n, key, msg)
			}
		}
	}
	if c.Path != "" {
		return fmt.Errorf("%s: %s: %s", c.Path, key, msg)
	}
	return fmt.Errorf("%s: %s", key, msg)
}

// validatePostgres checks the settings of the postgres backend. The DSN's
// parameters are checked when the store opens it; here only its form.
func (c *Config) validatePostgres(bad func(key, format string, args ...any)) {
	dsn := c.Storage.DSN
	switch {
	case dsn == "":
		bad("storage.dsn", "is required with backend %q (e.g. \"postgres://skald@db.example.org/skald\")", BackendPostgres)
	case !strings.HasPrefix(dsn, "postgres://") && !strings.HasPrefix(dsn, "postgresql://") && !strings.Contains(dsn, "="):
		bad("storage.dsn", "is neither a postgres:// URL nor key=value settings")
	}
	if c.Storage.Path != "" {
		bad("storage.path", "is the SQLite database file, not used with backend %q", BackendPostgres)
	}
}

// RedactedDSN is the storage DSN with its password masked, for logs and
// "skald config check".
func (s Storage) RedactedDSN() string {
	if u, err := url.Parse(s.DSN); err == nil && u.Scheme != "" {
		return u.Redacted()
	}
	return passwordSetting.ReplaceAllString(s.DSN, "${1}xxxxx")
}

var passwordSetting = regexp.MustCompile(`(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)`)

// validateAdmins checks that every admin is an account of a served
// domain: administration is for local accounts, whose logins this server
// checks, never for a JID another server vouches for.
func (c *Config) validateAdmins(domains map[string]bool, bad func(key, format string, args ...any)) {
	for _, a := range c.Admins {
		j, err := jid.Parse(a)
		switch {
		case err != nil:
			bad("admins", "%q is not a valid JID: %v", a, err)
		case j.Local() == "" || j.Resource() != "":
			bad("admins", "%q is not an account (want user@domain)", a)
		case !domains[j.Domain()]:
			bad("admins", "%q is not on a served domain", a)
		}
	}
}

// validateSASLMechanisms checks [c2s] sasl_mechanisms: names the sasl
// package implements, each once, at least one.
func (c *Config) validateSASLMechanisms(bad func(key, format string, args ...any)) {
	supported := sasl.Mechanisms(true, true)
	if len(c.C2S.SASLMechanisms) == 0 {
		bad("c2s.sasl_mechanisms", "is empty: no client could log in (supported: %s)", strings.Join(supported, ", "))
	}
	seen := map[string]bool{}
	for _, m := range c.C2S.SASLMechanisms {
		switch {
		case !slices.Contains(supported, m):
			bad("c2s.sasl_mechanisms", "%q is not a supported mechanism (supported: %s; names are upper case)", m, strings.Join(supported, ", "))
		case seen[m]:
			bad("c2s.sasl_mechanisms", "%q is listed twice", m)
		}
		seen[m] = true
	}
}
