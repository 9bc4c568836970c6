package xml

import (
	exml "encoding/xml"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"unicode"
	"unicode/utf8"
)

// The tokenizer splits the input into raw tokens: names as written (prefix
// and local part, unresolved), attribute values and character data with
// references replaced. It does what encoding/xml's Decoder.RawToken does in
// strict mode, with the same acceptance and the same errors (a fuzz test
// holds it to that, token for token), but reads the input buffer directly
// instead of one interface call per byte, and reuses its buffers: reading
// a stanza was most of a connection's CPU time.
//
// Errors come out already classified (ErrNotWellFormed and the others the
// Reader returns): what the stream layer maps to stream errors.

type tokenKind uint8

const (
	tokStart tokenKind = iota + 1
	tokEnd
	tokText // character data, CDATA sections included
	tokProcInst
	tokComment
	tokDirective
)

// qname is a name as written: "p:l" is {p, l}; a name that is not a valid
// prefixed name (":a", "a:") is all local, as encoding/xml has it.
type qname struct{ prefix, local string }

type tokAttr struct {
	name  qname
	value string
}

// token is valid until the next call of tokenizer.next: it is the
// tokenizer's, and attrs and text share its buffers.
type token struct {
	kind  tokenKind
	name  qname     // tokStart, tokEnd; tokProcInst: the target in local
	attrs []tokAttr // tokStart
	text  []byte    // tokText, tokProcInst, tokComment, tokDirective
}

type tokenizer struct {
	src       *budgetReader
	buf       []byte // the current token's text, or a name being read
	attrs     []tokAttr
	err       error // sticky: every call after an error returns it
	needClose bool  // the last token was a self-closing start tag
	toClose   qname
	names     nameCache
	cur       token // what next returns a pointer to
}

// tokenizerPool keeps the tokenizers of idle streams (see
// Reader.dropIdleState) for the streams that get input: a stream holds
// one only while it parses, and keeps its warm name cache.
var tokenizerPool = sync.Pool{New: func() any { return new(tokenizer) }}

// maxKeptBuf and maxKeptAttrs bound the buffers a pooled tokenizer keeps.
const (
	maxKeptBuf   = 4 << 10
	maxKeptAttrs = 64
)

func getTokenizer(src *budgetReader) *tokenizer {
	t := tokenizerPool.Get().(*tokenizer)
	t.src = src
	return t
}

// release returns t to the pool; t must not be used afterwards.
func (t *tokenizer) release() {
	clear(t.attrs) // values are client data: not kept alive by the pool
	*t = tokenizer{buf: t.buf[:0], attrs: t.attrs[:0], names: t.names}
	if cap(t.buf) > maxKeptBuf {
		t.buf = nil
	}
	if cap(t.attrs) > maxKeptAttrs {
		t.attrs = nil
	}
	tokenizerPool.Put(t)
}

// emit makes tok the current token.
func (t *tokenizer) emit(tok token) (*token, error) {
	t.cur = tok
	return &t.cur, nil
}

func syntaxError(msg string) error { return fmt.Errorf("%w: %s", ErrNotWellFormed, msg) }

// getc reads one byte; at a read error it keeps it in t.err and reports
// false.
func (t *tokenizer) getc() (byte, bool) {
	if t.err != nil {
		return 0, false
	}
	c, err := t.src.ReadByte()
	if err != nil {
		t.err = err
		return 0, false
	}
	return c, true
}

// mustgetc is getc inside a token, where the end of input means the peer
// went away mid-token.
func (t *tokenizer) mustgetc() (byte, bool) {
	c, ok := t.getc()
	if !ok && t.err == io.EOF {
		t.err = io.ErrUnexpectedEOF
	}
	return c, ok
}

// ungetc puts back the byte getc just returned.
func (t *tokenizer) ungetc() { t.src.unread() }

func (t *tokenizer) fail(err error) (*token, error) {
	t.err = err
	return nil, err
}

// next returns the next token.
func (t *tokenizer) next() (*token, error) {
	if t.err != nil {
		return nil, t.err
	}
	tok := token{}
	if t.needClose {
		t.needClose = false
		tok.kind, tok.name = tokEnd, t.toClose
		return t.emit(tok)
	}
	b, ok := t.getc()
	if !ok {
		return nil, t.err
	}
	if b != '<' {
		t.ungetc()
		data, ok := t.text(-1, false)
		if !ok {
			return nil, t.err
		}
		tok.kind, tok.text = tokText, data
		return t.emit(tok)
	}
	if b, ok = t.mustgetc(); !ok {
		return nil, t.err
	}
	switch b {
	case '/':
		name, ok := t.nsname()
		if !ok {
			return t.failUnlessErr("expected element name after </")
		}
		t.space()
		if b, ok = t.mustgetc(); !ok {
			return nil, t.err
		}
		if b != '>' {
			return t.fail(syntaxError("invalid characters between </" + name.local + " and >"))
		}
		tok.kind, tok.name = tokEnd, name
		return t.emit(tok)
	case '?':
		return t.procInst()
	case '!':
		return t.bang()
	}
	t.ungetc()
	return t.startTag()
}

// failUnlessErr fails with msg unless reading already failed (a name
// missing because the input ended).
func (t *tokenizer) failUnlessErr(msg string) (*token, error) {
	if t.err != nil {
		return nil, t.err
	}
	return t.fail(syntaxError(msg))
}

func (t *tokenizer) startTag() (*token, error) {
	name, ok := t.nsname()
	if !ok {
		return t.failUnlessErr("expected element name after <")
	}
	tok := token{kind: tokStart, name: name}
	// The previous tag's values go: slots past the length must not keep
	// them alive (a client could pin MaxAttrs values of a stanza's size).
	clear(t.attrs)
	t.attrs = t.attrs[:0]
	for {
		t.space()
		b, ok := t.mustgetc()
		if !ok {
			return nil, t.err
		}
		if b == '/' {
			if b, ok = t.mustgetc(); !ok {
				return nil, t.err
			}
			if b != '>' {
				return t.fail(syntaxError("expected /> in element"))
			}
			t.needClose, t.toClose = true, name // its tokEnd comes next
			break
		}
		if b == '>' {
			break
		}
		t.ungetc()
		an, ok := t.nsname()
		if !ok {
			return t.failUnlessErr("expected attribute name in element")
		}
		t.space()
		if b, ok = t.mustgetc(); !ok {
			return nil, t.err
		}
		if b != '=' {
			return t.fail(syntaxError("attribute name without = in element"))
		}
		t.space()
		if b, ok = t.mustgetc(); !ok {
			return nil, t.err
		}
		if b != '"' && b != '\'' {
			return t.fail(syntaxError("unquoted or missing attribute value in element"))
		}
		val, ok := t.text(int(b), false)
		if !ok {
			return nil, t.err
		}
		t.attrs = append(t.attrs, tokAttr{an, string(val)})
	}
	tok.attrs = t.attrs
	return t.emit(tok)
}

// procInst reads a processing instruction after "<?". Of the XML
// declaration it checks the version and the encoding, as encoding/xml
// does (without a CharsetReader).
func (t *tokenizer) procInst() (*token, error) {
	target, ok := t.name()
	if !ok {
		return t.failUnlessErr("expected target name after <?")
	}
	t.space()
	t.buf = t.buf[:0]
	var b0 byte
	for {
		b, ok := t.mustgetc()
		if !ok {
			return nil, t.err
		}
		t.buf = append(t.buf, b)
		if b0 == '?' && b == '>' {
			break
		}
		b0 = b
	}
	data := t.buf[:len(t.buf)-2]
	if target == "xml" {
		content := string(data)
		if ver := procInstParam("version", content); ver != "" && ver != "1.0" {
			return t.fail(fmt.Errorf("%w: unsupported version %q", ErrNotWellFormed, ver))
		}
		if enc := procInstParam("encoding", content); enc != "" && !strings.EqualFold(enc, "utf-8") {
			return t.fail(fmt.Errorf("%w: declared encoding %q", ErrUnsupportedEncoding, enc))
		}
	}
	return t.emit(token{kind: tokProcInst, name: qname{local: target}, text: data})
}

// procInstParam finds param='value' (or "value") in a processing
// instruction's content, with encoding/xml's (loose) reading of it.
func procInstParam(param, s string) string {
	param += "="
	i := 0
	var sep byte
	for i < len(s) {
		sub := s[i:]
		k := strings.Index(sub, param)
		if k < 0 || len(param)+k >= len(sub) {
			return ""
		}
		i += len(param) + k + 1
		if c := sub[len(param)+k]; c == '\'' || c == '"' {
			sep = c
			break
		}
	}
	if sep == 0 {
		return ""
	}
	j := strings.IndexByte(s[i:], sep)
	if j < 0 {
		return ""
	}
	return s[i : i+j]
}

// bang reads what starts with "<!": a comment, a CDATA section or a
// directive (<!DOCTYPE ...>).
func (t *tokenizer) bang() (*token, error) {
	b, ok := t.mustgetc()
	if !ok {
		return nil, t.err
	}
	switch b {
	case '-':
		if b, ok = t.mustgetc(); !ok {
			return nil, t.err
		}
		if b != '-' {
			return t.fail(syntaxError("invalid sequence <!- not part of <!--"))
		}
		t.buf = t.buf[:0]
		var b0, b1 byte
		for {
			if b, ok = t.mustgetc(); !ok {
				return nil, t.err
			}
			t.buf = append(t.buf, b)
			if b0 == '-' && b1 == '-' {
				if b != '>' {
					return t.fail(syntaxError(`invalid sequence "--" not allowed in comments`))
				}
				break
			}
			b0, b1 = b1, b
		}
		return t.emit(token{kind: tokComment, text: t.buf[:len(t.buf)-3]})
	case '[':
		for i := range 6 {
			if b, ok = t.mustgetc(); !ok {
				return nil, t.err
			}
			if b != "CDATA["[i] {
				return t.fail(syntaxError("invalid <![ sequence"))
			}
		}
		data, ok := t.text(-1, true)
		if !ok {
			return nil, t.err
		}
		return t.emit(token{kind: tokText, text: data})
	}
	return t.directive(b)
}

// directive reads a directive after "<!" and its first byte b, to its
// closing '>' (quoted and nested angle brackets and comments skipped).
// XMPP refuses them all; it is read whole only so that a malformed one
// fails as not well-formed, as with encoding/xml.
func (t *tokenizer) directive(b byte) (*token, error) {
	t.buf = append(t.buf[:0], b)
	var inquote byte
	depth := 0
	ok := true
	for {
		if b, ok = t.mustgetc(); !ok {
			return nil, t.err
		}
		if inquote == 0 && b == '>' && depth == 0 {
			break
		}
	handle:
		t.buf = append(t.buf, b)
		switch {
		case b == inquote:
			inquote = 0
		case inquote != 0:
		case b == '\'' || b == '"':
			inquote = b
		case b == '>':
			depth--
		case b == '<':
			const open = "!--"
			for i := range len(open) {
				if b, ok = t.mustgetc(); !ok {
					return nil, t.err
				}
				if b != open[i] {
					t.buf = append(t.buf, open[:i]...)
					depth++
					goto handle
				}
			}
			t.buf = t.buf[:len(t.buf)-1]
			var b0, b1 byte
			for {
				if b, ok = t.mustgetc(); !ok {
					return nil, t.err
				}
				if b0 == '-' && b1 == '-' && b == '>' {
					break
				}
				b0, b1 = b1, b
			}
			t.buf = append(t.buf, ' ')
		}
	}
	return t.emit(token{kind: tokDirective, text: t.buf})
}

// space skips whitespace. At the end of input it leaves the error for the
// next read.
func (t *tokenizer) space() {
	for {
		// Most runs are one space; the loop reads the buffer directly.
		w := t.src.window()
		i := 0
		for i < len(w) && isSpaceByte(w[i]) {
			i++
		}
		t.src.consume(i)
		if i < len(w) {
			return
		}
		b, ok := t.getc()
		if !ok {
			return
		}
		if !isSpaceByte(b) {
			t.ungetc()
			return
		}
	}
}

// Byte classes for text: plain bytes need no attention and are copied in
// runs; every other byte goes through text's byte-at-a-time path.
var (
	plainInText  = plainTable("<&]\r")
	plainInCDATA = plainTable("]\r")
	plainInDQ    = plainTable("<&\r\"")
	plainInSQ    = plainTable("<&\r'")
)

func plainTable(special string) (t [256]bool) {
	for i := range t {
		t[i] = true
	}
	for i := range len(special) {
		t[special[i]] = false
	}
	return t
}

// text reads character data up to a '<' (quote < 0 and not cdata), up to
// the closing quote of an attribute value (quote is the quote byte), or
// to "]]>" (cdata). It replaces references, turns "\r\n" and "\r" into
// "\n" and checks that what it returns is UTF-8 made of XML characters.
// It reports false with t.err set on failure. Outside CDATA and quotes,
// the end of input (or any read error) ends the text: the error comes
// with the next token.
func (t *tokenizer) text(quote int, cdata bool) ([]byte, bool) {
	plain := &plainInText
	switch {
	case cdata:
		plain = &plainInCDATA
	case quote == '"':
		plain = &plainInDQ
	case quote == '\'':
		plain = &plainInSQ
	}
	var b0, b1 byte // the two bytes before b, as read
	trunc := 0
	t.buf = t.buf[:0]
	for {
		// After ']' or '\r' the next byte completes "]]>" or "\r\n":
		// it takes the slow path.
		if w := t.src.window(); len(w) > 0 && plain[w[0]] && b1 != ']' && b1 != '\r' {
			i := 1
			for i < len(w) && plain[w[i]] {
				i++
			}
			t.buf = append(t.buf, w[:i]...)
			t.src.consume(i)
			// None of the run's bytes is ']' or '\r', all that b0 and
			// b1 are looked at for: zero stands for any other byte.
			b0, b1 = 0, 0
		}
		b, ok := t.getc()
		if !ok {
			if cdata {
				if t.err == io.EOF {
					t.err = io.ErrUnexpectedEOF
				}
				return nil, false
			}
			break
		}
		if quote < 0 && b0 == ']' && b1 == ']' && b == '>' {
			if cdata {
				trunc = 2
				break
			}
			t.err = syntaxError("unescaped ]]> not in CDATA section")
			return nil, false
		}
		if b == '<' && !cdata {
			if quote >= 0 {
				t.err = syntaxError("unescaped < inside quoted string")
				return nil, false
			}
			t.ungetc()
			break
		}
		if quote >= 0 && b == byte(quote) {
			break
		}
		if b == '&' && !cdata {
			if !t.reference() {
				return nil, false
			}
			b0, b1 = 0, 0
			continue
		}
		switch {
		case b == '\r':
			t.buf = append(t.buf, '\n')
		case b1 == '\r' && b == '\n':
			// "\r\n": the '\n' is already there.
		default:
			t.buf = append(t.buf, b)
		}
		b0, b1 = b1, b
	}
	data := t.buf[:len(t.buf)-trunc]
	if err := checkChars(data); err != nil {
		t.err = err
		return nil, false
	}
	return data, true
}

// reference replaces the reference after a '&' (a character reference or
// one of the five predefined entities) in t.buf. Any other reference
// fails: restricted XML if it is a well-formed entity reference (RFC 6120
// §11.1), not well-formed otherwise.
func (t *tokenizer) reference() bool {
	before := len(t.buf)
	t.buf = append(t.buf, '&')
	b, ok := t.mustgetc()
	if !ok {
		return false
	}
	var r rune
	have := false
	if b == '#' {
		t.buf = append(t.buf, b)
		if b, ok = t.mustgetc(); !ok {
			return false
		}
		base := 10
		if b == 'x' {
			base = 16
			t.buf = append(t.buf, b)
			if b, ok = t.mustgetc(); !ok {
				return false
			}
		}
		start := len(t.buf)
		for digitValue(b, base) >= 0 {
			t.buf = append(t.buf, b)
			if b, ok = t.mustgetc(); !ok {
				return false
			}
		}
		if b != ';' {
			t.ungetc()
		} else {
			digits := t.buf[start:]
			t.buf = append(t.buf, ';')
			r, have = parseCharRef(digits, base)
		}
	} else {
		t.ungetc()
		if !t.readName() && t.err != nil {
			return false
		}
		if b, ok = t.mustgetc(); !ok {
			return false
		}
		if b != ';' {
			t.ungetc()
		} else {
			name := t.buf[before+1:]
			t.buf = append(t.buf, ';')
			if isName(name) {
				r, have = predefinedEntity(name)
			}
		}
	}
	if have {
		// A reference to a surrogate becomes U+FFFD, as Go's string(rune)
		// and encoding/xml make it; the other non-characters fail in
		// checkChars.
		t.buf = utf8.AppendRune(t.buf[:before], r)
		return true
	}
	ent := string(t.buf[before:])
	if ent[len(ent)-1] != ';' {
		ent += " (no semicolon)"
	}
	msg := "invalid character entity " + ent
	if isEntityRef(ent) {
		t.err = fmt.Errorf("%w: %s", ErrRestrictedXML, msg)
	} else {
		t.err = syntaxError(msg)
	}
	return false
}

func digitValue(c byte, base int) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case base == 16 && 'a' <= c && c <= 'f':
		return int(c-'a') + 10
	case base == 16 && 'A' <= c && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// parseCharRef reads the digits of a character reference; false if there
// are none or the number is beyond Unicode.
func parseCharRef(digits []byte, base int) (rune, bool) {
	if len(digits) == 0 {
		return 0, false
	}
	n := 0
	for _, c := range digits {
		n = n*base + digitValue(c, base)
		if n > unicode.MaxRune {
			return 0, false
		}
	}
	return rune(n), true
}

func predefinedEntity(name []byte) (rune, bool) {
	switch string(name) {
	case "lt":
		return '<', true
	case "gt":
		return '>', true
	case "amp":
		return '&', true
	case "apos":
		return '\'', true
	case "quot":
		return '"', true
	}
	return 0, false
}

// checkChars checks that data is UTF-8 and holds only XML characters.
func checkChars(data []byte) error {
	for i := 0; i < len(data); {
		c := data[i]
		if c >= 0x20 && c < utf8.RuneSelf || c == '\n' || c == '\t' || c == '\r' {
			i++
			continue
		}
		r, size := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && size == 1 {
			return fmt.Errorf("%w: invalid UTF-8", ErrUnsupportedEncoding)
		}
		if !isXMLChar(r) {
			return syntaxError(fmt.Sprintf("illegal character code %U", r))
		}
		i += size
	}
	return nil
}

func isNameByte(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '_' || c == ':' || c == '.' || c == '-'
}

// readName appends a name's bytes to t.buf: up to the first ASCII byte
// that cannot be in a name (every non-ASCII byte is taken; the caller
// checks them). False, with nothing consumed, if no name starts here.
func (t *tokenizer) readName() bool {
	b, ok := t.mustgetc()
	if !ok {
		return false
	}
	if b < utf8.RuneSelf && !isNameByte(b) {
		t.ungetc()
		return false
	}
	t.buf = append(t.buf, b)
	for {
		w := t.src.window()
		i := 0
		for i < len(w) && (w[i] >= utf8.RuneSelf || isNameByte(w[i])) {
			i++
		}
		t.buf = append(t.buf, w[:i]...)
		t.src.consume(i)
		if i < len(w) {
			return true
		}
		if b, ok = t.mustgetc(); !ok {
			return false
		}
		if b < utf8.RuneSelf && !isNameByte(b) {
			t.ungetc()
			return true
		}
		t.buf = append(t.buf, b)
	}
}

// name reads an XML Name (colons included).
func (t *tokenizer) name() (string, bool) {
	t.buf = t.buf[:0]
	if !t.readName() {
		return "", false
	}
	if !isName(t.buf) {
		t.err = syntaxError("invalid XML name: " + string(t.buf))
		return "", false
	}
	return t.names.intern(t.buf), true
}

// nsname reads a name and splits it at its colon. A name with more than
// one colon is no name at all; one with an empty prefix or local part is
// kept whole as the local part (the Reader rejects it).
func (t *tokenizer) nsname() (qname, bool) {
	s, ok := t.name()
	if !ok {
		return qname{}, false
	}
	i := strings.IndexByte(s, ':')
	switch {
	case i < 0:
		return qname{local: s}, true
	case strings.IndexByte(s[i+1:], ':') >= 0:
		return qname{}, false
	case i == 0 || i == len(s)-1:
		return qname{local: s}, true
	}
	return qname{prefix: s[:i], local: s[i+1:]}, true
}

// isName reports whether s is an XML Name by encoding/xml's tables (XML
// 1.0's fourth edition): what we accept is what encoding/xml reads back.
func isName(s []byte) bool {
	if len(s) == 0 {
		return false
	}
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if i == 0 && !startsName(rune(c)) || i > 0 && !isNameByte(c) {
				return false
			}
			i++
			continue
		}
		r, size := utf8.DecodeRune(s[i:])
		if r == utf8.RuneError && size == 1 {
			return false
		}
		switch nameRuneClass(r) {
		case runeStartsName:
		case runeInName:
			if i == 0 {
				return false
			}
		default:
			return false
		}
		i += size
	}
	return true
}

// startsName reports whether r may be the first character of a name.
func startsName(r rune) bool {
	if r < utf8.RuneSelf {
		c := byte(r)
		return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || c == '_' || c == ':'
	}
	return nameRuneClass(r) == runeStartsName
}

// Classes of a non-ASCII rune in names.
const (
	runeUnknown    = iota // not yet asked
	runeStartsName        // may start a name (and be in one)
	runeInName            // may be in a name, not first
	runeNotInName
)

// nameRunes caches the class of each rune of the Basic Multilingual Plane,
// two bits a rune, filled as runes are first met in names: one atomic
// load for each rune of a name rather than a parse.
var nameRunes [0x10000 / 16]atomic.Uint32

func nameRuneClass(r rune) uint32 {
	if r >= 0x10000 {
		return askNameRuneClass(r)
	}
	w, shift := &nameRunes[r/16], uint(r%16)*2
	if c := w.Load() >> shift & 3; c != runeUnknown {
		return c
	}
	c := askNameRuneClass(r)
	for {
		old := w.Load()
		if w.CompareAndSwap(old, old|c<<shift) {
			return c
		}
	}
}

// askNameRuneClass asks encoding/xml (its tables are unexported) whether
// r may start a name, or follow a first character, as the target of a
// processing instruction.
func askNameRuneClass(r rune) uint32 {
	ok := func(name string) bool {
		tok, err := exml.NewDecoder(strings.NewReader("<?" + name + "?>")).RawToken()
		pi, isPI := tok.(exml.ProcInst)
		return err == nil && isPI && pi.Target == name
	}
	switch {
	case ok(string(r)):
		return runeStartsName
	case ok("a" + string(r)):
		return runeInName
	}
	return runeNotInName
}

// nameCache interns names: a stanza's names are a few dozen strings used
// over and over (message, body, to, from, xmlns...).
type nameCache struct {
	slots [64]string
}

func (c *nameCache) intern(b []byte) string {
	if len(b) > 32 {
		return string(b)
	}
	h := uint(len(b))*31 + uint(b[0])*7 + uint(b[len(b)-1])
	if len(b) > 2 {
		h += uint(b[len(b)/2]) * 13
	}
	slot := &c.slots[h%uint(len(c.slots))]
	if *slot == string(b) {
		return *slot
	}
	s := string(b)
	*slot = s
	return s
}
