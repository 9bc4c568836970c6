package xml

import (
	"bytes"
	"math"
	"unicode/utf8"
)

// Raw is a child element kept in its serialised form, for trees that pass
// stored XML through (archived messages in MAM results) without parsing
// it only to write it again. As a Node it is a *Raw, pointer-shaped like
// *Element, so that a page of them can share one allocation.
//
// A Raw can only be made by NewRaw, which accepts nothing but this
// package's own canonical serialisation of one element with its namespace
// declared on it: writing it verbatim, wherever it sits in a tree, is
// exactly as safe as writing the element it came from, and it means the
// same under any parent's default namespace.
//
// A Raw is opaque to the tree: Child, ChildNS, Elements, ChildrenNamed and
// FirstElement do not see it, RemoveChildren keeps it, and Text ignores it
// (it is an element, not character data). Clone shares its bytes, which
// are never modified. Code that needs to look inside parses Bytes.
type Raw struct {
	b []byte
}

func (*Raw) isNode() {}

// Bytes returns the serialisation. The caller must not modify it.
func (r *Raw) Bytes() []byte { return r.b }

// NewRaw returns b as a Raw if b is, byte for byte, what WriteTo writes
// for one element named {space}local with parentNS "" (so its namespace is
// declared on it), within lim's MaxDepth and MaxAttrs as Reader counts
// them (lim's byte budget is not applied: b is in memory already). Reading
// such b back gives an element that writes b again.
//
// Anything else reports false: malformed XML, and also other spellings of
// a well-formed element (single quotes, prefixed element names, redundant
// namespace declarations, other escapes, <a></a> for <a/>, CDATA),
// element and attribute names that are not ASCII, and trees deeper or
// with more attributes than the scanner's fixed state holds (64 of each).
// The caller then parses b instead. An empty space reports false: the
// element would depend on its parent's default namespace.
//
// The check is one pass over b that does not allocate. b is kept, not
// copied: it must not be modified afterwards.
func NewRaw(b []byte, space, local string, lim Limits) (Raw, bool) {
	if space == "" || len(b) > math.MaxInt32 {
		return Raw{}, false
	}
	var s rawScanner
	s.b = b
	s.maxDepth, s.maxAttrs = rawMaxDepth, rawMaxAttrs
	if lim.MaxDepth > 0 {
		s.maxDepth = min(lim.MaxDepth, rawMaxDepth)
	}
	if lim.MaxAttrs > 0 {
		s.maxAttrs = min(lim.MaxAttrs, rawMaxAttrs)
	}
	if !s.scan(space, local) {
		return Raw{}, false
	}
	return Raw{b: b}, true
}

// rawMaxDepth and rawMaxAttrs size rawScanner's fixed state. They are at
// least DefaultLimits' values, so that what a stanza may hold on the wire
// never takes the slow path for being too large to scan.
const (
	rawMaxDepth = 64
	rawMaxAttrs = 64
)

// rawSpan is b[start:end] of the scanned input. Offsets are 32-bit to
// keep rawScanner small: Go zeroes all of it on every call.
type rawSpan struct{ start, end int32 }

// rawAttr is an attribute's expanded name as canonically written: no
// prefix, xml:, or ns<k+1>: (bound on the same element, one prefix per
// namespace), so two attributes have the same expanded name exactly when
// their rawAttrs are equal.
type rawAttr struct {
	prefix int32 // rawNoPrefix, rawXMLPrefix, or k >= 0 for ns<k+1>
	local  rawSpan
}

const (
	rawNoPrefix  = -1
	rawXMLPrefix = -2
)

// rawScanner checks that its input is canonical (see NewRaw) with state
// of fixed size, so that a scan allocates nothing.
//
// Canonical form, as WriteTo writes it:
//
//	element = "<" name [` xmlns="` value `"`] {attr} ("/>" | ">" content "</" name ">")
//	attr    = " " [`xmlns:ns` k `="` value `" `] ["xml:" | "ns" k ":"] name `="` value `"`
//
// where xmlns appears exactly where the element's namespace differs from
// its parent's (at the top: wherever it is not empty), ns<k> is declared just before
// its first use, numbered 1, 2, … in that order, one per namespace, and
// content is never empty. Text escapes & < > and CR, attribute values
// also " ' LF and TAB, with exactly the references WriteTo uses; every
// character is one XML 1.0 allows.
type rawScanner struct {
	b                  []byte
	pos                int
	maxDepth, maxAttrs int
	depth              int
	empty              bool // the innermost open element has no content yet

	names  [rawMaxDepth]rawSpan // open elements' names
	spaces [rawMaxDepth]rawSpan // open elements' namespaces, escaped as written

	attrs [rawMaxAttrs]rawAttr // the current start tag's attributes
	// The current start tag's ns<k+1> bindings: at most half its
	// attributes, as each binding is used by one.
	decls [rawMaxAttrs / 2]rawSpan
}

func (s *rawScanner) scan(space, local string) bool {
	if len(s.b) == 0 || s.b[0] != '<' {
		return false
	}
	s.pos = 1
	name, ns, ok := s.startTag()
	if !ok || !s.is(name, local) || !s.unescapedIs(ns, space) {
		return false
	}
	for s.depth > 0 {
		if s.pos >= len(s.b) {
			return false
		}
		if s.b[s.pos] != '<' {
			if !s.text() {
				return false
			}
			continue
		}
		if s.pos+1 < len(s.b) && s.b[s.pos+1] == '/' {
			if !s.endTag() {
				return false
			}
			continue
		}
		s.pos++
		if _, _, ok := s.startTag(); !ok {
			return false
		}
	}
	return s.pos == len(s.b)
}

// unescapedIs reports whether the attribute value v (scanned as
// canonical) stands for want. Only the top element's namespace needs
// this: below it, namespaces compare as written, canonical escaping being
// one-to-one.
func (s *rawScanner) unescapedIs(v rawSpan, want string) bool {
	i, j := int(v.start), 0
	for i < int(v.end) {
		c, n := s.b[i], 1
		if c == '&' {
			for _, r := range rawReferences {
				if rawHasPrefix(s.b[i:v.end], r.ref) {
					c, n = r.c, len(r.ref)
					break
				}
			}
		}
		if j >= len(want) || want[j] != c {
			return false
		}
		i += n
		j++
	}
	return j == len(want)
}

// rawReferences are the references WriteTo writes; inText marks those
// it writes in character data too.
var rawReferences = [...]struct {
	ref    string
	c      byte
	inText bool
}{
	{"&amp;", '&', true},
	{"&lt;", '<', true},
	{"&gt;", '>', true},
	{"&#xD;", '\r', true},
	{"&quot;", '"', false},
	{"&apos;", '\'', false},
	{"&#xA;", '\n', false},
	{"&#x9;", '\t', false},
}

// rawReferenceLen returns the length of the canonical reference b starts
// with, or 0.
func rawReferenceLen(b []byte, attr bool) int {
	for _, r := range rawReferences {
		if (attr || r.inText) && rawHasPrefix(b, r.ref) {
			return len(r.ref)
		}
	}
	return 0
}

func rawHasPrefix(b []byte, prefix string) bool {
	return len(b) >= len(prefix) && string(b[:len(prefix)]) == prefix
}

// startTag scans a start tag after its '<' and opens the element unless
// it is self-closing. It returns the element's name and namespace (as
// written; an empty span for no namespace at the top).
func (s *rawScanner) startTag() (name, ns rawSpan, ok bool) {
	if s.depth >= s.maxDepth {
		return name, ns, false
	}
	if name, ok = s.name(); !ok {
		return name, ns, false
	}
	var parentNS rawSpan
	if s.depth > 0 {
		parentNS = s.spaces[s.depth-1]
	}
	ns = parentNS
	nattrs := 0 // as Reader counts them: declarations included
	if s.consume(` xmlns="`) {
		v, ok := s.chars(true)
		if !ok || s.equal(v, parentNS) || s.is(v, NSXML) || s.is(v, nsXMLNS) {
			return name, ns, false
		}
		ns = v
		nattrs++
	}
	nnames, ndecls := 0, 0
	for {
		if s.pos >= len(s.b) {
			return name, ns, false
		}
		switch s.b[s.pos] {
		case '>':
			s.pos++
			s.names[s.depth], s.spaces[s.depth] = name, ns
			s.depth++
			s.empty = true
			return name, ns, true
		case '/':
			s.empty = false
			return name, ns, s.consume("/>")
		case ' ':
			s.pos++
		default:
			return name, ns, false
		}
		a, declared, ok := s.attrName(ndecls)
		if !ok {
			return name, ns, false
		}
		if declared {
			v := s.decls[ndecls]
			for _, d := range s.decls[:ndecls] {
				if s.equal(d, v) {
					return name, ns, false // WriteTo binds one prefix per namespace
				}
			}
			ndecls++
			nattrs++
		}
		for _, prev := range s.attrs[:nnames] {
			if prev.prefix == a.prefix && s.equal(prev.local, a.local) {
				return name, ns, false
			}
		}
		if nattrs++; nattrs > s.maxAttrs {
			return name, ns, false
		}
		s.attrs[nnames] = a
		nnames++
		if !s.consume(`="`) {
			return name, ns, false
		}
		if _, ok := s.chars(true); !ok {
			return name, ns, false
		}
	}
}

// attrName scans an attribute's name, preceded by the declaration of its
// prefix where that is the prefix's first use (declared is then true and
// the namespace is in s.decls[ndecls]).
func (s *rawScanner) attrName(ndecls int) (a rawAttr, declared, ok bool) {
	first, ok := s.name()
	if !ok {
		return a, false, false
	}
	if !s.consume(":") {
		if s.is(first, "xmlns") {
			return a, false, false // not where WriteTo declares namespaces
		}
		return rawAttr{prefix: rawNoPrefix, local: first}, false, true
	}
	second, ok := s.name()
	if !ok {
		return a, false, false
	}
	switch {
	case s.is(first, "xml"):
		return rawAttr{prefix: rawXMLPrefix, local: second}, false, true
	case s.is(first, "xmlns"):
		// `xmlns:ns<k>="uri" ns<k>:local`, k the next number.
		if k, ok := s.nsNumber(second); !ok || k != ndecls+1 || ndecls >= len(s.decls) || !s.consume(`="`) {
			return a, false, false
		}
		v, ok := s.chars(true)
		if !ok || v.start == v.end || s.is(v, NSXML) || s.is(v, nsXMLNS) || !s.consume(" ") {
			return a, false, false
		}
		s.decls[ndecls] = v
		again, ok := s.name()
		if !ok || !s.equal(again, second) || !s.consume(":") {
			return a, false, false
		}
		local, ok := s.name()
		return rawAttr{prefix: int32(ndecls), local: local}, true, ok
	}
	k, ok := s.nsNumber(first)
	if !ok || k > ndecls {
		return a, false, false
	}
	return rawAttr{prefix: int32(k - 1), local: second}, false, true
}

// nsNumber returns k for a name "ns<k>" as WriteTo spells it (k > 0, no
// leading zero).
func (s *rawScanner) nsNumber(n rawSpan) (int, bool) {
	d := s.b[n.start:n.end]
	if len(d) < 3 || len(d) > 5 || d[0] != 'n' || d[1] != 's' || d[2] == '0' {
		return 0, false
	}
	k := 0
	for _, c := range d[2:] {
		if c < '0' || c > '9' {
			return 0, false
		}
		k = 10*k + int(c-'0')
	}
	return k, true
}

// endTag scans "</name>", which must close the innermost open element.
func (s *rawScanner) endTag() bool {
	if s.empty {
		return false // WriteTo writes an element without content as <a/>
	}
	s.pos += 2
	name, ok := s.name()
	if !ok || !s.consume(">") || !s.equal(name, s.names[s.depth-1]) {
		return false
	}
	s.depth--
	s.empty = false
	return true
}

// text scans character data up to the next '<' or the end of the input.
func (s *rawScanner) text() bool {
	s.empty = false
	_, ok := s.chars(false)
	return ok
}

// chars scans escaped characters: an attribute value up to and past its
// closing quote, or text up to (not past) the next '<'.
func (s *rawScanner) chars(attr bool) (rawSpan, bool) {
	plain := &rawTextAsIs
	if attr {
		plain = &rawAttrAsIs
	}
	b := s.b
	start, i := s.pos, s.pos
	for i < len(b) {
		c := b[i]
		if plain[c] {
			i++
			continue
		}
		switch {
		case c == '"' && attr:
			s.pos = i + 1
			return rawSpan{int32(start), int32(i)}, true
		case c == '<' && !attr:
			s.pos = i
			return rawSpan{int32(start), int32(i)}, true
		case c == '&':
			n := rawReferenceLen(b[i:], attr)
			if n == 0 {
				return rawSpan{}, false
			}
			i += n
		case c >= utf8.RuneSelf:
			r, n := utf8.DecodeRune(b[i:])
			if (r == utf8.RuneError && n == 1) || !isXMLChar(r) {
				return rawSpan{}, false
			}
			i += n
		default:
			return rawSpan{}, false // a character WriteTo escapes or replaces
		}
	}
	if attr {
		return rawSpan{}, false
	}
	s.pos = i
	return rawSpan{int32(start), int32(i)}, true
}

// rawTextAsIs and rawAttrAsIs mark the ASCII bytes WriteTo writes as
// they are in text and in attribute values.
var rawTextAsIs, rawAttrAsIs = rawAsIsBytes(false), rawAsIsBytes(true)

func rawAsIsBytes(attr bool) (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = true
	}
	t['\n'], t['\t'] = !attr, !attr
	t['&'], t['<'], t['>'] = false, false, false
	if attr {
		t['"'], t['\''] = false, false
	}
	return t
}

// name scans an NCName of ASCII characters.
func (s *rawScanner) name() (rawSpan, bool) {
	b := s.b
	start := s.pos
	if start >= len(b) || !rawNameStart(b[start]) {
		return rawSpan{}, false
	}
	i := start + 1
	for i < len(b) && (rawNameStart(b[i]) || b[i] == '-' || b[i] == '.' || '0' <= b[i] && b[i] <= '9') {
		i++
	}
	s.pos = i
	return rawSpan{int32(start), int32(i)}, true
}

func rawNameStart(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '_'
}

func (s *rawScanner) consume(lit string) bool {
	if !rawHasPrefix(s.b[s.pos:], lit) {
		return false
	}
	s.pos += len(lit)
	return true
}

func (s *rawScanner) is(n rawSpan, lit string) bool { return string(s.b[n.start:n.end]) == lit }

func (s *rawScanner) equal(x, y rawSpan) bool {
	return bytes.Equal(s.b[x.start:x.end], s.b[y.start:y.end])
}
