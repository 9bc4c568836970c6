package jid

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

type validCase struct {
	in                     string
	local, domain, resouce string
}

var validCases = []validCase{
	// RFC 7622 §3.5 examples of valid JIDs.
	{"juliet@example.com", "juliet", "example.com", ""},
	{"juliet@example.com/foo", "juliet", "example.com", "foo"},
	{"juliet@example.com/foo bar", "juliet", "example.com", "foo bar"},
	{"juliet@example.com/foo@bar", "juliet", "example.com", "foo@bar"},
	{`foo\20bar@example.com`, `foo\20bar`, "example.com", ""},
	{"fussball@example.com", "fussball", "example.com", ""},
	{"fußball@example.com", "fußball", "example.com", ""},
	{"π@example.com", "π", "example.com", ""},
	{"Σ@example.com/foo", "σ", "example.com", "foo"},
	{"σ@example.com/foo", "σ", "example.com", "foo"},
	{"ς@example.com/foo", "ς", "example.com", "foo"},
	{"king@example.com/♚", "king", "example.com", "♚"},
	{"example.com", "", "example.com", ""},
	{"example.com/foobar", "", "example.com", "foobar"},
	{"a.example.com/b@example.net", "", "a.example.com", "b@example.net"},

	// Case and width mapping, normalisation.
	{"Juliet@Example.COM", "juliet", "example.com", ""},
	{"Juliet@Example.COM/Balcony", "juliet", "example.com", "Balcony"},
	{"JULIET@example.com", "juliet", "example.com", ""},
	{"juliet@EXAMPLE.com", "juliet", "example.com", ""},
	{"\u00e9lise@example.com", "\u00e9lise", "example.com", ""},
	{"e\u0301lise@example.com", "\u00e9lise", "example.com", ""},
	{"\u00c9lise@example.com", "\u00e9lise", "example.com", ""},
	{"ＪＵＬＩＥＴ@example.com", "juliet", "example.com", ""},
	{"juliet@ＥＸＡＭＰＬＥ.com", "juliet", "example.com", ""},
	{"juliet@example。com", "juliet", "example.com", ""},
	{"juliet@example.com/e\u0301", "juliet", "example.com", "\u00e9"},
	{"juliet@example.com/a\u00a0b", "juliet", "example.com", "a b"},
	{"juliet@example.com/ ", "juliet", "example.com", " "},

	// IDNs: A-labels become U-labels.
	{"juliet@xn--bcher-kva.example", "juliet", "bücher.example", ""},
	{"juliet@Bücher.example", "juliet", "bücher.example", ""},
	{"juliet@bücher.example", "juliet", "bücher.example", ""},
	{"juliet@\u2163.com", "juliet", "iv.com", ""}, // UTS #46 compatibility mapping

	// Trailing dot.
	{"example.com.", "", "example.com", ""},
	{"juliet@example.com./r", "juliet", "example.com", "r"},
	{"Juliet@Example.com./r", "juliet", "example.com", "r"},

	// IP literals.
	{"juliet@[::1]", "juliet", "[::1]", ""},
	{"juliet@[::1]/res", "juliet", "[::1]", "res"},
	{"[0:0:0:0:0:0:0:1]", "", "[::1]", ""},
	{"[2001:DB8::1]/x", "", "[2001:db8::1]", "x"},
	{"[::ffff:192.0.2.1]", "", "[::ffff:192.0.2.1]", ""},
	{"juliet@192.0.2.1", "juliet", "192.0.2.1", ""},

	// Separators inside the resourcepart.
	{"a@b/c/d", "a", "b", "c/d"},
	{"d/r@x", "", "d", "r@x"},
	{"d/@", "", "d", "@"},
	{"a@d//", "a", "d", "/"},

	// Punctuation allowed in localparts.
	{"a.b-c_d+e!#$%*=?^`{|}~@example.com", "a.b-c_d+e!#$%*=?^`{|}~", "example.com", ""},
	{"user@localhost", "user", "localhost", ""},
	{"ab--@example.com", "ab--", "example.com", ""},

	// Length limits.
	{strings.Repeat("a", MaxPartLen) + "@example.com", strings.Repeat("a", MaxPartLen), "example.com", ""},
	{"example.com/" + strings.Repeat("r", MaxPartLen), "", "example.com", strings.Repeat("r", MaxPartLen)},
	{longDomain(MaxPartLen), "", longDomain(MaxPartLen), ""},
	{longDomain(MaxPartLen) + ".", "", longDomain(MaxPartLen), ""},
	// 1023 é (2 octets each) written decomposed (3 octets each).
	{strings.Repeat("e\u0301", 511) + "@d", strings.Repeat("\u00e9", 511), "d", ""},
}

// longDomain returns an LDH domain name of exactly n octets.
func longDomain(n int) string {
	k := (n - 1) / 63
	return strings.Repeat(strings.Repeat("a", 62)+".", k) + strings.Repeat("a", n-63*k)
}

var invalidCases = []string{
	// RFC 7622 §3.5 examples of invalid JIDs.
	`"juliet"@example.com`,
	"foo bar@example.com",
	"henry\u2163@example.com",
	"♚@example.com",
	"juliet@",
	"/foobar",

	// Empty parts.
	"",
	"@example.com",
	"example.com/",
	"juliet@example.com/",
	"@",
	"/",
	"@/",
	"a@/r",
	".",
	"a@.",
	"a@./r",

	// Forbidden localpart characters (§3.3.1).
	"jul&iet@example.com",
	"jul'iet@example.com",
	"jul:iet@example.com",
	"<juliet>@example.com",
	"a＠b@example.com", // fullwidth @ maps to @
	"a／b@example.com", // fullwidth / maps to /
	"a＜b@example.com",

	// Bad localpart code points.
	"\x00@example.com",
	"a\tb@example.com",
	"\xff@example.com",
	"a\u200bb@example.com",
	"a\u00a0b@example.com",

	// Bad domainparts.
	"a@b@c",
	"juliet@exa mple.com",
	"juliet@example..com",
	"juliet@.example.com",
	"juliet@example.com..",
	"juliet@-example.com",
	"juliet@example-.com",
	"juliet@ex_ample.com",
	"juliet@ab--cd.com",
	"juliet@xn--.com",
	"juliet@xn--abc.com", // decodes to ASCII
	"juliet@example.com\x00",
	"juliet@\xff",
	"juliet@exa＠mple.com",
	"juliet@exa／mple.com",

	// Bad IP literals.
	"juliet@[::1",
	"juliet@::1",
	"juliet@[]",
	"juliet@[192.0.2.1]",
	"juliet@[fe80::1%eth0]",
	"juliet@[zz]",
	"juliet@[::1]x",

	// Bad resourceparts.
	"juliet@example.com/\x00",
	"juliet@example.com/a\tb",
	"juliet@example.com/\u202e",
	"juliet@example.com/\xff",

	// Length limits.
	strings.Repeat("a", MaxPartLen+1) + "@example.com",
	"example.com/" + strings.Repeat("r", MaxPartLen+1),
	longDomain(MaxPartLen + 1),
	strings.Repeat("\u00e9", 512) + "@d",
}

func checkJID(t *testing.T, j JID, want validCase) {
	t.Helper()
	if j.Local() != want.local || j.Domain() != want.domain || j.Resource() != want.resouce {
		t.Errorf("%q: got parts (%q, %q, %q), want (%q, %q, %q)", want.in,
			j.Local(), j.Domain(), j.Resource(), want.local, want.domain, want.resouce)
	}
	s := want.domain
	if want.local != "" {
		s = want.local + "@" + s
	}
	if want.resouce != "" {
		s += "/" + want.resouce
	}
	if j.String() != s {
		t.Errorf("%q: String() = %q, want %q", want.in, j.String(), s)
	}
	if j.IsZero() || j.IsFull() != (want.resouce != "") || j.IsBare() == j.IsFull() {
		t.Errorf("%q: IsZero=%v IsFull=%v IsBare=%v", want.in, j.IsZero(), j.IsFull(), j.IsBare())
	}
}

func TestParseValid(t *testing.T) {
	for _, tc := range validCases {
		j, err := Parse(tc.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", tc.in, err)
			continue
		}
		checkJID(t, j, tc)

		// The general path without ASCII shortcuts agrees.
		slow, err := parse(tc.in, false)
		if err != nil || slow != j {
			t.Errorf("parse(%q, slow) = %q, %v; want %q", tc.in, slow, err, j)
		}

		// Idempotence.
		j2, err := Parse(j.String())
		if err != nil || j2 != j {
			t.Errorf("Parse(%q) = %q, %v; want %q", j.String(), j2, err, j)
		}

		// New from the parts yields the same JID.
		j3, err := New(tc.local, tc.domain, tc.resouce)
		if err != nil || j3 != j {
			t.Errorf("New(%q, %q, %q) = %q, %v; want %q", tc.local, tc.domain, tc.resouce, j3, err, j)
		}
	}
}

func TestParseInvalid(t *testing.T) {
	for _, in := range invalidCases {
		j, err := Parse(in)
		if err == nil {
			t.Errorf("Parse(%q) = %q, want error", in, j)
			continue
		}
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("Parse(%q) error %v does not wrap ErrInvalid", in, err)
		}
		var e *Error
		if !errors.As(err, &e) {
			t.Errorf("Parse(%q) error %T is not *Error", in, err)
		}
		if !j.IsZero() {
			t.Errorf("Parse(%q) returned non-zero JID %q with error", in, j)
		}
		if _, err := parse(in, false); err == nil {
			t.Errorf("parse(%q, slow) succeeded", in)
		}
	}
}

func TestMustParse(t *testing.T) {
	if got := MustParse("Juliet@Example.com"); got.String() != "juliet@example.com" {
		t.Errorf("MustParse = %q", got)
	}
	defer func() {
		if recover() == nil {
			t.Error("MustParse of invalid JID did not panic")
		}
	}()
	MustParse("@example.com")
}

func TestNew(t *testing.T) {
	tests := []struct {
		local, domain, resource string
		want                    string // "" means error
	}{
		{"juliet", "example.com", "balcony", "juliet@example.com/balcony"},
		{"Juliet", "Example.COM.", "", "juliet@example.com"},
		{"", "example.com", "", "example.com"},
		{"", "example.com", "a/b@c", "example.com/a/b@c"},
		{"", "[::1]", "", "[::1]"},
		{"élise", "bücher.example", "é", "élise@bücher.example/é"},
		{"a/b", "example.com", "", ""},
		{"a@b", "example.com", "", ""},
		{"juliet", "", "", ""},
		{"juliet", "a@b", "", ""},
		{"juliet", "a/b", "", ""},
		{"juliet", "example.com", "\x00", ""},
		{"a b", "example.com", "", ""},
	}
	for _, tc := range tests {
		j, err := New(tc.local, tc.domain, tc.resource)
		if tc.want == "" {
			if err == nil || !errors.Is(err, ErrInvalid) {
				t.Errorf("New(%q, %q, %q) = %q, %v; want ErrInvalid", tc.local, tc.domain, tc.resource, j, err)
			}
			continue
		}
		if err != nil || j.String() != tc.want {
			t.Errorf("New(%q, %q, %q) = %q, %v; want %q", tc.local, tc.domain, tc.resource, j, err, tc.want)
			continue
		}
		if p := MustParse(tc.want); p != j {
			t.Errorf("New(%q, %q, %q) != Parse(%q)", tc.local, tc.domain, tc.resource, tc.want)
		}
	}
}

func TestAccessors(t *testing.T) {
	full := MustParse("Juliet@Example.com/Balcony")
	bare := full.Bare()
	if bare != MustParse("juliet@example.com") || !bare.IsBare() || bare.IsFull() {
		t.Errorf("Bare() = %q", bare)
	}
	if bare.Bare() != bare {
		t.Error("Bare is not idempotent")
	}
	if d := full.DomainJID(); d != MustParse("example.com") || d.Local() != "" || d.Resource() != "" {
		t.Errorf("DomainJID() = %q", d)
	}
	if d := MustParse("example.com/r").DomainJID(); d != MustParse("example.com") {
		t.Errorf("DomainJID() = %q", d)
	}

	wr, err := bare.WithResource("Orchard")
	if err != nil || wr != MustParse("juliet@example.com/Orchard") {
		t.Errorf("WithResource = %q, %v", wr, err)
	}
	wr, err = full.WithResource("e\u0301")
	if err != nil || wr.Resource() != "\u00e9" || wr.Local() != "juliet" {
		t.Errorf("WithResource = %q, %v", wr, err)
	}
	if wr, err = full.WithResource(""); err != nil || wr != bare {
		t.Errorf("WithResource(\"\") = %q, %v", wr, err)
	}
	if _, err = full.WithResource("\x00"); !errors.Is(err, ErrInvalid) {
		t.Errorf("WithResource(NUL) err = %v", err)
	}
	if _, err = (JID{}).WithResource("r"); !errors.Is(err, ErrInvalid) {
		t.Errorf("zero.WithResource err = %v", err)
	}

	var z JID
	if !z.IsZero() || z.IsBare() || z.IsFull() || z.String() != "" ||
		z.Local() != "" || z.Domain() != "" || z.Resource() != "" || z.Bare() != z || z.DomainJID() != z {
		t.Error("zero JID accessors misbehave")
	}
	if !full.Equal(MustParse("juliet@EXAMPLE.com/Balcony")) || full.Equal(bare) {
		t.Error("Equal misbehaves")
	}
}

func TestMapKey(t *testing.T) {
	m := map[JID]int{}
	m[MustParse("Juliet@Example.com/r")] = 1
	m[MustParse("juliet@example.com./r")]++
	m[MustParse("ＪＵＬＩＥＴ@example.com/r")]++
	m[MustParse("juliet@example.com/R")]++
	m[MustParse("juliet@example.com/r").Bare()]++
	m[MustParse("juliet@example.com")]++
	if len(m) != 3 || m[MustParse("juliet@example.com/r")] != 3 || m[MustParse("juliet@example.com")] != 2 {
		t.Errorf("map = %v", m)
	}
	j, _ := New("juliet", "example.com", "r")
	w, _ := MustParse("juliet@example.com").WithResource("r")
	if j != w || m[j] != 3 {
		t.Error("JIDs built differently do not compare ==")
	}
}

func TestText(t *testing.T) {
	type cfg struct {
		Admin JID `json:"admin"`
		None  JID `json:"none"`
	}
	var c cfg
	if err := json.Unmarshal([]byte(`{"admin":"Admin@Example.com","none":""}`), &c); err != nil {
		t.Fatal(err)
	}
	if c.Admin != MustParse("admin@example.com") || !c.None.IsZero() {
		t.Errorf("unmarshal = %+v", c)
	}
	b, err := json.Marshal(c)
	if err != nil || string(b) != `{"admin":"admin@example.com","none":""}` {
		t.Errorf("marshal = %s, %v", b, err)
	}
	if err := json.Unmarshal([]byte(`{"admin":"@x"}`), &c); !errors.Is(err, ErrInvalid) {
		t.Errorf("unmarshal invalid: %v", err)
	}
	if b, _ := c.Admin.AppendText([]byte("x:")); string(b) != "x:admin@example.com" {
		t.Errorf("AppendText = %q", b)
	}
}

func TestParseAllocs(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want float64
	}{
		{"juliet@example.com/balcony", 0},
		{"juliet@example.com", 0},
		{"example.com", 0},
		{"juliet@192.0.2.1/r", 0},
		{"Juliet@Example.com/Balcony", 1},
		{"juliet@example.com./balcony", 1},
	} {
		got := testing.AllocsPerRun(100, func() {
			if _, err := Parse(tc.in); err != nil {
				t.Fatal(err)
			}
		})
		if got > tc.want {
			t.Errorf("Parse(%q): %v allocs, want <= %v", tc.in, got, tc.want)
		}
	}
	j := MustParse("juliet@example.com/balcony")
	if got := testing.AllocsPerRun(100, func() { _ = j.Bare().DomainJID().String() }); got != 0 {
		t.Errorf("Bare/DomainJID/String: %v allocs", got)
	}
}

func TestLongDomain(t *testing.T) {
	for _, n := range []int{1, 63, 64, 65, 1023, 1024} {
		if d := longDomain(n); len(d) != n || strings.HasSuffix(d, ".") {
			t.Errorf("longDomain(%d) = %d octets %q...", n, len(d), d[max(0, len(d)-5):])
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, tc := range validCases {
		f.Add(tc.in)
	}
	for _, in := range invalidCases {
		f.Add(in)
	}
	for _, s := range []string{
		"xn--bcher-kva.example", "a@xn--ls8h.la", "ᏚᎢᎵᎬᎢᎬᏒ@example.com", "ǅ@example.com",
		"ß@ß/ß", "İ@example.com", "ﬀ@ﬀ.com/ﬀ", "\u0627\u0644@example.com", "a@\u05d0.com",
		"a@\u05d01.com", "x@a\u200db.com", "[::]", "a@[::ffff:1.2.3.4]/[", "Ω@Ω/Ω",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		j, err := Parse(s)
		slow, serr := parse(s, false)
		if (err == nil) != (serr == nil) || j != slow {
			t.Fatalf("fast and slow paths disagree on %q: (%q, %v) vs (%q, %v)", s, j, err, slow, serr)
		}
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("Parse(%q) error %v does not wrap ErrInvalid", s, err)
			}
			if !j.IsZero() {
				t.Fatalf("Parse(%q) returned %q with an error", s, j)
			}
			return
		}
		str := j.String()
		if !utf8.ValidString(str) || len(str) > maxLen || j.IsZero() {
			t.Fatalf("Parse(%q) = bad string %q", s, str)
		}
		j2, err := Parse(str)
		if err != nil {
			t.Fatalf("Parse(%q) = %q, but reparsing fails: %v", s, str, err)
		}
		if j2 != j {
			t.Fatalf("Parse(%q) = %q (%q,%q,%q,%d,%d), reparsed as %q (%q,%q,%q,%d,%d)", s,
				j, j.Local(), j.Domain(), j.Resource(), j.dom, j.end,
				j2, j2.Local(), j2.Domain(), j2.Resource(), j2.dom, j2.end)
		}
		for _, p := range []string{j.Local(), j.Domain(), j.Resource()} {
			if len(p) > MaxPartLen {
				t.Fatalf("Parse(%q): part of %d octets", s, len(p))
			}
		}
		j3, err := New(j.Local(), j.Domain(), j.Resource())
		if err != nil || j3 != j {
			t.Fatalf("New(parts of %q) = %q, %v", str, j3, err)
		}
		if b := j.Bare(); b.IsFull() || b.String() != strings.SplitN(str, "/", 2)[0] {
			t.Fatalf("Bare(%q) = %q", str, b)
		}
	})
}

var sink JID

func BenchmarkParse(b *testing.B) {
	for _, bc := range []struct{ name, in string }{
		{"ascii-full", "juliet@example.com/balcony"},
		{"ascii-bare", "juliet@example.com"},
		{"ascii-domain", "conference.example.com"},
		{"ascii-upper", "Juliet@Example.COM/Balcony"},
		{"ascii-trailing-dot", "juliet@example.com./balcony"},
		{"ipv6", "juliet@[2001:db8::1]/r"},
		{"unicode-local", "\u00e9lise@example.com/balcony"},
		{"unicode-resource", "juliet@example.com/\u2654 balcony"},
		{"idn-domain", "juliet@bücher.example/r"},
		{"a-label-domain", "juliet@xn--bcher-kva.example/r"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				j, err := Parse(bc.in)
				if err != nil {
					b.Fatal(err)
				}
				sink = j
			}
		})
	}
}
