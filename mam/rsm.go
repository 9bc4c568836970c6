package mam

import (
	"math"
	"strconv"
	"strings"

	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/stanza"
)

// RSM is a parsed XEP-0059 request <set xmlns='http://jabber.org/protocol/rsm'/>.
type RSM struct {
	// Max is the requested page size; HasMax is false when <max/> is absent.
	Max    int
	HasMax bool
	// After is the UID of <after/> ("" when absent or empty).
	After string
	// HasBefore is true when <before/> is present; Before is its UID, ""
	// for an empty <before/> (which asks for the last page).
	Before    string
	HasBefore bool
	// Index is the requested <index/>; HasIndex is false when absent.
	Index    int
	HasIndex bool
}

// ParseRSM parses an RSM request set. Each of max, after, before and index
// may appear at most once; max and index must be non-negative integers
// within xs:int. Response-only children (first, last, count) and foreign
// elements are ignored. Errors are *stanza.Error bad-request.
func ParseRSM(set *xml.Element) (RSM, error) {
	var r RSM
	var seenAfter bool
	for _, c := range set.Elements() {
		if c.Space != NSRSM {
			continue
		}
		switch c.Local {
		case "max":
			if r.HasMax {
				return RSM{}, stanza.E(stanza.BadRequest, "duplicate <max/>")
			}
			n, ok := parseXSInt(c.Text())
			if !ok {
				return RSM{}, stanza.E(stanza.BadRequest, "<max/> must be a non-negative integer")
			}
			r.Max, r.HasMax = n, true
		case "index":
			if r.HasIndex {
				return RSM{}, stanza.E(stanza.BadRequest, "duplicate <index/>")
			}
			n, ok := parseXSInt(c.Text())
			if !ok {
				return RSM{}, stanza.E(stanza.BadRequest, "<index/> must be a non-negative integer")
			}
			r.Index, r.HasIndex = n, true
		case "after":
			if seenAfter {
				return RSM{}, stanza.E(stanza.BadRequest, "duplicate <after/>")
			}
			seenAfter = true
			// An empty <after/> names no item: treat it as absent, as
			// "after nothing" is the start of the set (XEP-0059 "Paging Forwards").
			r.After = strings.TrimSpace(c.Text())
		case "before":
			if r.HasBefore {
				return RSM{}, stanza.E(stanza.BadRequest, "duplicate <before/>")
			}
			r.HasBefore = true
			r.Before = strings.TrimSpace(c.Text())
		}
	}
	return r, nil
}

// parseXSInt parses a non-negative xs:int (leading/trailing whitespace
// allowed, as XML Schema collapses it).
func parseXSInt(s string) (int, bool) {
	s = strings.TrimSpace(s)
	if s == "" || s[0] == '-' {
		return 0, false
	}
	n, err := strconv.ParseUint(strings.TrimPrefix(s, "+"), 10, 32)
	if err != nil || n > math.MaxInt32 {
		return 0, false
	}
	return int(n), true
}

// rsmResult builds the response <set/>: first (with index when known),
// last, and count when known. An empty page has neither first nor last
// (XEP-0059 "Paging Forwards").
func rsmResult(first, last string, index, count int) *xml.Element {
	set := xml.New(NSRSM, "set")
	if first != "" {
		f := xml.New(NSRSM, "first")
		if index >= 0 {
			f.SetAttr("index", strconv.Itoa(index))
		}
		f.AppendText(first)
		set.Append(f, xml.New(NSRSM, "last").AppendText(last))
	}
	if count >= 0 {
		set.Append(xml.New(NSRSM, "count").AppendText(strconv.Itoa(count)))
	}
	return set
}
