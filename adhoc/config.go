package adhoc

import (
	"errors"
	"time"
)

// Config is the [adhoc] section. Who is an administrator is the
// top-level admins option (config.Config.Admins): it is the server's,
// not this module's.
type Config struct {
	// SessionTimeout ends a command session whose requester sent nothing
	// for it this long (XEP-0050, Session Lifetime: the responder decides).
	SessionTimeout time.Duration `toml:"session_timeout"`
	// MaxSessionsPerAccount bounds the command sessions one account (all
	// its resources) has open at once; more are refused with
	// resource-constraint.
	MaxSessionsPerAccount int `toml:"max_sessions_per_account"`
}

// DefaultConfig: ten minutes to fill a form, ten forms open at once.
func DefaultConfig() Config {
	return Config{SessionTimeout: 10 * time.Minute, MaxSessionsPerAccount: 10}
}

// Validate reports a configuration that cannot work.
func (c Config) Validate() error {
	if c.SessionTimeout < time.Second {
		return errors.New("adhoc: session_timeout must be at least 1s")
	}
	if c.MaxSessionsPerAccount < 1 {
		return errors.New("adhoc: max_sessions_per_account must be at least 1")
	}
	return nil
}
