package mam

import (
	"errors"
	"time"
)

// errDateTime is returned for any string that is not an XEP-0082 DateTime.
var errDateTime = errors.New("mam: not an XEP-0082 DateTime (CCYY-MM-DDThh:mm:ss[.sss]TZD)")

// stampLayout is how Skald writes timestamps: UTC with microseconds, the
// archive's own precision, so a client may send back exactly what it got
// (e.g. "newest stamp + 1 µs" as the next 'start') without rounding loss.
const stampLayout = "2006-01-02T15:04:05.000000Z"

// FormatDateTime renders t as an XEP-0082 DateTime in UTC with microsecond
// precision, as used in <delay stamp/> and metadata timestamps.
func FormatDateTime(t time.Time) string {
	return t.UTC().Format(stampLayout)
}

// ParseDateTime parses the XEP-0082 DateTime profile (the xs:dateTime
// subset CCYY-MM-DDThh:mm:ss[.sss]TZD): a four-digit year, mandatory
// seconds, any number of fractional digits (kept to the nanosecond,
// further digits truncated) and a mandatory zone, either "Z" or ±hh:mm.
// The result is in UTC.
//
// It is deliberately strict: no lower-case 't'/'z', no missing zone (a
// local time would be ambiguous), no leap second 60 and no 24:00:00, none
// of which XEP-0082 permits. Hand-written rather than time.Parse because
// time.Parse accepts some of these and rejects arbitrary-length fractions.
func ParseDateTime(s string) (time.Time, error) {
	// Shortest: "2006-01-02T15:04:05Z" (20 bytes).
	if len(s) < 20 || len(s) > 64 {
		return time.Time{}, errDateTime
	}
	year, ok1 := digits(s, 0, 4)
	month, ok2 := digits(s, 5, 2)
	day, ok3 := digits(s, 8, 2)
	hour, ok4 := digits(s, 11, 2)
	minute, ok5 := digits(s, 14, 2)
	sec, ok6 := digits(s, 17, 2)
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) ||
		s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' {
		return time.Time{}, errDateTime
	}
	if month < 1 || month > 12 || day < 1 || day > daysIn(year, month) ||
		hour > 23 || minute > 59 || sec > 59 {
		return time.Time{}, errDateTime
	}
	i := 19
	nsec := 0
	if s[i] == '.' {
		i++
		start := i
		scale := 100000000
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			nsec += int(s[i]-'0') * scale
			scale /= 10
			i++
		}
		if i == start {
			return time.Time{}, errDateTime
		}
	}
	if i >= len(s) {
		return time.Time{}, errDateTime
	}
	offset := 0
	switch s[i] {
	case 'Z':
		i++
	case '+', '-':
		if len(s)-i != 6 || s[i+3] != ':' {
			return time.Time{}, errDateTime
		}
		oh, okh := digits(s, i+1, 2)
		om, okm := digits(s, i+4, 2)
		// xs:dateTime limits zones to ±14:00.
		if !okh || !okm || om > 59 || oh > 14 || (oh == 14 && om != 0) {
			return time.Time{}, errDateTime
		}
		offset = oh*3600 + om*60
		if s[i] == '-' {
			offset = -offset
		}
		i += 6
	default:
		return time.Time{}, errDateTime
	}
	if i != len(s) {
		return time.Time{}, errDateTime
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, nsec, time.UTC)
	return t.Add(-time.Duration(offset) * time.Second), nil
}

// digits reads n decimal digits of s at off.
func digits(s string, off, n int) (int, bool) {
	if off+n > len(s) {
		return 0, false
	}
	v := 0
	for _, c := range []byte(s[off : off+n]) {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	return v, true
}

func daysIn(year, month int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}
