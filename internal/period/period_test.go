package period

import (
	"strings"
	"testing"
	"time"
)

// The syntax is tested through mam.ParseExpiry (mam/parse_test.go, and its
// fuzz test); here, what this package adds: intervals.
func TestParseInterval(t *testing.T) {
	for _, tc := range []struct {
		in   any
		want time.Duration
		err  string
	}{
		{"1h", time.Hour, ""},
		{3600, time.Hour, ""},
		{"90 days", 90 * 24 * time.Hour, ""},
		{"never", 0, `"never" is not an interval (hint)`},
		{"0", 0, "must be positive"},
		{"1.5h", 0, "one whole number"},
	} {
		got, err := ParseInterval(tc.in, "hint")
		if tc.err == "" && (err != nil || got != tc.want) || tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("ParseInterval(%#v) = %v, %v; want %v, error containing %q", tc.in, got, err, tc.want, tc.err)
		}
	}
}
