package roster

import "errors"

// Config limits what clients may store in a roster.
type Config struct {
	// MaxItems is the most items a roster set may grow a roster to. It
	// also caps the items, pending subscription requests included, that
	// requests from remote servers may make (HasRoomFor).
	MaxItems int `toml:"max_items"`
	// MaxNameLength is the longest 'name' in bytes (RFC 6121 §2.3.3).
	MaxNameLength int `toml:"max_name_length"`
	// MaxGroupLength is the longest group name in bytes (RFC 6121 §2.3.3).
	MaxGroupLength int `toml:"max_group_length"`
	// MaxGroups is the most groups one item may be in.
	MaxGroups int `toml:"max_groups"`
}

// DefaultConfig returns the defaults: generous for people, small enough
// that one account cannot make rosters a storage problem.
func DefaultConfig() Config {
	return Config{MaxItems: 2000, MaxNameLength: 1023, MaxGroupLength: 1023, MaxGroups: 64}
}

// Validate reports a configuration that cannot work.
func (c Config) Validate() error {
	if c.MaxItems < 1 {
		return errors.New("roster: max_items must be at least 1")
	}
	if c.MaxNameLength < 1 {
		return errors.New("roster: max_name_length must be at least 1")
	}
	if c.MaxGroupLength < 1 {
		return errors.New("roster: max_group_length must be at least 1")
	}
	if c.MaxGroups < 1 {
		return errors.New("roster: max_groups must be at least 1")
	}
	return nil
}
