package pie

import (
	"bufio"
	exml "encoding/xml"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"path"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/jid"
	"github.com/skald-xmpp/skald/mam"
)

// DefaultMaxItemBytes bounds the input one <result> may take, and any
// single token outside results (a long text in a skipped vCard, say).
const DefaultMaxItemBytes = 1 << 20

// DefaultMaxPartBytes bounds the input one user part (a roster, the
// offline messages, a vCard...) may take: it is held whole in memory.
const DefaultMaxPartBytes = 64 << 20

const (
	maxIncludeDepth = 8
	// maxDepth bounds element nesting anywhere in a document: structure,
	// skipped user data and items (whose messages ParseStanza then holds
	// to the server's own, smaller depth limit).
	maxDepth = 256
)

var errTooLarge = errors.New("element or text exceeds the size limit")

// Options adjust decoding.
type Options struct {
	// MaxItemBytes bounds each <result> and every token outside results;
	// 0 means DefaultMaxItemBytes.
	MaxItemBytes int64
	// MaxPartBytes bounds each user part handed to UserPart (a roster or
	// <offline-messages> holds many items); 0 means DefaultMaxPartBytes.
	MaxPartBytes int64
	// User, if set, is called at each <user> start tag, before its data.
	User func(UserRecord) error
	// UserPart, if set, gets every child element of a <user> other than
	// <archive> and XInclude includes, read whole (see user.go); without
	// it they are skipped.
	UserPart func(UserPart) error
}

// Decode reads a XEP-0227 document from r and calls fn for each archive
// item, in document order. It stops at the first problem with the
// document, returned as *Error, or the first error fn returns, returned
// as it is. An XInclude <include/> is an error here: use DecodeFile.
func Decode(r io.Reader, opt Options, fn func(Record) error) error {
	d := newDecoder(nil, opt, fn)
	return d.document(d.newSource("", r), lvDocument, scope{})
}

// DecodeFile is Decode on the file name of fsys, following XInclude
// includes to other files of fsys (relative to the including file).
func DecodeFile(fsys fs.FS, name string, opt Options, fn func(Record) error) error {
	f, err := fsys.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	d := newDecoder(fsys, opt, fn)
	d.files = []string{name}
	return d.document(d.newSource(name, f), lvDocument, scope{})
}

type decoder struct {
	fsys    fs.FS
	maxItem int64
	maxPart int64
	fn      func(Record) error
	user    func(UserRecord) error
	part    func(UserPart) error
	files   []string // the include chain, to refuse cycles
}

func newDecoder(fsys fs.FS, opt Options, fn func(Record) error) *decoder {
	if opt.MaxItemBytes <= 0 {
		opt.MaxItemBytes = DefaultMaxItemBytes
	}
	if opt.MaxPartBytes <= 0 {
		opt.MaxPartBytes = DefaultMaxPartBytes
	}
	return &decoder{fsys: fsys, maxItem: opt.MaxItemBytes, maxPart: opt.MaxPartBytes, fn: fn, user: opt.User, part: opt.UserPart}
}

// level is where in the document an element appears.
type level int

const (
	lvDocument level = iota // the root of the main file
	lvServer                // a child of <server-data>
	lvHost                  // a child of <host>
	lvUser                  // a child of <user>
)

var levelParent = [...]string{lvDocument: "the document", lvServer: "<server-data>", lvHost: "<host>", lvUser: "<user>"}

// scope is what the enclosing elements established.
type scope struct {
	host  jid.JID
	owner jid.JID
}

// document reads one file whose root element appears at lv.
func (d *decoder) document(s *source, lv level, sc scope) error {
	var root *xml.Element
	rootLine := 0
	for root == nil {
		t, err := s.next()
		switch {
		case err == io.EOF:
			return s.errorf(t.line, "no root element")
		case err != nil:
			return err
		case t.start != nil:
			root, rootLine = t.start, t.line
		case t.end:
			return s.errorf(t.line, "unexpected end tag") // unreachable: the decoder refuses it
		case !isSpace(t.text):
			return s.errorf(t.textLine(), "text before the root element")
		}
	}
	if err := d.element(s, lv, root, rootLine, sc); err != nil {
		return err
	}
	for {
		t, err := s.next()
		switch {
		case err == io.EOF:
			return nil
		case err != nil:
			return err
		case t.start != nil:
			return s.errorf(t.line, "a second root element")
		case !isSpace(t.text):
			return s.errorf(t.textLine(), "text after the root element")
		}
	}
}

// element handles an element that appears at lv, whose start tag (at
// line) has been read; it returns after its end tag.
func (d *decoder) element(s *source, lv level, el *xml.Element, line int, sc scope) error {
	if el.Is(NSXInclude, "include") && lv != lvDocument {
		return d.include(s, lv, el, line, sc)
	}
	switch lv {
	case lvDocument:
		if !el.Is(NS, "server-data") {
			return s.errorf(line, "the root element is {%s}%s: not a XEP-0227 document (want <server-data xmlns='%s'>)", el.Space, el.Local, NS)
		}
		return d.children(s, lvServer, sc, "server-data")
	case lvServer:
		if el.Is(NS, "host") {
			h, err := jid.Parse(el.Attr("jid"))
			if err != nil || h.Local() != "" || h.IsFull() {
				return s.errorf(line, "<host jid=%q>: not a domain", el.Attr("jid"))
			}
			return d.children(s, lvHost, scope{host: h}, "host")
		}
	case lvHost:
		if el.Is(NS, "user") {
			name := el.Attr("name")
			if name == "" {
				return s.errorf(line, "<user> without a name")
			}
			owner, err := jid.New(name, sc.host.String(), "")
			if err != nil {
				return s.errorf(line, "<user name=%q> at %s: %v", name, sc.host, err)
			}
			if d.user != nil {
				if err := d.user(UserRecord{Owner: owner, Password: el.Attr("password"), HasPassword: el.HasAttr("password"), File: s.name, Line: line}); err != nil {
					return err
				}
			}
			return d.children(s, lvUser, scope{host: sc.host, owner: owner}, "user")
		}
	case lvUser:
		if el.Is(NSMAM, "archive") {
			return d.archive(s, sc.owner)
		}
		if d.part != nil {
			return d.userPart(s, sc.owner, el, line)
		}
		// The rest of the user's data (roster, vCard, offline messages,
		// credentials, PEP...) is not the archive's business.
		return s.skip()
	}
	if el.Space == NS {
		return s.errorf(line, "<%s> may not appear in %s", el.Local, levelParent[lv])
	}
	return s.skip() // an extension (XEP-0227: ignore unknown data)
}

// children handles the content of a structural element up to its end.
func (d *decoder) children(s *source, lv level, sc scope, name string) error {
	for {
		t, err := s.next()
		switch {
		case err != nil:
			return s.eofIsUnexpected(err)
		case t.end:
			return nil
		case t.start != nil:
			if err := d.element(s, lv, t.start, t.line, sc); err != nil {
				return err
			}
		case !isSpace(t.text):
			return s.errorf(t.textLine(), "text in <%s>", name)
		}
	}
}

// archive reads the results of owner's <archive> up to its end.
func (d *decoder) archive(s *source, owner jid.JID) error {
	for {
		t, err := s.next()
		switch {
		case err != nil:
			return s.eofIsUnexpected(err)
		case t.end:
			return nil
		case t.start != nil && t.start.Is(mam.NS, "result"):
			if err := d.result(s, owner, t.start, t.line); err != nil {
				return err
			}
		case t.start != nil && (t.start.Space == NSMAM || t.start.Space == mam.NS):
			return s.errorf(t.line, "<%s> may not appear in <archive>", t.start.Local)
		case t.start != nil:
			if err := s.skip(); err != nil {
				return err
			}
		case !isSpace(t.text):
			return s.errorf(t.textLine(), "text in <archive>")
		}
	}
}

// result reads one item and hands it to fn.
func (d *decoder) result(s *source, owner jid.JID, res *xml.Element, line int) error {
	s.in.limit = s.in.n + d.maxItem // the whole item, not each token
	s.inItem, s.itemMax = true, d.maxItem
	err := s.tree(res)
	s.inItem = false
	if err != nil {
		return s.eofIsUnexpected(err)
	}
	fwd := res.Child(mam.NSForward, "forwarded")
	if fwd == nil {
		return s.errorf(line, "<result> without <forwarded xmlns='%s'>", mam.NSForward)
	}
	delay := fwd.Child(mam.NSDelay, "delay")
	if delay == nil {
		return s.errorf(line, "<forwarded> without <delay xmlns='%s' stamp=…/>", mam.NSDelay)
	}
	stamp, err := mam.ParseDateTime(delay.Attr("stamp"))
	if err != nil {
		return s.errorf(line, "<delay stamp=%q>: not an XEP-0082 DateTime", delay.Attr("stamp"))
	}
	msg := fwd.Child(nsClient, "message")
	if msg == nil {
		return s.errorf(line, "<forwarded> holds no <message xmlns='%s'>", nsClient)
	}
	// What is stored is the serialisation of msg: it must read back
	// under the rules the server applies to stored stanzas.
	st, err := ParseStanza([]byte(msg.String()))
	if err != nil {
		return s.errorf(line, "<message>: %v", err)
	}
	return d.fn(Record{
		Owner: owner,
		Item:  Item{ID: res.Attr("id"), Stamp: stamp.Truncate(time.Microsecond), Message: st},
		File:  s.name,
		Line:  line,
	})
}

// userPart reads one child of owner's <user> whole and hands it over.
func (d *decoder) userPart(s *source, owner jid.JID, el *xml.Element, line int) error {
	s.in.limit = s.in.n + d.maxPart // the whole part, not each token
	s.inItem, s.itemMax = true, d.maxPart
	err := s.tree(el)
	s.inItem = false
	if err != nil {
		return s.eofIsUnexpected(err)
	}
	return d.part(UserPart{Owner: owner, Element: el, File: s.name, Line: line})
}

// include reads the document an XInclude element names in its place.
func (d *decoder) include(s *source, lv level, el *xml.Element, line int, sc scope) error {
	href := el.Attr("href")
	switch {
	case d.fsys == nil:
		return s.errorf(line, "XInclude <include href=%q/>: only a document read from a file may include others", href)
	case el.HasAttr("xpointer"):
		return s.errorf(line, "XInclude <include/> with xpointer is not supported")
	case el.Attr("parse") != "" && el.Attr("parse") != "xml":
		return s.errorf(line, "XInclude <include parse=%q/> is not supported", el.Attr("parse"))
	case href == "":
		return s.errorf(line, "XInclude <include/> without href")
	}
	u, err := url.Parse(href)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" ||
		u.Path == "" || strings.HasPrefix(u.Path, "/") {
		return s.errorf(line, "XInclude href %q: want a relative reference to a file", href)
	}
	name := path.Join(path.Dir(s.name), u.Path)
	switch {
	case !fs.ValidPath(name) || name == ".":
		return s.errorf(line, "XInclude href %q leaves the directory of the imported file", href)
	case slices.Contains(d.files, name):
		return s.errorf(line, "XInclude href %q includes itself", href)
	case len(d.files) > maxIncludeDepth:
		return s.errorf(line, "XInclude includes nest more than %d deep", maxIncludeDepth)
	}
	// The include element's own content (<fallback/>) is not used.
	if err := s.skip(); err != nil {
		return err
	}
	f, err := d.fsys.Open(name)
	if err != nil {
		return s.errorf(line, "XInclude: %v", err)
	}
	defer f.Close()
	d.files = append(d.files, name)
	defer func() { d.files = d.files[:len(d.files)-1] }()
	return d.document(d.newSource(name, f), lv, sc)
}

// ---------------------------------------------------------------- tokens

// source is one file being read: encoding/xml's tokenizer (RawToken, so
// that namespaces are resolved here and an undeclared prefix is an error,
// as in internal/xml) under a byte budget.
type source struct {
	name    string
	dec     *exml.Decoder
	in      *budgetReader
	maxItem int64
	inItem  bool
	itemMax int64 // the bound of the item or part being read
	ns      []binding
	open    []opened // open elements, innermost last
}

type binding struct{ prefix, uri string }

type opened struct {
	name exml.Name // raw, to match the end tag
	mark int       // len(ns) before the element's declarations
}

// token is a start tag (resolved, without children), an end tag or text.
type token struct {
	start *xml.Element
	end   bool
	text  []byte
	line  int
}

// textLine is the line of the first non-space character of a text token.
func (t token) textLine() int {
	line := t.line
	for _, c := range t.text {
		switch c {
		case '\n':
			line++
		case ' ', '\t', '\r':
		default:
			return line
		}
	}
	return line
}

func (d *decoder) newSource(name string, r io.Reader) *source {
	in := &budgetReader{r: bufio.NewReaderSize(r, 64<<10)}
	dec := exml.NewDecoder(in)
	dec.Strict = true
	return &source{name: name, dec: dec, in: in, maxItem: d.maxItem}
}

func (s *source) errorf(line int, format string, args ...any) error {
	return &Error{File: s.name, Line: line, Err: fmt.Errorf(format, args...)}
}

func (s *source) eofIsUnexpected(err error) error {
	if err == io.EOF && len(s.open) > 0 {
		line, _ := s.dec.InputPos()
		return s.errorf(line, "the document ends inside <%s>", s.open[len(s.open)-1].name.Local)
	}
	return err
}

// next returns the next token; comments and processing instructions are
// skipped. At the end of the input it returns io.EOF, and any other
// problem as *Error.
func (s *source) next() (token, error) {
	for {
		if !s.inItem {
			s.in.limit = s.in.n + s.maxItem
		}
		line, _ := s.dec.InputPos()
		t, err := s.dec.RawToken()
		if err != nil {
			if err == io.EOF {
				if len(s.open) > 0 {
					return token{line: line}, s.eofIsUnexpected(io.EOF)
				}
				return token{line: line}, io.EOF
			}
			var se *exml.SyntaxError
			if errors.As(err, &se) {
				return token{}, s.errorf(se.Line, "not well-formed XML: %s", se.Msg)
			}
			l, _ := s.dec.InputPos()
			if err == errTooLarge {
				limit := s.maxItem
				if s.inItem {
					limit = s.itemMax
				}
				return token{}, s.errorf(l, "%v (%d bytes)", err, limit)
			}
			return token{}, s.errorf(l, "%v", err)
		}
		switch t := t.(type) {
		case exml.StartElement:
			if len(s.open) >= maxDepth {
				return token{}, s.errorf(line, "elements nest more than %d deep", maxDepth)
			}
			mark := len(s.ns)
			el, err := s.start(t)
			if err != nil {
				return token{}, s.errorf(line, "%v", err)
			}
			s.open = append(s.open, opened{t.Name, mark})
			return token{start: el, line: line}, nil
		case exml.EndElement:
			if len(s.open) == 0 || s.open[len(s.open)-1].name != t.Name {
				return token{}, s.errorf(line, "not well-formed XML: unexpected end tag </%s>", rawName(t.Name))
			}
			top := s.open[len(s.open)-1]
			s.ns = s.ns[:top.mark]
			s.open = s.open[:len(s.open)-1]
			return token{end: true, line: line}, nil
		case exml.CharData:
			return token{text: t, line: line}, nil
		case exml.Directive:
			return token{}, s.errorf(line, "DTDs are not supported")
		}
		// exml.Comment, exml.ProcInst: nothing to import.
	}
}

// skip reads up to the end of the element whose start tag was just read.
func (s *source) skip() error {
	for depth := 1; depth > 0; {
		t, err := s.next()
		if err != nil {
			return s.eofIsUnexpected(err)
		}
		switch {
		case t.start != nil:
			depth++
		case t.end:
			depth--
		}
	}
	return nil
}

// tree reads the content of el, whose start tag was just read, into it.
func (s *source) tree(el *xml.Element) error {
	stack := []*xml.Element{el}
	for len(stack) > 0 {
		t, err := s.next()
		if err != nil {
			return err
		}
		top := stack[len(stack)-1]
		switch {
		case t.start != nil:
			top.Append(t.start)
			stack = append(stack, t.start)
		case t.end:
			stack = stack[:len(stack)-1]
		case len(t.text) > 0:
			if n := len(top.Nodes); n > 0 {
				if prev, ok := top.Nodes[n-1].(xml.Text); ok {
					top.Nodes[n-1] = prev + xml.Text(t.text)
					continue
				}
			}
			top.Nodes = append(top.Nodes, xml.Text(t.text))
		}
	}
	return nil
}

func (s *source) lookup(prefix string) (string, bool) {
	for i := len(s.ns) - 1; i >= 0; i-- {
		if s.ns[i].prefix == prefix {
			return s.ns[i].uri, true
		}
	}
	switch prefix {
	case "":
		return "", true
	case "xml":
		return xml.NSXML, true
	}
	return "", false
}

// start resolves a raw start tag, pushing its namespace declarations.
func (s *source) start(t exml.StartElement) (*xml.Element, error) {
	if !validName(t.Name) {
		return nil, fmt.Errorf("bad element name %q", rawName(t.Name))
	}
	for _, a := range t.Attr {
		switch {
		case a.Name.Space == "" && a.Name.Local == "xmlns":
			s.ns = append(s.ns, binding{"", a.Value})
		case a.Name.Space == "xmlns":
			if a.Value == "" {
				return nil, fmt.Errorf("prefix %q bound to the empty namespace", a.Name.Local)
			}
			s.ns = append(s.ns, binding{a.Name.Local, a.Value})
		}
	}
	space, ok := s.lookup(t.Name.Space)
	if !ok || t.Name.Space == "xml" {
		return nil, fmt.Errorf("undeclared namespace prefix %q", t.Name.Space)
	}
	el := &xml.Element{Space: space, Local: t.Name.Local}
	for _, a := range t.Attr {
		if a.Name.Space == "xmlns" || (a.Name.Space == "" && a.Name.Local == "xmlns") {
			continue
		}
		if !validName(a.Name) {
			return nil, fmt.Errorf("bad attribute name %q", rawName(a.Name))
		}
		as := ""
		if a.Name.Space != "" {
			if as, ok = s.lookup(a.Name.Space); !ok {
				return nil, fmt.Errorf("undeclared namespace prefix %q", a.Name.Space)
			}
		}
		el.Attrs = append(el.Attrs, xml.Attr{Space: as, Local: a.Name.Local, Value: a.Value})
	}
	return el, nil
}

// validName reports whether a raw name's local part is an NCName (the
// tokenizer splits "p:a:b" into p and "a:b", and accepts "p:-").
func validName(n exml.Name) bool {
	if n.Local == "" || strings.IndexByte(n.Local, ':') >= 0 {
		return false
	}
	r, _ := utf8.DecodeRuneInString(n.Local)
	return r == '_' || unicode.IsLetter(r)
}

func rawName(n exml.Name) string {
	if n.Space == "" {
		return n.Local
	}
	return n.Space + ":" + n.Local
}

func isSpace(b []byte) bool {
	for _, c := range b {
		if c != ' ' && c != '\t' && c != '\r' && c != '\n' {
			return false
		}
	}
	return true
}

// budgetReader hands the tokenizer at most limit bytes in total, so that
// no token (or item) makes it buffer more than the caller allows.
type budgetReader struct {
	r        *bufio.Reader
	n, limit int64
}

func (b *budgetReader) ReadByte() (byte, error) {
	if b.n >= b.limit {
		return 0, errTooLarge
	}
	c, err := b.r.ReadByte()
	if err == nil {
		b.n++
	}
	return c, err
}

// Read exists for io.Reader; the tokenizer uses ReadByte.
func (b *budgetReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	c, err := b.ReadByte()
	if err != nil {
		return 0, err
	}
	p[0] = c
	return 1, nil
}
