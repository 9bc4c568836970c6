package mam

import (
	"errors"
	"fmt"
	"time"
)

// Config is the [mam] section of the server configuration.
type Config struct {
	// MaxArchiveQueryResults caps the page size a client may ask for with
	// RSM <max/>; larger requests are served capped, with complete unset.
	MaxArchiveQueryResults int `toml:"max_archive_query_results"`
	// DefaultPageSize is the page size of queries without RSM <max/>. It
	// may not exceed MaxArchiveQueryResults.
	DefaultPageSize int `toml:"default_page_size"`
	// DefaultArchivePolicy applies to users without stored XEP-0441
	// preferences: true (archive everything), false (nothing) or the
	// string "roster" (only contacts in the user's roster).
	DefaultArchivePolicy any `toml:"default_archive_policy"`
	// ArchiveExpiresAfter is how long messages are kept: seconds, or a
	// string such as "1w", "90 days", "2 months", or "never" (see
	// ParseExpiry).
	ArchiveExpiresAfter any `toml:"archive_expires_after"`
	// ArchiveCleanupInterval is how often expired messages are deleted:
	// seconds or a duration string.
	ArchiveCleanupInterval any `toml:"archive_cleanup_interval"`
	// ArchiveMaxItems caps each user's archive (0 = unlimited); the oldest
	// messages are deleted first.
	ArchiveMaxItems int `toml:"archive_max_items"`
	// DontArchiveNamespaces lists namespaces whose elements are stripped
	// from the archived copy; a message left with nothing worth keeping is
	// not archived at all.
	DontArchiveNamespaces []string `toml:"dont_archive_namespaces"`
}

// DefaultConfig returns the defaults: pages of 20, at most 50, archive
// everything, keep one week, clean up every four hours, no size cap, and
// chat states never archived.
func DefaultConfig() Config {
	return Config{
		MaxArchiveQueryResults: 50,
		DefaultPageSize:        20,
		DefaultArchivePolicy:   true,
		ArchiveExpiresAfter:    "1w",
		ArchiveCleanupInterval: 14400,
		ArchiveMaxItems:        0,
		DontArchiveNamespaces:  []string{NSChatStates},
	}
}

// settings are the validated, typed form of a Config.
type settings struct {
	maxPage     int
	defaultPage int
	policy      string // "always", "never" or "roster"
	expiry      time.Duration
	never       bool // archive_expires_after = "never"
	interval    time.Duration
	maxItems    int
	dontNS      map[string]bool
}

// Validate reports the first configuration error, naming the option and
// the offending value.
func (c Config) Validate() error {
	_, err := c.settings()
	return err
}

func (c Config) settings() (settings, error) {
	var s settings
	if c.MaxArchiveQueryResults < 1 {
		return s, fmt.Errorf("mam: max_archive_query_results = %d: must be at least 1", c.MaxArchiveQueryResults)
	}
	if c.DefaultPageSize < 1 {
		return s, fmt.Errorf("mam: default_page_size = %d: must be at least 1", c.DefaultPageSize)
	}
	if c.DefaultPageSize > c.MaxArchiveQueryResults {
		return s, fmt.Errorf("mam: default_page_size = %d exceeds max_archive_query_results = %d", c.DefaultPageSize, c.MaxArchiveQueryResults)
	}
	s.maxPage, s.defaultPage = c.MaxArchiveQueryResults, c.DefaultPageSize

	switch p := c.DefaultArchivePolicy.(type) {
	case bool:
		s.policy = policyNever
		if p {
			s.policy = policyAlways
		}
	case string:
		if p != policyRoster {
			return s, fmt.Errorf("mam: default_archive_policy = %q: want true, false or \"roster\"", p)
		}
		s.policy = policyRoster
	default:
		return s, fmt.Errorf("mam: default_archive_policy = %v (%T): want true, false or \"roster\"", p, p)
	}

	var err error
	if s.expiry, s.never, err = ParseExpiry(c.ArchiveExpiresAfter); err != nil {
		return s, fmt.Errorf("mam: archive_expires_after: %w", err)
	}
	if s.interval, err = parseInterval(c.ArchiveCleanupInterval); err != nil {
		return s, fmt.Errorf("mam: archive_cleanup_interval: %w", err)
	}
	if c.ArchiveMaxItems < 0 {
		return s, fmt.Errorf("mam: archive_max_items = %d: must be 0 (unlimited) or positive", c.ArchiveMaxItems)
	}
	s.maxItems = c.ArchiveMaxItems

	s.dontNS = make(map[string]bool, len(c.DontArchiveNamespaces))
	for _, ns := range c.DontArchiveNamespaces {
		if ns == "" {
			return s, errors.New("mam: dont_archive_namespaces: empty namespace")
		}
		if ns == "jabber:client" {
			// That would strip <body/> and <subject/>: never what is meant.
			return s, errors.New("mam: dont_archive_namespaces: \"jabber:client\" would strip message bodies")
		}
		s.dontNS[ns] = true
	}
	return s, nil
}
