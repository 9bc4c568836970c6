package mam

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/stanza"
	"github.com/skald-xmpp/skald/storage"
	"github.com/skald-xmpp/skald/storage/memory"
)

// tryParse parses one element in the jabber:client default namespace, or
// reports false for input that is not a well-formed element.
func tryParse(raw string) (*xml.Element, bool) {
	rd := xml.NewReader(strings.NewReader(`<s xmlns="jabber:client">`+raw+`</s>`), xml.DefaultLimits, 0)
	if _, _, err := rd.ReadStreamStart(); err != nil {
		return nil, false
	}
	el, err := rd.Next()
	return el, err == nil
}

// isStanzaError checks that a parser error is one that can go on the wire.
func isStanzaError(t *testing.T, err error) {
	var se *stanza.Error
	if !errors.As(err, &se) {
		t.Fatalf("error %v (%T) is not a *stanza.Error", err, err)
	}
}

func FuzzParseQuery(f *testing.F) {
	for _, s := range []string{
		``,
		form(field("with", "juliet@capulet.lit"), field("start", "2010-06-07T00:00:00Z"), field("end", "2010-07-07T13:23:54Z")),
		form(field("after-id", "28482-98726-73623"), field("before-id", "09af3-cc343-b409f")),
		form(field("ids", "a", "b", "")),
		form(field("include-groupchat", "true")),
		`<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE'><value>urn:xmpp:mam:1</value></field></x>`,
		`<set xmlns='http://jabber.org/protocol/rsm'><max>10</max><after>x</after><before/><index>3</index></set><flip-page/>`,
		`<set xmlns='http://jabber.org/protocol/rsm'><max>+7</max></set>`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, inner string) {
		q, ok := tryParse(`<query xmlns='urn:xmpp:mam:2' queryid='q'>` + inner + `</query>`)
		if !ok {
			return
		}
		got, err := ParseQuery(q)
		if err != nil {
			isStanzaError(t, err)
			return
		}
		if len(got.IDs) > MaxQueryIDs {
			t.Fatalf("%d ids accepted", len(got.IDs))
		}
		for _, id := range got.IDs {
			if id == "" {
				t.Fatal("empty id accepted")
			}
		}
		for _, tm := range []time.Time{got.Start, got.End} {
			if !tm.IsZero() && tm.Location() != time.UTC {
				t.Fatalf("time %v not UTC", tm)
			}
		}
		if got.RSM.Max < 0 || got.RSM.Index < 0 {
			t.Fatalf("negative RSM values %+v", got.RSM)
		}
	})
}

func FuzzParseRSM(f *testing.F) {
	for _, s := range []string{
		`<max>10</max>`, `<max>0</max><before/>`, `<after>abc</after>`, `<before>abc</before>`,
		`<index>371</index>`, `<max>2147483647</max>`, `<max>2147483648</max>`, `<max> 5 </max>`, `<max>-0</max>`,
		`<first index='0'>x</first><last>y</last><count>3</count>`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, inner string) {
		set, ok := tryParse(`<set xmlns='http://jabber.org/protocol/rsm'>` + inner + `</set>`)
		if !ok {
			return
		}
		r, err := ParseRSM(set)
		if err != nil {
			isStanzaError(t, err)
			return
		}
		if r.Max < 0 || r.Index < 0 || (!r.HasMax && r.Max != 0) || (!r.HasIndex && r.Index != 0) ||
			(!r.HasBefore && r.Before != "") {
			t.Fatalf("inconsistent %+v", r)
		}
	})
}

func FuzzParseDateTime(f *testing.F) {
	for _, s := range []string{
		"2010-07-10T23:08:25Z", "2010-07-10T23:08:25.123456Z", "2010-07-10T23:08:25+02:00",
		"2010-07-10T23:08:25.1-14:00", "2024-02-29T00:00:00Z", "2010-07-10T24:00:00Z", "0000-01-01T00:00:00Z",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tm, err := ParseDateTime(s)
		if err != nil {
			return
		}
		if tm.Location() != time.UTC {
			t.Fatalf("%q: not UTC", s)
		}
		// Differential check against the standard library's RFC 3339
		// parser, of which XEP-0082 DateTime is a subset.
		std, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatalf("%q accepted, but time.Parse says %v", s, err)
		}
		if !std.Equal(tm) {
			t.Fatalf("%q: got %v, time.Parse %v", s, tm, std)
		}
		// What we write, we read back exactly (to the microsecond).
		back, err := ParseDateTime(FormatDateTime(tm))
		if err != nil || !back.Equal(tm.Truncate(time.Microsecond)) {
			t.Fatalf("%q: round trip %v, %v", s, back, err)
		}
	})
}

func FuzzParseExpiry(f *testing.F) {
	for _, s := range []string{"1w", "never", "3600", "90 days", "2 months", "2M", "1h30m", "1.5d", "36h", "45min", "0", "-1d", "292y", "300y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, never, err := ParseExpiry(s)
		switch {
		case err != nil:
			if d != 0 || never {
				t.Fatalf("%q: error with a value", s)
			}
		case never:
			if !strings.EqualFold(strings.TrimSpace(s), "never") || d != 0 {
				t.Fatalf("%q: never", s)
			}
		case d <= 0 || d%time.Second != 0:
			t.Fatalf("%q: period %v", s, d)
		}
	})
}

func FuzzArchiveID(f *testing.F) {
	c, err := newIDCodec(testSecret)
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{c.encode(1), c.encode(1 << 40), "", "28482-98726-73623", strings.Repeat("_", 22)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, ok := c.decode(s)
		if ok && (n <= 0 || c.encode(n) != s) {
			t.Fatalf("decode(%q) = %d, which encodes as %q", s, n, c.encode(n))
		}
	})
}

func FuzzParsePrefs(f *testing.F) {
	for _, s := range []string{
		`default='roster'><always><jid>romeo@montague.lit</jid></always><never><jid>montague@montague.lit</jid></never>`,
		`default='always'><always><jid>a@b/c</jid><jid>A@B/c</jid></always><never><jid>a@b/c</jid></never>`,
		`><never/>`, `default='x'>`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, inner string) {
		p, ok := tryParse(`<prefs xmlns='urn:xmpp:mam:2' ` + inner + `</prefs>`)
		if !ok {
			return
		}
		got, err := parsePrefs(p, storage.ArchivePrefs{Default: policyRoster})
		if err != nil {
			isStanzaError(t, err)
			return
		}
		switch got.Default {
		case policyAlways, policyNever, policyRoster:
		default:
			t.Fatalf("default %q", got.Default)
		}
		seen := map[string]bool{}
		for _, j := range append(append([]string(nil), got.Always...), got.Never...) {
			if seen[j] {
				t.Fatalf("%q listed twice in %+v", j, got)
			}
			seen[j] = true
		}
		// The rendering parses back to the same preferences.
		again, err := parsePrefs(prefsElement(got), storage.ArchivePrefs{})
		if err != nil || prefsElement(again).String() != prefsElement(got).String() {
			t.Fatalf("round trip: %v %v", again, err)
		}
	})
}

// FuzzDecodePage stores arbitrary bytes between two good items: whatever
// they hold, the good items must come back as themselves, in place.
func FuzzDecodePage(f *testing.F) {
	m, err := New(DefaultConfig(), memory.New(), memory.New(), testSecret, quietLog())
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{
		`<message><body>x</body></message>`, `<message><body>cut`, `<message/><message/>`, `<iq/>`, ``, `</s>`,
		`<message/><sep xmlns="urn:skald:mam:page" n="` + m.sepNonce + `1"/><message/>`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		items := []storage.ArchivedMessage{
			{ID: 1, Stanza: []byte(`<message xmlns="jabber:client"><body>first</body></message>`)},
			{ID: 2, Stanza: []byte(raw)},
			{ID: 3, Stanza: []byte(`<message><body>third</body></message>`)},
		}
		out := m.decodePage(items)
		if len(out) != 3 || out[0].ChildText(nsClient, "body") != "first" || out[2].ChildText(nsClient, "body") != "third" {
			t.Fatalf("items shifted: %v", out)
		}
		if out[1] != nil && !out[1].Is(nsClient, "message") {
			t.Fatalf("item 2 decoded as %s", out[1])
		}
	})
}
