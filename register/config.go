package register

import "errors"

// Config is the [register] section.
type Config struct {
	// AllowRegistration lets clients create accounts before authenticating
	// (XEP-0077 §3.1.1). Off by default: an open server is a spam relay.
	AllowRegistration bool `toml:"allow_registration"`
	// AllowCancel lets users delete their own account (§3.2).
	AllowCancel bool `toml:"allow_cancel"`
	// RegistrationsPerHourPerIP bounds the accounts one client address (an
	// IPv4 address, or an IPv6 /64) may create in any hour; 0 means no limit.
	RegistrationsPerHourPerIP int `toml:"registrations_per_hour_per_ip"`
}

// DefaultConfig allows password changes and cancellation, not sign-up.
func DefaultConfig() Config {
	return Config{AllowCancel: true, RegistrationsPerHourPerIP: 3}
}

// Validate reports a configuration that cannot work.
func (c Config) Validate() error {
	if c.RegistrationsPerHourPerIP < 0 {
		return errors.New("register: registrations_per_hour_per_ip must not be negative")
	}
	return nil
}
