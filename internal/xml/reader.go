package xml

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// Sentinel errors returned (wrapped) by Reader. The stream layer maps each
// to its RFC 6120 stream error condition; their text is never sent to peers.
var (
	ErrNotWellFormed      = errors.New("xml: not well-formed")
	ErrRestrictedXML      = errors.New("xml: restricted XML (comment, PI, DTD or entity)")
	ErrBadNamespacePrefix = errors.New("xml: undeclared namespace prefix")
	ErrTooLarge           = errors.New("xml: stanza exceeds size limit")
	ErrTooDeep            = errors.New("xml: element nesting exceeds limit")
	ErrTooManyAttrs       = errors.New("xml: too many attributes")
	ErrTextAtStreamLevel  = errors.New("xml: character data at stream level")
	// ErrUnsupportedEncoding is returned for input that is not UTF-8: a
	// declared encoding other than UTF-8, or invalid UTF-8 sequences (RFC
	// 6120 §4.9.3.22). It wraps ErrNotWellFormed, so code that only knows
	// that sentinel still treats it as a not-well-formed stream.
	ErrUnsupportedEncoding = fmt.Errorf("xml: unsupported encoding: %w", ErrNotWellFormed)
	// ErrStreamEnd is returned by Next when the stream's root element closes.
	ErrStreamEnd = errors.New("xml: end of stream")
	// ErrWouldWait is returned by NextOrIdle when no input is there: the
	// reader holds no buffer and the caller may wait for input (the
	// source's WaitInput) wherever it likes, then call NextOrIdle again.
	ErrWouldWait = errors.New("xml: no input; would wait")
)

// nsXMLNS is the namespace name of the reserved "xmlns" prefix; nothing may
// be bound to it.
const nsXMLNS = "http://www.w3.org/2000/xmlns/"

// Limits bound what one top-level element may cost. They are enforced while
// reading, byte by byte, never after buffering a whole stanza.
type Limits struct {
	// MaxStanzaBytes caps the bytes of one top-level element, counted from
	// the end of the previous one. Whitespace between elements (keepalives)
	// is not counted: it never reaches the tokenizer.
	MaxStanzaBytes int64
	MaxDepth       int // nesting depth of a stanza (the stanza itself is depth 1); 0 = unlimited
	MaxAttrs       int // attributes (namespace declarations included) on one element; 0 = unlimited
}

// DefaultLimits are the server's defaults (256 KiB stanzas).
var DefaultLimits = Limits{MaxStanzaBytes: 256 << 10, MaxDepth: 32, MaxAttrs: 64}

// normalized replaces limits without a byte budget by DefaultLimits: an
// unbounded reader is never what a caller means.
func (l Limits) normalized() Limits {
	if l.MaxStanzaBytes <= 0 {
		return DefaultLimits
	}
	return l
}

// Reader reads an XMPP stream: one opening root tag, then complete top-level
// elements. It resolves namespaces itself (on the tokenizer's raw names) so
// that undeclared prefixes are an error rather than silently kept.
type Reader struct {
	tok   *tokenizer // nil while idle (see dropIdleState)
	src   *budgetReader
	lim   Limits
	ns    []binding // in-scope namespace declarations, innermost last
	begun bool      // root element seen
	root  qname     // raw name of the root, to check its end tag
	stack []open    // Next's open elements, kept to reuse the allocation while busy
	// atBoundary: the tokenizer last returned a top-level element's end
	// or the root's start, so it has read nothing further and owes no
	// token (after a self-closing root it would owe the root's end). Only
	// then does Next wait for input itself, and drop the tokenizer while
	// idle.
	atBoundary bool
}

type binding struct{ prefix, uri string }

// open is an element Next has started but not yet finished.
type open struct {
	el     *Element
	prefix string // raw name, to check the end tag matches
	local  string
	mark   int // len(r.ns) before this element's declarations
}

// budgetReader is the tokenizer's byte source. It refuses to hand out more
// than limit bytes, which caps how much one stanza may make us read.
// Between top-level elements it swallows whitespace itself, so keepalives
// neither count against the budget nor pile up in the tokenizer's buffer.
type budgetReader struct {
	br        *inputBuffer
	n         int64
	limit     int64
	skipSpace bool // at stream level: drop whitespace until the next other byte
	// markupOnly makes the first other byte after skipped whitespace an
	// error (ErrTextAtStreamLevel) unless it is '<': a Reader's stream
	// level takes markup only.
	markupOnly bool
	err        error // last error from br, to tell I/O errors from the tokenizer's own
}

func (b *budgetReader) ReadByte() (byte, error) {
	// The tokenizer calls this for bytes it does not take in runs;
	// the common case (inside an element, budget left, byte buffered)
	// reads the buffer directly rather than through a second call.
	if in := b.br; !b.skipSpace && b.n < b.limit && in.r < in.w {
		c := in.buf[in.r]
		in.r++
		b.n++
		return c, nil
	}
	return b.readByteSlow()
}

func (b *budgetReader) readByteSlow() (byte, error) {
	for {
		if b.n >= b.limit {
			return 0, ErrTooLarge
		}
		c, err := b.br.ReadByte()
		if err != nil {
			b.err = err
			return 0, err
		}
		if b.skipSpace {
			if isSpaceByte(c) {
				continue
			}
			b.skipSpace = false
			if c != '<' && b.markupOnly {
				// Between top-level elements (and before the root)
				// only markup may follow the whitespace: character data
				// there is an error at its first byte, not when some
				// '<' finally ends it, which a peer sending garbage
				// (an HTTP request, a line of text) may never send.
				b.err = ErrTextAtStreamLevel
				return 0, ErrTextAtStreamLevel
			}
		}
		b.n++
		return c, nil
	}
}

// unread puts back the byte ReadByte just returned.
func (b *budgetReader) unread() {
	b.br.r--
	b.n--
}

// window returns the buffered bytes that may be consumed (with consume)
// without ReadByte: none while whitespace is being skipped, and no more
// than the budget allows.
func (b *budgetReader) window() []byte {
	in := b.br
	if b.skipSpace {
		return nil
	}
	end := in.w
	if rem := b.limit - b.n; int64(end-in.r) > rem {
		end = in.r + int(max(rem, 0))
	}
	return in.buf[in.r:end]
}

// consume takes k bytes of the window.
func (b *budgetReader) consume(k int) {
	b.br.r += k
	b.n += int64(k)
}

// NewReader returns a Reader over r. bufSize is the read buffer size
// (0 = 4096). Limits without a byte budget mean DefaultLimits. If r is an
// InputWaiter, the Reader waits for input between top-level elements
// without holding a read buffer.
func NewReader(r io.Reader, lim Limits, bufSize int) *Reader {
	if bufSize <= 0 {
		bufSize = defaultBufSize
	}
	lim = lim.normalized()
	in := &inputBuffer{rd: r, size: bufSize}
	in.waiter, _ = r.(InputWaiter)
	src := &budgetReader{br: in, limit: lim.MaxStanzaBytes, skipSpace: true, markupOnly: true}
	rd := &Reader{src: src, lim: lim}
	rd.newTokenizer()
	return rd
}

func (r *Reader) newTokenizer() {
	if r.tok != nil {
		r.tok.release()
	}
	r.tok = getTokenizer(r.src)
	r.atBoundary = false
}

func (r *Reader) resetBudget() { r.src.limit = r.src.n + r.lim.MaxStanzaBytes }

// Buffered returns the number of bytes read from the source but not yet
// consumed. After STARTTLS negotiation this must be zero: data pipelined
// behind <starttls/> is a protocol violation.
func (r *Reader) Buffered() int { return r.src.br.Buffered() }

func (r *Reader) lookup(prefix string) (string, bool) {
	for i := len(r.ns) - 1; i >= 0; i-- {
		if r.ns[i].prefix == prefix {
			return r.ns[i].uri, true
		}
	}
	switch prefix {
	case "":
		return "", true
	case "xml":
		return NSXML, true
	}
	return "", false
}

func (r *Reader) token() (*token, error) {
	if r.tok == nil {
		r.newTokenizer() // dropped while idle
	}
	t, err := r.tok.next()
	if err != nil {
		return nil, err
	}
	switch t.kind {
	case tokComment, tokDirective:
		return nil, ErrRestrictedXML
	case tokProcInst:
		if t.name.local != "xml" || r.begun {
			return nil, ErrRestrictedXML
		}
	}
	return t, nil
}

// isEntityRef reports whether s is a syntactically complete general entity
// reference "&name;" (as opposed to a character reference or a stray &).
func isEntityRef(s string) bool {
	if len(s) < 3 || s[0] != '&' || s[len(s)-1] != ';' {
		return false
	}
	first, _ := utf8.DecodeRuneInString(s[1:])
	return first == '_' || unicode.IsLetter(first)
}

// start converts a raw start tag into an Element, pushing its namespace
// declarations. The caller pops them with r.ns = r.ns[:mark].
func (r *Reader) start(t *token) (*Element, error) {
	if r.lim.MaxAttrs > 0 && len(t.attrs) > r.lim.MaxAttrs {
		return nil, ErrTooManyAttrs
	}
	if !validLocal(t.name) {
		return nil, fmt.Errorf("%w: bad element name %q", ErrNotWellFormed, t.name.local)
	}
	mark := len(r.ns)
	nattrs := 0
	for _, a := range t.attrs {
		if !validLocal(a.name) {
			return nil, fmt.Errorf("%w: bad attribute name %q", ErrNotWellFormed, a.name.local)
		}
		var prefix string
		switch {
		case a.name.prefix == "" && a.name.local == "xmlns":
			prefix = ""
		case a.name.prefix == "xmlns":
			prefix = a.name.local
		default:
			nattrs++
			continue
		}
		for _, b := range r.ns[mark:] {
			if b.prefix == prefix {
				return nil, fmt.Errorf("%w: duplicate namespace declaration", ErrNotWellFormed)
			}
		}
		// Namespaces in XML 1.0 §3: xml may only be bound to its own
		// namespace, xmlns not at all, and neither namespace to anything
		// else; only the default namespace may be undeclared.
		switch {
		case prefix == "xml" && a.value != NSXML,
			prefix == "xmlns",
			prefix != "xml" && (a.value == NSXML || a.value == nsXMLNS),
			prefix != "" && a.value == "":
			return nil, fmt.Errorf("%w: bad declaration of prefix %q", ErrBadNamespacePrefix, prefix)
		}
		r.ns = append(r.ns, binding{prefix, a.value})
	}
	if t.name.prefix == "xml" {
		// Legal XML, but nothing in XMPP lives there and it could not be
		// written back with a default namespace declaration.
		return nil, fmt.Errorf("%w: element in the xml namespace", ErrBadNamespacePrefix)
	}
	space, ok := r.lookup(t.name.prefix)
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrBadNamespacePrefix, t.name.prefix)
	}
	e := &Element{Space: space, Local: t.name.local}
	if nattrs == 0 {
		return e, nil
	}
	e.Attrs = make([]Attr, 0, nattrs)
	for _, a := range t.attrs {
		if a.name.prefix == "xmlns" || (a.name.prefix == "" && a.name.local == "xmlns") {
			continue
		}
		as := ""
		if a.name.prefix != "" {
			var ok bool
			if as, ok = r.lookup(a.name.prefix); !ok {
				return nil, fmt.Errorf("%w: %q", ErrBadNamespacePrefix, a.name.prefix)
			}
		}
		e.Attrs = append(e.Attrs, Attr{Space: as, Local: a.name.local, Value: a.value})
	}
	if hasDuplicateAttr(e.Attrs) {
		return nil, fmt.Errorf("%w: duplicate attribute", ErrNotWellFormed)
	}
	return e, nil
}

// validLocal reports whether the local part of a raw name is an NCName.
// The tokenizer, like encoding/xml, checks "p:l" as one XML Name and then
// splits it, so it lets through ":a" and "a:" as local names, and local
// parts that may not start a name ("p:0", "p:-"), which we could not write
// back on their own.
func validLocal(n qname) bool {
	if strings.IndexByte(n.local, ':') >= 0 {
		return false
	}
	if n.prefix == "" {
		return true // validated whole: its first character may start a name
	}
	// The rest of the name was checked whole (it holds no colon).
	r, _ := utf8.DecodeRuneInString(n.local)
	return startsName(r)
}

// hasDuplicateAttr reports whether two attributes share an expanded name
// (which also catches two prefixes bound to one namespace).
func hasDuplicateAttr(attrs []Attr) bool {
	if len(attrs) <= 16 {
		for i := 1; i < len(attrs); i++ {
			for _, prev := range attrs[:i] {
				if prev.Local == attrs[i].Local && prev.Space == attrs[i].Space {
					return true
				}
			}
		}
		return false
	}
	seen := make(map[[2]string]struct{}, len(attrs))
	for _, a := range attrs {
		k := [2]string{a.Space, a.Local}
		if _, dup := seen[k]; dup {
			return true
		}
		seen[k] = struct{}{}
	}
	return false
}

// ReadStreamStart reads an optional XML declaration and the root's opening
// tag. It returns the root (attributes only) and the default namespace it
// declares (the stream's content namespace, e.g. "jabber:client").
func (r *Reader) ReadStreamStart() (root *Element, defaultNS string, err error) {
	for {
		t, err := r.token()
		if errors.Is(err, ErrTextAtStreamLevel) {
			return nil, "", fmt.Errorf("%w: character data before the stream header", ErrNotWellFormed)
		}
		if err != nil {
			return nil, "", err
		}
		switch t.kind {
		case tokProcInst:
			r.src.skipSpace = true
			continue
		case tokText:
			if !isSpace(t.text) {
				return nil, "", ErrNotWellFormed
			}
			continue
		case tokStart:
			r.begun = true
			r.ns = r.ns[:0]
			e, err := r.start(t)
			if err != nil {
				return nil, "", err
			}
			r.root = t.name
			ns, _ := r.lookup("")
			r.resetBudget()
			r.src.skipSpace = true
			// Right after the header the stream is at a boundary too, as
			// after a top-level element (an idle stream can drop its state
			// before its first stanza), unless the root closed itself and
			// the tokenizer owes its end tag.
			r.atBoundary = !r.tok.needClose
			r.src.br.releaseIfEmpty()
			return e, ns, nil
		default:
			return nil, "", ErrNotWellFormed
		}
	}
}

// Next reads the next complete top-level element. Whitespace between
// elements (keepalives) is skipped. At the root's end tag it returns
// ErrStreamEnd.
//
// Next waits for the element's first byte itself, in a shallow frame and
// without a read buffer (see awaitInput), and only then runs the parser,
// whose frames are deep: the goroutine of an idle stream is parked on a
// small stack that the garbage collector can shrink.
func (r *Reader) Next() (*Element, error) {
	return r.nextElement(true)
}

// NextOrIdle is Next, except that where Next would wait for input between
// top-level elements (a source that is an InputWaiter had none), it
// returns ErrWouldWait at once, having given up its idle state as Next
// does before waiting. The caller can then wait on a goroutine of its own
// choosing, one with a small stack: a goroutine's stack, once grown,
// shrinks no further than what its parked frames allow.
func (r *Reader) NextOrIdle() (*Element, error) {
	return r.nextElement(false)
}

func (r *Reader) nextElement(wait bool) (*Element, error) {
	if err := r.awaitInput(wait); err != nil {
		return nil, err
	}
	el, err := r.next()
	r.src.br.releaseIfEmpty()
	return el, err
}

// awaitInput waits, between top-level elements, until a byte other than
// whitespace is buffered (or a read failed, which the parser then meets).
// Whitespace keepalives are consumed here, uncounted as in budgetReader.
// With a source that is an InputWaiter, it asks whether input is there and,
// if not, gives up its idle state (dropIdleState) and waits; any other
// source is read by the parser as before, holding the buffer.
func (r *Reader) awaitInput(wait bool) error {
	in := r.src.br
	if !r.src.skipSpace || !r.atBoundary {
		return nil
	}
	for {
		in.discardSpace()
		if in.Buffered() > 0 || in.err != nil || in.waiter == nil {
			return nil
		}
		n, ready, err := in.waiter.PollInput(in.probe[:])
		switch {
		case n > 0:
			in.acquire()
			in.r, in.w = 0, copy(in.buf, in.probe[:n])
			in.err = err // met after the bytes, as with a read
			continue
		case err != nil:
			r.src.err = err
			return err
		case !ready:
			r.dropIdleState()
			if !wait {
				return ErrWouldWait
			}
			if err := in.waiter.WaitInput(); err != nil {
				r.src.err = err
				return err
			}
		}
		in.fill()
	}
}

// dropIdleState gives up, between top-level elements with nothing
// buffered, what only parsing needs: the read buffer, the tokenizer (whose
// scratch buffer keeps the size of the longest token it has read) and the
// element stack. They are made again when input arrives; the tokenizer
// holds no state worth keeping at a boundary (see atBoundary).
func (r *Reader) dropIdleState() {
	r.src.br.releaseIfEmpty()
	if r.tok != nil {
		r.tok.release()
		r.tok = nil
	}
	r.stack = nil
}

// next reads the next top-level element with the parser.
func (r *Reader) next() (*Element, error) {
	stack := r.stack[:0]
	for {
		t, err := r.token()
		if err != nil {
			if err == io.EOF && len(stack) > 0 {
				err = io.ErrUnexpectedEOF
			}
			return nil, err
		}
		switch t.kind {
		case tokStart:
			if r.lim.MaxDepth > 0 && len(stack) >= r.lim.MaxDepth {
				return nil, ErrTooDeep
			}
			mark := len(r.ns)
			e, err := r.start(t)
			if err != nil {
				return nil, err
			}
			if len(stack) > 0 {
				parent := stack[len(stack)-1].el
				parent.Nodes = append(parent.Nodes, e)
			}
			if stack == nil {
				stack = make([]open, 0, 4) // dropped while idle; most stanzas nest less
			}
			stack = append(stack, open{e, t.name.prefix, t.name.local, mark})
		case tokEnd:
			if len(stack) == 0 {
				if t.name != r.root {
					return nil, fmt.Errorf("%w: mismatched end tag of the root", ErrNotWellFormed)
				}
				return nil, ErrStreamEnd
			}
			top := stack[len(stack)-1]
			if top.prefix != t.name.prefix || top.local != t.name.local {
				return nil, fmt.Errorf("%w: mismatched end tag", ErrNotWellFormed)
			}
			r.ns = r.ns[:top.mark]
			stack[len(stack)-1] = open{} // the reused stack must not pin the tree
			stack = stack[:len(stack)-1]
			if len(stack) == 0 {
				r.stack = stack
				r.resetBudget()
				r.src.skipSpace = true
				r.atBoundary = true
				return top.el, nil
			}
		case tokText:
			if len(t.text) == 0 {
				// An empty CDATA section: no node, so that a tree
				// always serialises and reads back the same.
				continue
			}
			if len(stack) == 0 {
				// Only reachable through CDATA: plain whitespace is
				// swallowed by budgetReader.
				if !isSpace(t.text) {
					return nil, ErrTextAtStreamLevel
				}
				r.resetBudget()
				continue
			}
			parent := stack[len(stack)-1].el
			if n := len(parent.Nodes); n > 0 {
				if prev, ok := parent.Nodes[n-1].(Text); ok {
					parent.Nodes[n-1] = prev + Text(t.text)
					continue
				}
			}
			parent.Nodes = append(parent.Nodes, Text(t.text))
		}
	}
}

func isSpace(b []byte) bool {
	for _, c := range b {
		if !isSpaceByte(c) {
			return false
		}
	}
	return true
}

// Restart prepares the reader for a new stream on the same connection
// (after SASL success, RFC 6120 §6.4.6): bytes already buffered are kept.
func (r *Reader) Restart() {
	r.newTokenizer()
	r.ns = r.ns[:0]
	r.begun = false
	r.root = qname{}
	r.src.skipSpace = true
	r.resetBudget()
}

// SetLimits changes the limits from the next element on (the server allows
// smaller stanzas before authentication). As with NewReader, limits without
// a byte budget mean DefaultLimits.
func (r *Reader) SetLimits(lim Limits) {
	r.lim = lim.normalized()
	r.resetBudget()
}

// InputWaiter is a source that can wait for input without being given a
// buffer to read it into. Between top-level elements, with nothing
// buffered, the Reader asks PollInput whether input is there and, if not,
// gives up its buffer and parser state and calls WaitInput: a stream that
// is idle (a client connected and silent, the common case) holds neither,
// and its goroutine waits in a shallow frame.
type InputWaiter interface {
	// PollInput reports without waiting whether a Read would find input.
	// Input that layers under it already hold (a decrypted TLS record)
	// it may return in p instead; an error is the one a Read would meet.
	PollInput(p []byte) (n int, ready bool, err error)
	// WaitInput blocks until a Read would return without waiting for the
	// peer (it may still wait for the rest of a record), or fails with
	// the error a Read would.
	WaitInput() error
}

// defaultBufSize is the read buffer size unless NewReader is given one.
const defaultBufSize = 4096

// bufPool recycles read buffers of defaultBufSize: a Reader holds one only
// while it has unread input, so the buffers in use at any time are about
// as many as the streams that are receiving something at that moment.
var bufPool = sync.Pool{New: func() any { b := make([]byte, defaultBufSize); return &b }}

// maxEmptyReads bounds reads returning neither data nor an error before
// fill gives up (as bufio does).
const maxEmptyReads = 100

// inputBuffer is the Reader's read buffer over its source, in the role of
// a bufio.Reader (whose ReadByte, Buffered, Peek and Size it mirrors) but
// holding its buffer only while there are unread bytes in it.
type inputBuffer struct {
	rd     io.Reader
	waiter InputWaiter // rd, if it is one
	bufp   *[]byte     // from bufPool, nil while released or if size is not the default
	buf    []byte      // nil while released
	r, w   int         // buf[r:w] is unread
	size   int
	err    error    // from the last read, returned once the bytes before it are consumed
	probe  [16]byte // for PollInput: what it returns is copied into the buffer
}

// Buffered returns the number of bytes that can be read without reading
// from the source.
func (b *inputBuffer) Buffered() int { return b.w - b.r }

// Size returns the size of the buffer (held or not).
func (b *inputBuffer) Size() int { return b.size }

func (b *inputBuffer) acquire() {
	if b.buf != nil {
		return
	}
	if b.size == defaultBufSize {
		b.bufp = bufPool.Get().(*[]byte)
		b.buf = *b.bufp
	} else {
		b.buf = make([]byte, b.size)
	}
	b.r, b.w = 0, 0
}

// releaseIfEmpty gives the buffer back when nothing in it is unread.
func (b *inputBuffer) releaseIfEmpty() {
	if b.buf == nil || b.r != b.w {
		return
	}
	if b.bufp != nil {
		bufPool.Put(b.bufp)
	}
	b.bufp, b.buf = nil, nil
	b.r, b.w = 0, 0
}

// fill makes one read from the source after the unread bytes (retrying
// reads that return nothing at all), keeping its error in b.err. A read
// that brought nothing leaves the buffer released.
func (b *inputBuffer) fill() {
	b.acquire()
	if b.r > 0 {
		copy(b.buf, b.buf[b.r:b.w])
		b.w -= b.r
		b.r = 0
	}
	if b.w == len(b.buf) {
		return
	}
	defer b.releaseIfEmpty()
	for range maxEmptyReads {
		n, err := b.rd.Read(b.buf[b.w:])
		if n < 0 || n > len(b.buf)-b.w {
			b.err = errors.New("xml: source returned an invalid count")
			return
		}
		b.w += n
		if err != nil {
			b.err = err
			return
		}
		if n > 0 {
			return
		}
	}
	b.err = io.ErrNoProgress
}

// takeErr returns the kept read error, once.
func (b *inputBuffer) takeErr() error {
	err := b.err
	b.err = nil
	return err
}

// ReadByte reads one byte, filling the buffer as needed.
func (b *inputBuffer) ReadByte() (byte, error) {
	for b.r == b.w {
		if b.err != nil {
			return 0, b.takeErr()
		}
		b.fill()
	}
	c := b.buf[b.r]
	b.r++
	return c, nil
}

// Peek returns the next n bytes without consuming them, reading as needed
// (and as bufio.Reader.Peek does: fewer bytes come with the read error,
// or with bufio.ErrBufferFull when n is more than the buffer holds).
func (b *inputBuffer) Peek(n int) ([]byte, error) {
	if n < 0 {
		return nil, bufio.ErrNegativeCount
	}
	for b.w-b.r < n && b.w-b.r < b.size && b.err == nil {
		b.fill()
	}
	if n > b.size {
		return b.buf[b.r:b.w], bufio.ErrBufferFull
	}
	if avail := b.w - b.r; avail < n {
		err := b.takeErr()
		if err == nil {
			err = bufio.ErrBufferFull
		}
		return b.buf[b.r:b.w], err
	}
	return b.buf[b.r : b.r+n], nil
}

// discardSpace consumes buffered whitespace.
func (b *inputBuffer) discardSpace() {
	for b.r < b.w && isSpaceByte(b.buf[b.r]) {
		b.r++
	}
}
