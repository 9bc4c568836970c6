package mam

import (
	"time"

	"github.com/skald-xmpp/skald/internal/period"
)

// ParseExpiry parses archive_expires_after (see period.Parse) and reports
// never=true for "never".
func ParseExpiry(v any) (d time.Duration, never bool, err error) { return period.Parse(v) }

// parseInterval parses archive_cleanup_interval: the syntax of ParseExpiry,
// but "never" is not a valid interval.
func parseInterval(v any) (time.Duration, error) {
	return period.ParseInterval(v, "set archive_expires_after = \"never\" to disable expiry")
}
