package xml

import (
	"errors"
	"io"
	"sort"
	"strconv"
	"strings"
	"testing"
)

const (
	nsClient = "jabber:client"
	nsStream = "http://etherx.jabber.org/streams"
	// hdr is a client stream header as clients send it.
	hdr = `<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='example.com' version='1.0'>`
)

// testLimits are small enough to test and large enough for every table row.
var testLimits = Limits{MaxStanzaBytes: 4096, MaxDepth: 8, MaxAttrs: 8}

// newStream returns a reader positioned after hdr, with limits lim applying
// from the first stanza on (the header itself is read under DefaultLimits).
func newStream(t testing.TB, src io.Reader, lim Limits) *Reader {
	t.Helper()
	rd := NewReader(io.MultiReader(strings.NewReader(hdr), src), DefaultLimits, 0)
	if _, _, err := rd.ReadStreamStart(); err != nil {
		t.Fatal(err)
	}
	rd.SetLimits(lim)
	return rd
}

// readAll reads header+body and returns the elements read before the first
// error, and that error (ErrStreamEnd for a closed stream). lim applies
// from the first stanza on.
func readAll(body string, lim Limits) ([]*Element, error) {
	rd := NewReader(strings.NewReader(hdr+body), DefaultLimits, 0)
	if _, _, err := rd.ReadStreamStart(); err != nil {
		return nil, err
	}
	rd.SetLimits(lim)
	var out []*Element
	for {
		el, err := rd.Next()
		if err != nil {
			return out, err
		}
		out = append(out, el)
	}
}

// readOne reads the single element in body.
func readOne(t testing.TB, body string) *Element {
	t.Helper()
	els, err := readAll(body, testLimits)
	if len(els) != 1 || !errors.Is(err, io.EOF) {
		t.Fatalf("reading %q: got %d elements, err %v", body, len(els), err)
	}
	return els[0]
}

// dump renders a tree canonically, with namespaces spelled out, so that
// trees compare as strings and failures show readable differences.
// Attributes are sorted: their order is not significant in XML.
func dump(e *Element) string {
	var b strings.Builder
	dumpTo(&b, e)
	return b.String()
}

func dumpTo(b *strings.Builder, e *Element) {
	b.WriteString("{" + e.Space + "}" + e.Local)
	if len(e.Attrs) > 0 {
		attrs := make([]string, len(e.Attrs))
		for i, a := range e.Attrs {
			name := a.Local
			if a.Space != "" {
				name = "{" + a.Space + "}" + a.Local
			}
			attrs[i] = name + "=" + strconv.Quote(a.Value)
		}
		sort.Strings(attrs)
		b.WriteString("[" + strings.Join(attrs, " ") + "]")
	}
	if len(e.Nodes) > 0 {
		b.WriteString("(")
		for i, n := range e.Nodes {
			if i > 0 {
				b.WriteString(" ")
			}
			switch n := n.(type) {
			case *Element:
				dumpTo(b, n)
			case Text:
				b.WriteString(strconv.Quote(string(n)))
			case *Raw:
				b.WriteString("raw" + strconv.Quote(string(n.b)))
			}
		}
		b.WriteString(")")
	}
}

// errName names the sentinel err wraps, for table tests and fuzzing.
func errName(err error) string {
	for _, s := range []struct {
		err  error
		name string
	}{
		{nil, "ok"},
		// Before ErrNotWellFormed, which it wraps.
		{ErrUnsupportedEncoding, "unsupported-encoding"},
		{ErrNotWellFormed, "not-well-formed"},
		{ErrRestrictedXML, "restricted-xml"},
		{ErrBadNamespacePrefix, "bad-namespace-prefix"},
		{ErrTooLarge, "too-large"},
		{ErrTooDeep, "too-deep"},
		{ErrTooManyAttrs, "too-many-attrs"},
		{ErrTextAtStreamLevel, "text-at-stream-level"},
		{ErrStreamEnd, "stream-end"},
		{io.ErrUnexpectedEOF, "unexpected-eof"},
		{io.EOF, "eof"},
	} {
		if err == s.err || (s.err != nil && errors.Is(err, s.err)) {
			return s.name
		}
	}
	return "unknown: " + err.Error()
}
