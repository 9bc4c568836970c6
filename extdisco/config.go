package extdisco

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"time"
)

// MaxServices bounds the configured services, so that a <services/>
// answer stays small.
const MaxServices = 32

// Config is the [extdisco] section.
type Config struct {
	// CredentialLifetime is how long TURN credentials stay valid.
	CredentialLifetime time.Duration `toml:"credential_lifetime"`
	// Services are the external services announced; none turns the
	// module off.
	Services []Service `toml:"services"`
}

// Service is one [[extdisco.services]] entry.
type Service struct {
	Type       string `toml:"type"`
	Host       string `toml:"host"`
	Port       int    `toml:"port"`
	Transport  string `toml:"transport"`
	Name       string `toml:"name"`
	Restricted bool   `toml:"restricted"`
	// Secret is the TURN REST API shared secret (coturn's
	// static-auth-secret); when set, clients get credentials made with it.
	Secret string `toml:"secret"`
}

// DefaultConfig returns the defaults: no services, credentials valid for
// a day (coturn's and Prosody's usual TTL).
func DefaultConfig() Config { return Config{CredentialLifetime: 24 * time.Hour} }

// Enabled reports whether any service is configured.
func (c Config) Enabled() bool { return len(c.Services) > 0 }

// Validate checks the section.
func (c Config) Validate() error {
	if c.CredentialLifetime < time.Minute || c.CredentialLifetime > 30*24*time.Hour {
		return fmt.Errorf("credential_lifetime %s: must be between 1m and 30 days", c.CredentialLifetime)
	}
	if len(c.Services) > MaxServices {
		return fmt.Errorf("services: %d configured, at most %d", len(c.Services), MaxServices)
	}
	seen := map[string]bool{}
	for i, s := range c.Services {
		if err := s.validate(); err != nil {
			return fmt.Errorf("services[%d]: %w", i, err)
		}
		key := fmt.Sprintf("%s|%s|%d|%s", s.Type, strings.ToLower(s.Host), s.Port, s.Transport)
		if seen[key] {
			return fmt.Errorf("services[%d]: %s %s port %d %s is listed twice", i, s.Type, s.Host, s.Port, s.Transport)
		}
		seen[key] = true
	}
	return nil
}

func (s Service) validate() error {
	if !isToken(s.Type) {
		return fmt.Errorf("type %q: want a registered service type such as \"stun\" or \"turn\"", s.Type)
	}
	if !validHost(s.Host) {
		return fmt.Errorf("host %q: want a domain name or an IP address", s.Host)
	}
	if s.Port < 0 || s.Port > 65535 {
		return fmt.Errorf("port %d: want 1-65535, or 0 for none", s.Port)
	}
	switch s.Transport {
	case "", "udp", "tcp":
	default:
		return fmt.Errorf("transport %q: want \"udp\", \"tcp\" or \"\"", s.Transport)
	}
	if len(s.Name) > 256 {
		return errors.New("name: longer than 256 bytes")
	}
	if s.Secret != "" && len(s.Secret) < 16 {
		// A guessable secret lets anyone mint relay credentials.
		return errors.New("secret: shorter than 16 bytes")
	}
	return nil
}

// isToken: lower-case letters, digits and '-' (the registry's names).
func isToken(s string) bool {
	if s == "" || len(s) > 32 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// validHost accepts an IP address or a DNS name (letters, digits, '-',
// dot-separated labels of at most 63 bytes).
func validHost(h string) bool {
	if net.ParseIP(h) != nil {
		return true
	}
	if h == "" || len(h) > 253 {
		return false
	}
	for _, label := range strings.Split(strings.TrimSuffix(h, "."), ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, c := range label {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}
