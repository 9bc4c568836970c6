package jid

import (
	"errors"
	"net/netip"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/idna"
	"golang.org/x/text/secure/precis"
)

// MaxPartLen is the maximum length in octets of each of the localpart,
// domainpart and resourcepart after enforcement (RFC 7622 §3.2, §3.3, §3.4).
const MaxPartLen = 1023

// maxLen is the longest possible canonical JID string.
const maxLen = 3*MaxPartLen + 2

// ErrInvalid is wrapped by every error that reports an invalid JID or JID
// part, so callers can test for it with errors.Is.
var ErrInvalid = errors.New("jid: invalid address")

// JID is an XMPP address in canonical (prepared and enforced) form.
//
// The zero value is the empty JID, which has no parts; it is not a valid
// address but is useful as "no JID". JID values are comparable: two JIDs
// are == exactly when they denote the same address, so they can be used as
// map keys.
type JID struct {
	// s is the canonical string form: [local "@"] domain ["/" resource].
	s string
	// dom and end delimit the domainpart in s: s[dom:end]. The localpart,
	// if any, is s[:dom-1] and the resourcepart, if any, is s[end+1:].
	// Both fit in uint16 since len(s) <= maxLen.
	dom, end uint16
}

// Error is the error type returned for invalid JIDs. It wraps ErrInvalid
// and, where there is one, the underlying PRECIS, IDNA or IP parse error.
type Error struct {
	Part   string // "localpart", "domainpart", "resourcepart" or "address"
	Reason string
	Err    error // underlying error, may be nil
}

func (e *Error) Error() string {
	msg := "jid: invalid " + e.Part + ": " + e.Reason
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Unwrap returns ErrInvalid and the underlying error, if any.
func (e *Error) Unwrap() []error {
	if e.Err != nil {
		return []error{ErrInvalid, e.Err}
	}
	return []error{ErrInvalid}
}

func invalid(part, reason string, err error) error {
	return &Error{Part: part, Reason: reason, Err: err}
}

// idnaProfile maps (UTS #46: width, case, NFC, full stops) and validates
// (IDNA2008 label rules, STD3 LDH for ASCII, Bidi and ContextJ rules) a
// domain name. ToUnicode also converts A-labels to U-labels, which RFC 7622
// §3.2.2 requires. DNS length limits are deliberately not enforced.
var idnaProfile = idna.New(
	idna.MapForLookup(),
	idna.BidiRule(),
	idna.Transitional(false),
	idna.VerifyDNSLength(false),
	idna.RemoveLeadingDots(false),
)

// Character classes for the ASCII fast path.
const (
	cLocal = 1 << iota // allowed in a canonical localpart
	cUpper             // A-Z: allowed in local and domain, but must be lowered
	cLDH               // a-z, 0-9, '-': allowed in a canonical domain label
	cRes               // allowed in a canonical resourcepart
)

var asciiClass = func() (t [256]uint8) {
	for c := 0x20; c < 0x7f; c++ {
		t[c] |= cRes
		if c == ' ' || strings.IndexByte(`"&'/:<>@`, byte(c)) >= 0 {
			continue
		}
		if 'A' <= c && c <= 'Z' {
			t[c] |= cUpper
			continue
		}
		t[c] |= cLocal
		if 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' {
			t[c] |= cLDH
		}
	}
	return t
}()

// Parse parses, validates and normalises s as a JID per RFC 7622.
func Parse(s string) (JID, error) {
	if j, ok := parseFast(s); ok {
		return j, nil
	}
	return parse(s, true)
}

// MustParse is like Parse but panics if s is not a valid JID. It is meant
// for tests and package-level constants.
func MustParse(s string) JID {
	j, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return j
}

// New builds a JID from its parts, validating and normalising each of them.
// local and resource may be empty, meaning the part is absent; domain is
// required. Unlike Parse, New does not interpret separators: a "/" or "@" in
// local or domain is an error, while resource may contain both.
func New(local, domain, resource string) (JID, error) {
	var err error
	l, r := "", ""
	if local != "" {
		if l, err = localpart(local, true); err != nil {
			return JID{}, err
		}
	}
	d, err := domainpart(domain, true)
	if err != nil {
		return JID{}, err
	}
	if resource != "" {
		if r, err = resourcepart(resource, true); err != nil {
			return JID{}, err
		}
	}
	return assemble("", l, d, r, resource != ""), nil
}

// split splits s into its raw parts per RFC 7622 §3.1.
func split(s string) (local, domain, resource string, hasAt, hasRes bool) {
	domain = s
	if i := strings.IndexByte(s, '/'); i >= 0 {
		domain, resource, hasRes = s[:i], s[i+1:], true
	}
	if i := strings.IndexByte(domain, '@'); i >= 0 {
		local, domain, hasAt = domain[:i], domain[i+1:], true
	}
	return
}

// parse is the general path. With fast false it never uses the ASCII
// shortcuts, which lets tests check those against the PRECIS/IDNA code.
func parse(s string, fast bool) (JID, error) {
	if s == "" {
		return JID{}, invalid("address", "empty", nil)
	}
	local, domain, res, hasAt, hasRes := split(s)
	var (
		l, d, r string
		err     error
	)
	if hasAt {
		if local == "" {
			return JID{}, invalid("localpart", "empty with '@' present", nil)
		}
		if l, err = localpart(local, fast); err != nil {
			return JID{}, err
		}
	}
	if d, err = domainpart(domain, fast); err != nil {
		return JID{}, err
	}
	if hasRes {
		if res == "" {
			return JID{}, invalid("resourcepart", "empty with '/' present", nil)
		}
		if r, err = resourcepart(res, fast); err != nil {
			return JID{}, err
		}
	}
	return assemble(s, l, d, r, hasRes), nil
}

// parseFast handles strings made of ASCII characters that need neither
// PRECIS nor IDNA processing. It reports false for anything else (including
// invalid input), leaving the decision to the general path. If s is already
// canonical it returns a JID sharing s without allocating.
func parseFast(s string) (JID, bool) {
	if len(s) == 0 || len(s) > maxLen+1 {
		return JID{}, false
	}
	local, domain, res, hasAt, hasRes := split(s)
	upper := false

	if hasAt {
		if len(local) == 0 || len(local) > MaxPartLen {
			return JID{}, false
		}
		for i := 0; i < len(local); i++ {
			c := asciiClass[local[i]]
			if c&cLocal == 0 {
				if c&cUpper == 0 {
					return JID{}, false
				}
				upper = true
			}
		}
	}

	dot := false
	if n := len(domain); n > 0 && domain[n-1] == '.' {
		domain, dot = domain[:n-1], true
	}
	if len(domain) == 0 || len(domain) > MaxPartLen {
		return JID{}, false
	}
	ok, up := checkLDH(domain)
	if !ok {
		return JID{}, false
	}
	upper = upper || up

	if hasRes {
		if len(res) == 0 || len(res) > MaxPartLen {
			return JID{}, false
		}
		for i := 0; i < len(res); i++ {
			if asciiClass[res[i]]&cRes == 0 {
				return JID{}, false
			}
		}
	}

	if !upper && !dot {
		// Already canonical.
		j := JID{s: s, dom: uint16(len(s) - len(res) - len(domain))}
		if hasRes {
			j.dom--
		}
		j.end = j.dom + uint16(len(domain))
		return j, true
	}
	// Build the canonical form in a single allocation.
	var b strings.Builder
	n := len(domain)
	if hasAt {
		n += len(local) + 1
	}
	if hasRes {
		n += len(res) + 1
	}
	b.Grow(n)
	var j JID
	if hasAt {
		writeLower(&b, local)
		b.WriteByte('@')
		j.dom = uint16(len(local) + 1)
	}
	writeLower(&b, domain)
	j.end = j.dom + uint16(len(domain))
	if hasRes {
		b.WriteByte('/')
		b.WriteString(res)
	}
	j.s = b.String()
	return j, true
}

// writeLower writes s to b with ASCII letters lowercased.
func writeLower(b *strings.Builder, s string) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		b.WriteByte(c)
	}
}

// lowerASCII lowercases ASCII letters, allocating only if there are any
// uppercase ones.
func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if 'A' <= b[j] && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// assemble builds a JID from canonical parts, reusing orig as the string
// if it already is the canonical form.
func assemble(orig, l, d, r string, hasRes bool) JID {
	n := len(d)
	if l != "" {
		n += len(l) + 1
	}
	if hasRes {
		n += len(r) + 1
	}
	var j JID
	if len(orig) == n && matches(orig, l, d, r, hasRes) {
		j.s = orig
	} else {
		var b strings.Builder
		b.Grow(n)
		if l != "" {
			b.WriteString(l)
			b.WriteByte('@')
		}
		b.WriteString(d)
		if hasRes {
			b.WriteByte('/')
			b.WriteString(r)
		}
		j.s = b.String()
	}
	if l != "" {
		j.dom = uint16(len(l) + 1)
	}
	j.end = j.dom + uint16(len(d))
	return j
}

// matches reports whether s (of the right total length) is l@d/r.
func matches(s, l, d, r string, hasRes bool) bool {
	if l != "" {
		if s[:len(l)] != l || s[len(l)] != '@' {
			return false
		}
		s = s[len(l)+1:]
	}
	if s[:len(d)] != d {
		return false
	}
	if hasRes {
		return s[len(d)] == '/' && s[len(d)+1:] == r
	}
	return true
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// localpart enforces the UsernameCaseMapped profile and the additional
// RFC 7622 §3.3.1 restrictions on s.
func localpart(s string, fast bool) (string, error) {
	const part = "localpart"
	if s == "" {
		return "", invalid(part, "empty", nil)
	}
	if fast && len(s) <= MaxPartLen {
		ok := true
		for i := 0; i < len(s); i++ {
			if asciiClass[s[i]]&(cLocal|cUpper) == 0 {
				ok = false
				break
			}
		}
		if ok {
			return lowerASCII(s), nil
		}
	}
	if !utf8.ValidString(s) {
		return "", invalid(part, "invalid UTF-8", nil)
	}
	out, err := precis.UsernameCaseMapped.String(s)
	if err != nil {
		return "", invalid(part, "PRECIS UsernameCaseMapped enforcement failed", err)
	}
	if out != s && !isASCII(out) {
		// Guard against non-idempotent enforcement so that
		// Parse(j.String()) always yields j.
		if again, err := precis.UsernameCaseMapped.String(out); err != nil || again != out {
			return "", invalid(part, "PRECIS enforcement is not stable", err)
		}
	}
	if out == "" {
		return "", invalid(part, "empty after enforcement", nil)
	}
	if len(out) > MaxPartLen {
		return "", invalid(part, "longer than 1023 octets", nil)
	}
	if i := strings.IndexAny(out, `"&'/:<>@`); i >= 0 {
		return "", invalid(part, "contains forbidden character "+string(out[i]), nil)
	}
	return out, nil
}

// domainpart prepares and enforces s as a domainpart (RFC 7622 §3.2).
func domainpart(s string, fast bool) (string, error) {
	const part = "domainpart"
	if n := len(s); n > 0 && s[n-1] == '.' {
		s = s[:n-1]
	}
	if s == "" {
		return "", invalid(part, "empty", nil)
	}
	if s[0] == '[' {
		return ipv6Literal(s)
	}
	if fast {
		if out, ok := asciiDomain(s); ok {
			return out, nil
		}
	}
	if !utf8.ValidString(s) {
		return "", invalid(part, "invalid UTF-8", nil)
	}
	out, err := idnaProfile.ToUnicode(s)
	if err != nil {
		return "", invalid(part, "IDNA processing failed", err)
	}
	if out == "" || out[0] == '.' || out[len(out)-1] == '.' || strings.Contains(out, "..") {
		return "", invalid(part, "empty label", nil)
	}
	if out != s {
		if again, err := idnaProfile.ToUnicode(out); err != nil || again != out {
			return "", invalid(part, "IDNA processing is not stable", err)
		}
	}
	if len(out) > MaxPartLen {
		return "", invalid(part, "longer than 1023 octets", nil)
	}
	return out, nil
}

// asciiDomain is the fast path for LDH domain names.
func asciiDomain(s string) (string, bool) {
	if len(s) > MaxPartLen {
		return "", false
	}
	if ok, _ := checkLDH(s); !ok {
		return "", false
	}
	return lowerASCII(s), true
}

// checkLDH reports whether s is a dot-separated sequence of LDH labels that
// IDNA processing would leave unchanged apart from lowercasing, and whether
// it contains uppercase letters. Empty labels, leading or trailing hyphens
// and hyphens in the third and fourth positions (which includes A-labels)
// make it report false, leaving the decision to the IDNA code.
func checkLDH(s string) (ok, upper bool) {
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == '.' {
			label := s[start:i]
			n := len(label)
			if n == 0 || label[0] == '-' || label[n-1] == '-' ||
				n >= 4 && label[2] == '-' && label[3] == '-' {
				return false, false
			}
			start = i + 1
			continue
		}
		c := asciiClass[s[i]]
		if c&cLDH == 0 {
			if c&cUpper == 0 {
				return false, false
			}
			upper = true
		}
	}
	return true, upper
}

// ipv6Literal validates and canonicalises a bracketed IPv6 address.
func ipv6Literal(s string) (string, error) {
	const part = "domainpart"
	if len(s) < 2 || s[len(s)-1] != ']' {
		return "", invalid(part, "unterminated IPv6 literal", nil)
	}
	addr, err := netip.ParseAddr(s[1 : len(s)-1])
	if err != nil {
		return "", invalid(part, "bad IPv6 literal", err)
	}
	if !addr.Is6() || addr.Zone() != "" {
		return "", invalid(part, "bad IPv6 literal", nil)
	}
	var buf [64]byte
	b := append(buf[:0], '[')
	b = addr.AppendTo(b)
	b = append(b, ']')
	if string(b) == s {
		return s, nil
	}
	return string(b), nil
}

// resourcepart enforces the OpaqueString profile on s (RFC 7622 §3.4).
func resourcepart(s string, fast bool) (string, error) {
	const part = "resourcepart"
	if s == "" {
		return "", invalid(part, "empty", nil)
	}
	if fast && len(s) <= MaxPartLen {
		ok := true
		for i := 0; i < len(s); i++ {
			if asciiClass[s[i]]&cRes == 0 {
				ok = false
				break
			}
		}
		if ok {
			return s, nil
		}
	}
	if !utf8.ValidString(s) {
		return "", invalid(part, "invalid UTF-8", nil)
	}
	out, err := precis.OpaqueString.String(s)
	if err != nil {
		return "", invalid(part, "PRECIS OpaqueString enforcement failed", err)
	}
	if out != s {
		if again, err := precis.OpaqueString.String(out); err != nil || again != out {
			return "", invalid(part, "PRECIS enforcement is not stable", err)
		}
	}
	if out == "" {
		return "", invalid(part, "empty after enforcement", nil)
	}
	if len(out) > MaxPartLen {
		return "", invalid(part, "longer than 1023 octets", nil)
	}
	return out, nil
}

// Local returns the localpart, or "" if there is none.
func (j JID) Local() string {
	if j.dom == 0 {
		return ""
	}
	return j.s[:j.dom-1]
}

// Domain returns the domainpart.
func (j JID) Domain() string { return j.s[j.dom:j.end] }

// Resource returns the resourcepart, or "" if there is none.
func (j JID) Resource() string {
	if int(j.end) >= len(j.s) {
		return ""
	}
	return j.s[j.end+1:]
}

// Bare returns j without its resourcepart. It does not allocate.
func (j JID) Bare() JID {
	return JID{s: j.s[:j.end], dom: j.dom, end: j.end}
}

// DomainJID returns the JID consisting only of j's domainpart. It does not
// allocate.
func (j JID) DomainJID() JID {
	return JID{s: j.s[j.dom:j.end], end: j.end - j.dom}
}

// WithResource returns a copy of j with its resourcepart replaced by r,
// which is validated and normalised. An empty r yields the bare JID. It is
// an error to call WithResource on the zero JID.
func (j JID) WithResource(r string) (JID, error) {
	if j.IsZero() {
		return JID{}, invalid("address", "no domainpart", nil)
	}
	if r == "" {
		return j.Bare(), nil
	}
	rr, err := resourcepart(r, true)
	if err != nil {
		return JID{}, err
	}
	return JID{s: j.s[:j.end] + "/" + rr, dom: j.dom, end: j.end}, nil
}

// IsZero reports whether j is the zero JID.
func (j JID) IsZero() bool { return j.s == "" }

// IsBare reports whether j is a non-zero JID without a resourcepart.
func (j JID) IsBare() bool { return j.s != "" && int(j.end) == len(j.s) }

// IsFull reports whether j has a resourcepart.
func (j JID) IsFull() bool { return int(j.end) < len(j.s) }

// String returns the canonical string form local@domain/resource (omitting
// absent parts). It does not allocate.
func (j JID) String() string { return j.s }

// Equal reports whether j and o are the same address. It is equivalent to
// j == o.
func (j JID) Equal(o JID) bool { return j == o }

// AppendText implements encoding.TextAppender.
func (j JID) AppendText(b []byte) ([]byte, error) { return append(b, j.s...), nil }

// MarshalText implements encoding.TextMarshaler. The zero JID marshals as
// empty text.
func (j JID) MarshalText() ([]byte, error) { return []byte(j.s), nil }

// UnmarshalText implements encoding.TextUnmarshaler. Empty text yields the
// zero JID.
func (j *JID) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*j = JID{}
		return nil
	}
	p, err := Parse(string(b))
	if err != nil {
		return err
	}
	*j = p
	return nil
}
