package xml

import (
	"errors"
	"io"
	"strings"
	"testing"
)

func TestWholeElement(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"", false},
		{"   \n\t", false},
		{"<message/>", true},
		{"  <message/>", true},
		{"<message", false},
		{"<message>", false},
		{"<message><body>hi</body>", false},
		{"<message><body>hi</body></message>", true},
		{"<message><body>hi</body></message><message><bo", true},
		{"<message><body>a > b</body></message>", true},
		{"<message id='a>b'><body/></message>", true},
		{`<message id="a'>"/>`, true},
		{"<message id='a>b", false},
		{"<message><x/><y><z/></y></message>", true},
		{"<message><x/><y><z/></y>", false},
		{"<message><![CDATA[</message>]]></message>", false},
		{"<message><!-- x --></message>", false},
		{"</stream:stream>", true},
		{"<", false},
		{"x<message/>", false},
	}
	for _, tc := range tests {
		if got := wholeElement([]byte(tc.in)); got != tc.want {
			t.Errorf("wholeElement(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

// TestStanzaBufferedThroughReader checks StanzaBuffered against what the
// reader has actually buffered from a source that delivers in pieces.
func TestStanzaBufferedThroughReader(t *testing.T) {
	src := &chunks{parts: []string{
		"<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>",
		"<message id='1'><body>a</body></message> ",
		"<message id='2'><bo",
		"dy>b</body></message><message id='3'/>",
	}}
	rd := NewReader(src, Limits{}, 0)
	if _, _, err := rd.ReadStreamStart(); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		id       string
		buffered bool // after reading the element with this id
	}{
		{"1", false}, // only whitespace left
		{"2", true},  // message 3 came in the same read
		{"3", false},
	}
	for _, s := range steps {
		el, err := rd.Next()
		if err != nil {
			t.Fatal(err)
		}
		if el.Attr("id") != s.id {
			t.Fatalf("got %s, want id %s", el, s.id)
		}
		if got := rd.StanzaBuffered(); got != s.buffered {
			t.Fatalf("after %s: StanzaBuffered = %v", s.id, got)
		}
	}
}

// chunks returns one part per Read.
type chunks struct{ parts []string }

func (c *chunks) Read(p []byte) (int, error) {
	if len(c.parts) == 0 {
		return 0, io.EOF
	}
	n := copy(p, c.parts[0])
	c.parts[0] = c.parts[0][n:]
	if c.parts[0] == "" {
		c.parts = c.parts[1:]
	}
	return n, nil
}

// FuzzWholeElement: when wholeElement says the first element is complete,
// the reader returns it (or a syntax error) without needing more input.
func FuzzWholeElement(f *testing.F) {
	for _, s := range []string{"<message/>", "<a><b x='>'/></a>", "<a>t</a><b", "</x>", "<a x=\"'\">"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !wholeElement([]byte(s)) {
			return
		}
		rd := NewReader(strings.NewReader("<s xmlns='jabber:client'>"+s), Limits{}, 0)
		if _, _, err := rd.ReadStreamStart(); err != nil {
			return
		}
		_, err := rd.Next()
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			t.Fatalf("wholeElement(%q) = true but the reader ran out of input: %v", s, err)
		}
	})
}
