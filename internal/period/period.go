// Package period parses the retention periods of the configuration
// (mam archive_expires_after, upload expires_after): seconds, or one whole
// number with one unit, or "never". It sits in the bottom layer so that
// every feature module reads periods the same way.
//
// Layering: imports nothing of Skald.
package period

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Lengths of the calendar units. A month is 31 days and a year 365.2425
// days, as in Prosody's archive_expires_after, so configurations carry
// over with the same meaning (and a "1m" retention never deletes a
// message younger than one calendar month).
const (
	day   = 24 * time.Hour
	week  = 7 * day
	month = 31 * day
	year  = time.Duration(365.2425 * float64(day))
)

// expiryUnits maps the accepted unit spellings (case-insensitive, except
// "M": see Parse) to their length.
var expiryUnits = map[string]time.Duration{
	"s": time.Second, "sec": time.Second, "secs": time.Second, "second": time.Second, "seconds": time.Second,
	"min": time.Minute, "mins": time.Minute, "minute": time.Minute, "minutes": time.Minute,
	"h": time.Hour, "hr": time.Hour, "hrs": time.Hour, "hour": time.Hour, "hours": time.Hour,
	"d": day, "day": day, "days": day,
	"w": week, "wk": week, "wks": week, "week": week, "weeks": week,
	"m": month, "mo": month, "mon": month, "month": month, "months": month,
	"y": year, "yr": year, "yrs": year, "year": year, "years": year,
}

// Parse parses a retention period as written in the configuration
// (archive_expires_after, expires_after) and reports never=true for
// "never".
//
// Accepted: a positive integer (TOML integer or a string of digits) of
// seconds; or a positive integer followed, optionally after spaces, by one
// unit: s/sec/second(s), min/minute(s), h/hr/hour(s), d/day(s),
// w/wk/week(s), m/mo/mon/month(s) (31 days), y/yr/year(s) (365.2425
// days). Units are case-insensitive, except that a capital "M" alone is
// rejected as ambiguous (minutes in ISO 8601 times, months elsewhere).
// Rejected with an error naming the value: zero or negative periods,
// fractions ("1.5d"), several units ("1h30m": with m = month this would
// not mean what it looks like), sub-second units ("500ms"), unknown units,
// periods too long to represent, and values of any other type.
func Parse(v any) (d time.Duration, never bool, err error) {
	switch x := v.(type) {
	case string:
		return parseExpiryString(x)
	case int:
		return expirySeconds(int64(x), v)
	case int8:
		return expirySeconds(int64(x), v)
	case int16:
		return expirySeconds(int64(x), v)
	case int32:
		return expirySeconds(int64(x), v)
	case int64:
		return expirySeconds(x, v)
	case uint, uint8, uint16, uint32, uint64:
		n, perr := strconv.ParseInt(fmt.Sprint(x), 10, 64)
		if perr != nil {
			return 0, false, fmt.Errorf("period %v is too long", v)
		}
		return expirySeconds(n, v)
	case float64:
		// A JSON or TOML float that holds a whole number of seconds.
		if x != math.Trunc(x) || math.IsInf(x, 0) || math.IsNaN(x) || x > math.MaxInt64/2 || x < math.MinInt64/2 {
			return 0, false, fmt.Errorf("period %v is not a whole number of seconds", v)
		}
		return expirySeconds(int64(x), v)
	case nil:
		return 0, false, fmt.Errorf("period is missing: want seconds, a duration such as \"1w\" or \"90 days\", or \"never\"")
	}
	return 0, false, fmt.Errorf("period %v (%T) is neither a number of seconds nor a string such as \"1w\", \"90 days\" or \"never\"", v, v)
}

func expirySeconds(n int64, orig any) (time.Duration, bool, error) {
	if n <= 0 {
		return 0, false, fmt.Errorf("period %v must be positive (use \"never\" to keep messages forever)", orig)
	}
	if n > int64(math.MaxInt64/time.Second) {
		return 0, false, fmt.Errorf("period %v is too long", orig)
	}
	return time.Duration(n) * time.Second, false, nil
}

func parseExpiryString(raw string) (time.Duration, bool, error) {
	s := strings.TrimSpace(raw)
	if strings.EqualFold(s, "never") {
		return 0, true, nil
	}
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == 0 {
		return 0, false, fmt.Errorf("period %q: want a positive whole number optionally followed by a unit (s, min, h, d, w, m, y), or \"never\"", raw)
	}
	if i > 18 { // more digits than any int64 period in seconds needs
		return 0, false, fmt.Errorf("period %q is too long", raw)
	}
	n, _ := strconv.ParseInt(s[:i], 10, 64)
	unitStr := strings.TrimLeft(s[i:], " \t")
	if unitStr == "" {
		return expirySeconds(n, raw)
	}
	if unitStr == "M" {
		return 0, false, fmt.Errorf("period %q is ambiguous: write %q or %q", raw, s[:i]+" months", s[:i]+"min")
	}
	unit, ok := expiryUnits[strings.ToLower(unitStr)]
	if !ok {
		switch {
		case strings.IndexFunc(unitStr, func(r rune) bool { return r >= '0' && r <= '9' || r == '.' }) >= 0:
			return 0, false, fmt.Errorf("period %q: use one whole number and one unit (e.g. \"90min\", \"36h\", \"2 months\")", raw)
		case strings.EqualFold(unitStr, "ms"), strings.EqualFold(unitStr, "us"), strings.EqualFold(unitStr, "µs"), strings.EqualFold(unitStr, "ns"):
			return 0, false, fmt.Errorf("period %q: sub-second units are not supported", raw)
		}
		return 0, false, fmt.Errorf("period %q: unknown unit %q (want s, min, h, d, w, m = 31 days, y = 365.2425 days, or their long names)", raw, unitStr)
	}
	if n <= 0 {
		return 0, false, fmt.Errorf("period %q must be positive (use \"never\" to keep messages forever)", raw)
	}
	if n > int64(math.MaxInt64/unit) {
		return 0, false, fmt.Errorf("period %q is too long", raw)
	}
	return time.Duration(n) * unit, false, nil
}

// ParseInterval parses an interval between runs of a job: the syntax of
// Parse, but "never" is not an interval; neverHint says what to set
// instead.
func ParseInterval(v any, neverHint string) (time.Duration, error) {
	d, never, err := Parse(v)
	if err != nil {
		return 0, err
	}
	if never {
		return 0, fmt.Errorf("interval %v: \"never\" is not an interval (%s)", v, neverHint)
	}
	return d, nil
}
