package xml

import (
	"bufio"
	exml "encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
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
	// ErrStreamEnd is returned by Next when the stream's root element closes.
	ErrStreamEnd = errors.New("xml: end of stream")
)

// Limits bound what one top-level element may cost. They are enforced while
// reading, byte by byte, never after buffering a whole stanza.
type Limits struct {
	MaxStanzaBytes int64 // bytes from the end of the previous stanza to the end of this one
	MaxDepth       int   // nesting depth of a stanza (the stanza itself is depth 1)
	MaxAttrs       int   // attributes (namespace declarations included) on one element
}

// DefaultLimits are the server's defaults (256 KiB stanzas).
var DefaultLimits = Limits{MaxStanzaBytes: 256 << 10, MaxDepth: 32, MaxAttrs: 64}

// Reader reads an XMPP stream: one opening root tag, then complete top-level
// elements. It resolves namespaces itself (on encoding/xml's RawToken) so
// that undeclared prefixes are an error rather than silently kept.
type Reader struct {
	dec   *exml.Decoder
	src   *budgetReader
	lim   Limits
	ns    []binding // in-scope namespace declarations, innermost last
	begun bool      // root element seen
}

type binding struct{ prefix, uri string }

// budgetReader is the decoder's byte source. It refuses to hand out more
// than limit bytes, which caps how much one stanza may make us read.
type budgetReader struct {
	br    *bufio.Reader
	n     int64
	limit int64
}

func (b *budgetReader) ReadByte() (byte, error) {
	if b.n >= b.limit {
		return 0, ErrTooLarge
	}
	c, err := b.br.ReadByte()
	if err == nil {
		b.n++
	}
	return c, err
}

func (b *budgetReader) Read(p []byte) (int, error) {
	if b.n >= b.limit {
		return 0, ErrTooLarge
	}
	if rem := b.limit - b.n; int64(len(p)) > rem {
		p = p[:rem]
	}
	n, err := b.br.Read(p)
	b.n += int64(n)
	return n, err
}

// NewReader returns a Reader over r. bufSize is the read buffer size
// (0 = 4096).
func NewReader(r io.Reader, lim Limits, bufSize int) *Reader {
	if bufSize <= 0 {
		bufSize = 4096
	}
	if lim.MaxStanzaBytes <= 0 {
		lim = DefaultLimits
	}
	src := &budgetReader{br: bufio.NewReaderSize(r, bufSize)}
	src.limit = lim.MaxStanzaBytes
	dec := exml.NewDecoder(src)
	dec.Strict = true
	return &Reader{dec: dec, src: src, lim: lim}
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

func (r *Reader) token() (exml.Token, error) {
	t, err := r.dec.RawToken()
	if err != nil {
		var se *exml.SyntaxError
		if errors.As(err, &se) {
			if strings.Contains(se.Msg, "entity") {
				return nil, fmt.Errorf("%w: %s", ErrRestrictedXML, se.Msg)
			}
			return nil, fmt.Errorf("%w: %s", ErrNotWellFormed, se.Msg)
		}
		return nil, err
	}
	switch t := t.(type) {
	case exml.Comment, exml.Directive:
		return nil, ErrRestrictedXML
	case exml.ProcInst:
		if t.Target != "xml" || r.begun {
			return nil, ErrRestrictedXML
		}
	}
	return t, nil
}

// start converts a raw start tag into an Element, pushing its namespace
// declarations. The caller pops them with r.ns = r.ns[:mark].
func (r *Reader) start(t exml.StartElement) (*Element, error) {
	if r.lim.MaxAttrs > 0 && len(t.Attr) > r.lim.MaxAttrs {
		return nil, ErrTooManyAttrs
	}
	for _, a := range t.Attr {
		switch {
		case a.Name.Space == "" && a.Name.Local == "xmlns":
			r.ns = append(r.ns, binding{"", a.Value})
		case a.Name.Space == "xmlns":
			if a.Value == "" || a.Name.Local == "xml" || a.Name.Local == "xmlns" {
				return nil, fmt.Errorf("%w: bad declaration of prefix %q", ErrBadNamespacePrefix, a.Name.Local)
			}
			r.ns = append(r.ns, binding{a.Name.Local, a.Value})
		}
	}
	space, ok := r.lookup(t.Name.Space)
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrBadNamespacePrefix, t.Name.Space)
	}
	e := &Element{Space: space, Local: t.Name.Local}
	for _, a := range t.Attr {
		if a.Name.Space == "xmlns" || (a.Name.Space == "" && a.Name.Local == "xmlns") {
			continue
		}
		as := ""
		if a.Name.Space != "" {
			var ok bool
			if as, ok = r.lookup(a.Name.Space); !ok {
				return nil, fmt.Errorf("%w: %q", ErrBadNamespacePrefix, a.Name.Space)
			}
		}
		for _, prev := range e.Attrs {
			if prev.Space == as && prev.Local == a.Name.Local {
				return nil, fmt.Errorf("%w: duplicate attribute %q", ErrNotWellFormed, a.Name.Local)
			}
		}
		e.Attrs = append(e.Attrs, Attr{Space: as, Local: a.Name.Local, Value: a.Value})
	}
	return e, nil
}

// ReadStreamStart reads an optional XML declaration and the root's opening
// tag. It returns the root (attributes only) and the default namespace it
// declares (the stream's content namespace, e.g. "jabber:client").
func (r *Reader) ReadStreamStart() (root *Element, defaultNS string, err error) {
	for {
		t, err := r.token()
		if err != nil {
			return nil, "", err
		}
		switch t := t.(type) {
		case exml.ProcInst:
			continue
		case exml.CharData:
			if !isSpace(t) {
				return nil, "", ErrNotWellFormed
			}
			continue
		case exml.StartElement:
			r.begun = true
			r.ns = r.ns[:0]
			e, err := r.start(t)
			if err != nil {
				return nil, "", err
			}
			ns, _ := r.lookup("")
			r.resetBudget()
			return e, ns, nil
		default:
			return nil, "", ErrNotWellFormed
		}
	}
}

// Next reads the next complete top-level element. Whitespace between
// elements (keepalives) is skipped. At the root's end tag it returns
// ErrStreamEnd.
func (r *Reader) Next() (*Element, error) {
	type open struct {
		el     *Element
		prefix string // raw name, to check the end tag matches
		local  string
		mark   int // len(r.ns) before this element's declarations
	}
	var stack []open
	for {
		t, err := r.token()
		if err != nil {
			return nil, err
		}
		switch t := t.(type) {
		case exml.StartElement:
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
			stack = append(stack, open{e, t.Name.Space, t.Name.Local, mark})
		case exml.EndElement:
			if len(stack) == 0 {
				// The root closes.
				return nil, ErrStreamEnd
			}
			top := stack[len(stack)-1]
			if top.prefix != t.Name.Space || top.local != t.Name.Local {
				return nil, fmt.Errorf("%w: mismatched end tag", ErrNotWellFormed)
			}
			r.ns = r.ns[:top.mark]
			stack = stack[:len(stack)-1]
			if len(stack) == 0 {
				r.resetBudget()
				return top.el, nil
			}
		case exml.CharData:
			if len(stack) == 0 {
				if !isSpace(t) {
					return nil, ErrTextAtStreamLevel
				}
				r.resetBudget()
				continue
			}
			parent := stack[len(stack)-1].el
			if n := len(parent.Nodes); n > 0 {
				if prev, ok := parent.Nodes[n-1].(Text); ok {
					parent.Nodes[n-1] = prev + Text(t)
					continue
				}
			}
			parent.Nodes = append(parent.Nodes, Text(t))
		}
	}
}

func isSpace(b []byte) bool {
	for _, c := range b {
		if c != ' ' && c != '\t' && c != '\r' && c != '\n' {
			return false
		}
	}
	return true
}

// Restart prepares the reader for a new stream on the same connection
// (after SASL success, RFC 6120 §6.4.6): bytes already buffered are kept.
func (r *Reader) Restart() {
	r.dec = exml.NewDecoder(r.src)
	r.dec.Strict = true
	r.ns = r.ns[:0]
	r.begun = false
	r.resetBudget()
}

// SetLimits changes the limits from the next element on (the server allows
// smaller stanzas before authentication).
func (r *Reader) SetLimits(lim Limits) {
	r.lim = lim
	r.resetBudget()
}
