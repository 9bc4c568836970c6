package mam

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/skald-xmpp/skald/storage"
)

func TestParseDateTime(t *testing.T) {
	utc := func(s string) time.Time {
		tm, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return tm.UTC()
	}
	good := []struct{ in, want string }{
		{"2010-07-10T23:08:25Z", "2010-07-10T23:08:25Z"},
		{"2010-07-10T23:08:25.1Z", "2010-07-10T23:08:25.1Z"},
		{"2010-07-10T23:08:25.123456Z", "2010-07-10T23:08:25.123456Z"},
		{"2010-07-10T23:08:25.123456789123Z", "2010-07-10T23:08:25.123456789Z"}, // beyond ns: truncated
		{"2010-07-10T23:08:25+02:00", "2010-07-10T21:08:25Z"},
		{"2010-07-10T23:08:25.5-05:30", "2010-07-11T04:38:25.5Z"},
		{"2010-07-10T23:08:25+14:00", "2010-07-10T09:08:25Z"},
		{"2010-07-10T23:08:25-00:00", "2010-07-10T23:08:25Z"},
		{"2024-02-29T00:00:00Z", "2024-02-29T00:00:00Z"},
		{"2000-02-29T00:00:00Z", "2000-02-29T00:00:00Z"},
		{"0001-01-01T00:00:00Z", "0001-01-01T00:00:00Z"},
		{"9999-12-31T23:59:59.999999999Z", "9999-12-31T23:59:59.999999999Z"},
	}
	for _, tc := range good {
		got, err := ParseDateTime(tc.in)
		if err != nil || !got.Equal(utc(tc.want)) || got.Location() != time.UTC {
			t.Errorf("ParseDateTime(%q) = %v, %v; want %s", tc.in, got, err, tc.want)
		}
	}
	bad := []string{
		"", "2010-07-10", "2010-07-10T23:08Z", "2010-07-10T23:08:25", "2010-07-10 23:08:25Z",
		"2010-07-10t23:08:25Z", "2010-07-10T23:08:25z", "10-07-10T23:08:25Z", "20100-07-10T23:08:25Z",
		"+2010-07-10T23:08:25Z", "-2010-07-10T23:08:25Z", "2010-7-10T23:08:25Z", "2010-07-10T23:08:25.Z",
		"2010-13-10T23:08:25Z", "2010-00-10T23:08:25Z", "2010-02-30T23:08:25Z", "2023-02-29T00:00:00Z",
		"1900-02-29T00:00:00Z", "2010-04-31T00:00:00Z", "2010-07-00T00:00:00Z", "2010-07-10T24:00:00Z",
		"2010-07-10T23:60:00Z", "2010-07-10T23:08:60Z", "2010-07-10T23:08:25+15:00", "2010-07-10T23:08:25+14:30",
		"2010-07-10T23:08:25+02:60", "2010-07-10T23:08:25+0200", "2010-07-10T23:08:25+02", "2010-07-10T23:08:25+02:00Z",
		"2010-07-10T23:08:25ZZ", "2010-07-10T23:08:25 Z", " 2010-07-10T23:08:25Z", "2010-07-10T23:08:25Z ",
		"2010-07-10T23:08:25.1.2Z", "2010-07-10T23:08:25,5Z", "2010-07-10T23:08:25.+1Z", "２０１０-07-10T23:08:25Z",
		"2010-07-10T23:08:25." + strings.Repeat("1", 60) + "Z",
	}
	for _, in := range bad {
		if got, err := ParseDateTime(in); err == nil {
			t.Errorf("ParseDateTime(%q) = %v, want error", in, got)
		}
	}
	if s := FormatDateTime(time.Date(2010, 7, 10, 23, 8, 25, 1500, time.FixedZone("x", 3600))); s != "2010-07-10T22:08:25.000001Z" {
		t.Errorf("FormatDateTime = %s", s)
	}
}

func TestParseExpiry(t *testing.T) {
	const d = 24 * time.Hour
	good := []struct {
		in    any
		want  time.Duration
		never bool
	}{
		{"never", 0, true},
		{" NEVER ", 0, true},
		{604800, 7 * d, false},
		{int64(60), time.Minute, false},
		{int32(1), time.Second, false},
		{uint16(2), 2 * time.Second, false},
		{float64(3600), time.Hour, false},
		{"3600", time.Hour, false},
		{"1w", 7 * d, false},
		{"1W", 7 * d, false},
		{"2d", 2 * d, false},
		{"1m", 31 * d, false},
		{"2mo", 62 * d, false},
		{"2 months", 62 * d, false},
		{"1 month", 31 * d, false},
		{"1y", time.Duration(365.2425 * float64(d)), false},
		{"2 years", 2 * time.Duration(365.2425*float64(d)), false},
		{"90 days", 90 * d, false},
		{"36h", 36 * time.Hour, false},
		{"36 hours", 36 * time.Hour, false},
		{"45min", 45 * time.Minute, false},
		{"45 minutes", 45 * time.Minute, false},
		{"30s", 30 * time.Second, false},
		{"30 seconds", 30 * time.Second, false},
		{"1  Week", 7 * d, false},
		{"007d", 7 * d, false},
		{"200y", 200 * time.Duration(365.2425*float64(d)), false},
	}
	for _, tc := range good {
		got, never, err := ParseExpiry(tc.in)
		if err != nil || got != tc.want || never != tc.never {
			t.Errorf("ParseExpiry(%#v) = %v, %v, %v; want %v, %v", tc.in, got, never, err, tc.want, tc.never)
		}
	}
	bad := []struct {
		in      any
		errPart string
	}{
		{"", "want a positive whole number"},
		{"w", "want a positive whole number"},
		{"-1d", "want a positive whole number"},
		{"+1d", "want a positive whole number"},
		{"0", "must be positive"},
		{"0d", "must be positive"},
		{0, "must be positive"},
		{-5, "must be positive"},
		{"1.5d", "one whole number and one unit"},
		{"1h30m", "one whole number and one unit"},
		{"1d2h", "one whole number and one unit"},
		{"2M", "ambiguous"},
		{"2 M", "ambiguous"},
		{"500ms", "sub-second"},
		{"5 fortnights", "unknown unit"},
		{"5 d ays", "unknown unit"},
		{"1e3", "one whole number and one unit"},
		{"300y", "too long"},
		{"9999999999999999999", "too long"},
		{"99999999999999999", "too long"},
		{int64(1) << 62, "too long"},
		{1.5, "whole number"},
		{true, "neither"},
		{nil, "missing"},
		{[]string{"1w"}, "neither"},
	}
	for _, tc := range bad {
		_, _, err := ParseExpiry(tc.in)
		if err == nil || !strings.Contains(err.Error(), tc.errPart) {
			t.Errorf("ParseExpiry(%#v) error = %v, want one containing %q", tc.in, err, tc.errPart)
		}
	}
}

func TestConfig(t *testing.T) {
	def := DefaultConfig()
	if err := def.Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	s, _ := def.settings()
	if s.maxPage != 50 || s.defaultPage != 20 || s.policy != policyAlways || s.expiry != 7*24*time.Hour || s.never ||
		s.interval != 4*time.Hour || s.maxItems != 0 || len(s.dontNS) != 1 || !s.dontNS[NSChatStates] {
		t.Errorf("default settings %+v", s)
	}
	tests := []struct {
		name    string
		mod     func(*Config)
		errPart string // "" = valid
	}{
		{"policy false", func(c *Config) { c.DefaultArchivePolicy = false }, ""},
		{"policy roster", func(c *Config) { c.DefaultArchivePolicy = "roster" }, ""},
		{"policy other string", func(c *Config) { c.DefaultArchivePolicy = "always" }, `default_archive_policy = "always"`},
		{"policy number", func(c *Config) { c.DefaultArchivePolicy = int64(1) }, "default_archive_policy = 1 (int64)"},
		{"policy missing", func(c *Config) { c.DefaultArchivePolicy = nil }, "default_archive_policy = <nil>"},
		{"max zero", func(c *Config) { c.MaxArchiveQueryResults = 0 }, "max_archive_query_results = 0"},
		{"page zero", func(c *Config) { c.DefaultPageSize = 0 }, "default_page_size = 0"},
		{"page above max", func(c *Config) { c.MaxArchiveQueryResults = 10 }, "default_page_size = 20 exceeds max_archive_query_results = 10"},
		{"page equal max", func(c *Config) { c.MaxArchiveQueryResults = 20 }, ""},
		{"expiry never", func(c *Config) { c.ArchiveExpiresAfter = "never" }, ""},
		{"expiry int", func(c *Config) { c.ArchiveExpiresAfter = int64(86400) }, ""},
		{"expiry bad", func(c *Config) { c.ArchiveExpiresAfter = "1 fortnight" }, "archive_expires_after: period \"1 fortnight\""},
		{"interval string", func(c *Config) { c.ArchiveCleanupInterval = "1h" }, ""},
		{"interval never", func(c *Config) { c.ArchiveCleanupInterval = "never" }, "archive_cleanup_interval"},
		{"interval zero", func(c *Config) { c.ArchiveCleanupInterval = 0 }, "archive_cleanup_interval: period 0 must be positive"},
		{"max items negative", func(c *Config) { c.ArchiveMaxItems = -1 }, "archive_max_items = -1"},
		{"max items set", func(c *Config) { c.ArchiveMaxItems = 10000 }, ""},
		{"no dont-archive", func(c *Config) { c.DontArchiveNamespaces = nil }, ""},
		{"dont-archive empty ns", func(c *Config) { c.DontArchiveNamespaces = []string{""} }, "dont_archive_namespaces"},
		{"dont-archive client ns", func(c *Config) { c.DontArchiveNamespaces = []string{"jabber:client"} }, "dont_archive_namespaces"},
	}
	for _, tc := range tests {
		c := DefaultConfig()
		tc.mod(&c)
		err := c.Validate()
		switch {
		case tc.errPart == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.errPart != "" && (err == nil || !strings.Contains(err.Error(), tc.errPart)):
			t.Errorf("%s: error %v, want one containing %q", tc.name, err, tc.errPart)
		}
		if _, nerr := New(c, nil, nil, testSecret, nil); tc.errPart != "" && nerr == nil {
			t.Errorf("%s: New accepted an invalid config", tc.name)
		}
	}
}

func TestNewChecks(t *testing.T) {
	e := newEnv(t, DefaultConfig())
	if _, err := New(DefaultConfig(), e.mem, e.mem, []byte("short"), nil); err == nil {
		t.Error("short secret accepted")
	}
	if _, err := New(DefaultConfig(), nil, e.mem, testSecret, nil); err == nil {
		t.Error("nil store accepted")
	}
	m, err := New(DefaultConfig(), e.mem, e.mem, testSecret, nil)
	if err != nil || m.Name() != "mam" {
		t.Errorf("New = %v, %v", m, err)
	}
}

func TestIDCodec(t *testing.T) {
	c, err := newIDCodec(testSecret)
	if err != nil {
		t.Fatal(err)
	}
	other, _ := newIDCodec([]byte("another secret, 16+ bytes"))
	seen := map[string]bool{}
	for _, n := range []int64{1, 2, 3, 255, 256, 1 << 32, 1<<63 - 1} {
		s := c.encode(n)
		if len(s) != idLen || strings.Trim(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") != "" {
			t.Errorf("encode(%d) = %q: not 22 URL-safe characters", n, s)
		}
		if seen[s] {
			t.Errorf("encode(%d) = %q repeated", n, s)
		}
		seen[s] = true
		if got, ok := c.decode(s); !ok || got != n {
			t.Errorf("decode(encode(%d)) = %d, %v", n, got, ok)
		}
		if _, ok := other.decode(s); ok {
			t.Errorf("an id of one secret decodes under another: %q", s)
		}
	}
	// Consecutive ids share no visible structure.
	a, b := c.encode(1000), c.encode(1001)
	common := 0
	for common < len(a) && a[common] == b[common] {
		common++
	}
	if common > 3 {
		t.Errorf("ids of consecutive items share a %d-character prefix: %s %s", common, a, b)
	}
	valid := c.encode(42)
	for _, s := range []string{
		"", "x", valid[:21], valid + "A", strings.Repeat("A", 22), "!!!!!!!!!!!!!!!!!!!!!!",
		valid[:21] + "B", // non-canonical trailing bits or a different block
		c.encode(0), c.encode(-1),
		"28482-98726-73623", "5d398-28273-f7382",
	} {
		if n, ok := c.decode(s); ok && s != valid {
			t.Errorf("decode(%q) = %d, want failure", s, n)
		}
	}
}

// A stored stanza that cannot be read is still listed, with its id and
// stamp, as an empty <forwarded/> (XEP-0313 "Message retention and deletion"), so paging stays
// consistent; the items around it are unaffected and stay aligned with
// their ids, whatever the broken item holds.
func TestUnreadableStoredStanza(t *testing.T) {
	e := newEnv(t, DefaultConfig())
	alice, rec := e.login("alice@example.com/a")
	for _, raw := range []string{
		`<message xmlns="jabber:client"><body>1</body></message>`,
		`<message><body>cut`,
		`<message><body>3</body></message><message><body>extra</body></message>`,
		`<message><body>4</body></message><sep xmlns="urn:skald:mam:page" n="` + e.m.sepNonce + `3"/><message><body>x</body></message>`,
		`<iq/>`,
		`<message><body>6</body></message>`,
		`<message xmlns="jabber:client"><body>7</body></message>`,
	} {
		it := &storage.ArchivedMessage{Owner: "alice@example.com", With: "bob@example.com", Stamp: t0, Stanza: []byte(raw)}
		if err := e.mem.AppendArchive(e.ctx, []*storage.ArchivedMessage{it}); err != nil {
			t.Fatal(err)
		}
	}
	res, _ := e.query(alice, rec, "", "")
	var want []string
	for i, body := range []string{"1", "", "", "", "", "6", "7"} {
		msg := ""
		if body != "" {
			msg = `<message xmlns='jabber:client'><body>` + body + `</body></message>`
		}
		want = append(want, fmt.Sprintf(`<message to='alice@example.com/a' from='alice@example.com' id='r%d'>
			<result xmlns='urn:xmpp:mam:2' queryid='f' id='%s'><forwarded xmlns='urn:xmpp:forward:0'>
			<delay xmlns='urn:xmpp:delay' stamp='2024-01-02T03:04:05.123456Z'/>%s</forwarded></result></message>`, i+1, e.id(int64(i+1)), msg))
	}
	wantXML(t, res, want...)
	for _, b := range []string{`<iq/>`, `<message xmlns="urn:x"/>`, ``, `</s><message/>`, `<message/><message/>`, `<message/>text`} {
		if _, err := decodeStanza([]byte(b)); err == nil {
			t.Errorf("decodeStanza(%q) succeeded", b)
		}
	}
}

// The [mam] section as an operator writes it decodes into Config, over
// the defaults, with TOML's own types in the 'any' fields.
func TestConfigTOML(t *testing.T) {
	tests := []struct {
		doc     string
		check   func(settings) bool
		errPart string
	}{
		{``, func(s settings) bool {
			return s.policy == policyAlways && s.expiry == 7*24*time.Hour && s.dontNS[NSChatStates]
		}, ""},
		{`default_archive_policy = false`, func(s settings) bool { return s.policy == policyNever }, ""},
		{`default_archive_policy = "roster"`, func(s settings) bool { return s.policy == policyRoster }, ""},
		{`default_archive_policy = "yes"`, nil, `default_archive_policy = "yes"`},
		{`archive_expires_after = 86400`, func(s settings) bool { return s.expiry == 24*time.Hour }, ""},
		{`archive_expires_after = "90 days"`, func(s settings) bool { return s.expiry == 90*24*time.Hour }, ""},
		{`archive_expires_after = "never"`, func(s settings) bool { return s.never }, ""},
		{`archive_expires_after = 1.5`, nil, "whole number"},
		{`archive_cleanup_interval = "30min"`, func(s settings) bool { return s.interval == 30*time.Minute }, ""},
		{`archive_cleanup_interval = 600`, func(s settings) bool { return s.interval == 10*time.Minute }, ""},
		{"max_archive_query_results = 100\ndefault_page_size = 100", func(s settings) bool { return s.maxPage == 100 && s.defaultPage == 100 }, ""},
		{`archive_max_items = 5000`, func(s settings) bool { return s.maxItems == 5000 }, ""},
		{`dont_archive_namespaces = []`, func(s settings) bool { return len(s.dontNS) == 0 }, ""},
		{`dont_archive_namespaces = ["urn:a", "urn:b"]`, func(s settings) bool { return len(s.dontNS) == 2 && s.dontNS["urn:a"] }, ""},
	}
	for _, tc := range tests {
		var file struct {
			MAM Config `toml:"mam"`
		}
		file.MAM = DefaultConfig()
		if _, err := toml.Decode("[mam]\n"+tc.doc, &file); err != nil {
			t.Fatalf("%q: %v", tc.doc, err)
		}
		s, err := file.MAM.settings()
		switch {
		case tc.errPart != "":
			if err == nil || !strings.Contains(err.Error(), tc.errPart) {
				t.Errorf("%q: error %v, want %q", tc.doc, err, tc.errPart)
			}
		case err != nil:
			t.Errorf("%q: %v", tc.doc, err)
		case !tc.check(s):
			t.Errorf("%q: settings %+v", tc.doc, s)
		}
	}
}

func TestParseRSM(t *testing.T) {
	tests := []struct {
		inner, want string // want: %+v of the RSM, or the error
	}{
		{``, "{Max:0 HasMax:false After: Before: HasBefore:false Index:0 HasIndex:false}"},
		{`<max>10</max>`, "{Max:10 HasMax:true After: Before: HasBefore:false Index:0 HasIndex:false}"},
		{`<max> +7 </max><index>0</index>`, "{Max:7 HasMax:true After: Before: HasBefore:false Index:0 HasIndex:true}"},
		{`<max>2147483647</max>`, "{Max:2147483647 HasMax:true After: Before: HasBefore:false Index:0 HasIndex:false}"},
		{`<after> a </after><before/>`, "{Max:0 HasMax:false After:a Before: HasBefore:true Index:0 HasIndex:false}"},
		{`<before>b</before><first>x</first><count>3</count><foo xmlns='urn:x'/>`, "{Max:0 HasMax:false After: Before:b HasBefore:true Index:0 HasIndex:false}"},
		{`<max>2147483648</max>`, "bad-request"},
		{`<max>-1</max>`, "bad-request"},
		{`<max>-0</max>`, "bad-request"},
		{`<max/>`, "bad-request"},
		{`<max>1e3</max>`, "bad-request"},
		{`<max>++1</max>`, "bad-request"},
		{`<index>x</index>`, "bad-request"},
		{`<max>1</max><max>1</max>`, "bad-request"},
		{`<index>1</index><index>1</index>`, "bad-request"},
		{`<after>a</after><after>a</after>`, "bad-request"},
		{`<before/><before/>`, "bad-request"},
	}
	for _, tc := range tests {
		r, err := ParseRSM(parseXML(t, `<set xmlns='http://jabber.org/protocol/rsm'>`+tc.inner+`</set>`))
		got := fmt.Sprintf("%+v", r)
		if err != nil {
			got = string(asStanzaErr(t, err).Condition)
		}
		if got != tc.want {
			t.Errorf("%s: got %s, want %s", tc.inner, got, tc.want)
		}
	}
}
