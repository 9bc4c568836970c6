package stream

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/skald-xmpp/skald/internal/xml"
)

type timeoutError struct{}

func (timeoutError) Error() string   { return "i/o timeout" }
func (timeoutError) Timeout() bool   { return true }
func (timeoutError) Temporary() bool { return true }

func TestFromReadError(t *testing.T) {
	own := New(Conflict, "replaced by new connection")
	tests := []struct {
		name string
		err  error
		want Condition // "" = no stream error
	}{
		{"nil", nil, ""},
		{"EOF", io.EOF, ""},
		{"EOF mid-stanza", io.ErrUnexpectedEOF, ""},
		{"timeout", timeoutError{}, ""},
		{"other I/O error", errors.New("connection reset by peer"), ""},
		{"stream end is not an error to send", xml.ErrStreamEnd, ""},
		{"too large", xml.ErrTooLarge, PolicyViolation},
		{"too deep", xml.ErrTooDeep, PolicyViolation},
		{"too many attributes", xml.ErrTooManyAttrs, PolicyViolation},
		{"restricted XML", xml.ErrRestrictedXML, RestrictedXML},
		{"bad namespace prefix", xml.ErrBadNamespacePrefix, BadNamespacePrefix},
		{"text at stream level", xml.ErrTextAtStreamLevel, BadFormat},
		{"not well-formed", xml.ErrNotWellFormed, NotWellFormed},
		// RFC 6120 §4.9.3.22 would have unsupported-encoding here;
		// until FromReadError maps it, it falls back to what it wraps.
		{"unsupported encoding", xml.ErrUnsupportedEncoding, UnsupportedEncoding},
		{"wrapped sentinel", fmt.Errorf("%w: invalid character entity &foo;", xml.ErrRestrictedXML), RestrictedXML},
		{"doubly wrapped", fmt.Errorf("c2s: %w", fmt.Errorf("%w: detail", xml.ErrTooLarge)), PolicyViolation},
		{"stream error itself", own, Conflict},
		{"wrapped stream error", fmt.Errorf("auth: %w", New(NotAuthorized, "")), NotAuthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := FromReadError(tt.err)
			if tt.want == "" {
				if got != nil {
					t.Errorf("got %v, want nil", got)
				}
				return
			}
			if got == nil || got.Condition != tt.want {
				t.Fatalf("got %v, want %s", got, tt.want)
			}
			// The peer must never see our internal error text.
			if strings.Contains(got.Text, "detail") || strings.Contains(got.Text, "entity") {
				t.Errorf("internal detail leaked into Text %q", got.Text)
			}
		})
	}
	if FromReadError(own) != own {
		t.Error("a stream error is not passed through as is")
	}
}

func TestErrorBytes(t *testing.T) {
	tests := []struct {
		name string
		err  *Error
		want string
	}{
		{"condition only", New(NotWellFormed, ""),
			`<stream:error><not-well-formed xmlns="urn:ietf:params:xml:ns:xmpp-streams"/></stream:error>`},
		{"with text", New(PolicyViolation, "stanza too large"),
			`<stream:error><policy-violation xmlns="urn:ietf:params:xml:ns:xmpp-streams"/>` +
				`<text xmlns="urn:ietf:params:xml:ns:xmpp-streams" xml:lang="en">stanza too large</text></stream:error>`},
		{"text escaped", New(Conflict, `<b>&"x"`),
			`<stream:error><conflict xmlns="urn:ietf:params:xml:ns:xmpp-streams"/>` +
				`<text xmlns="urn:ietf:params:xml:ns:xmpp-streams" xml:lang="en">&lt;b&gt;&amp;"x"</text></stream:error>`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := string(tt.err.Bytes())
			if got != tt.want {
				t.Fatalf("got  %s\nwant %s", got, tt.want)
			}
			// It reads back, in our own stream, as the error it describes.
			el := readStanza(t, got)
			if !el.Is(NS, "error") {
				t.Fatalf("read back as {%s}%s", el.Space, el.Local)
			}
			if el.Child(NSErrors, string(tt.err.Condition)) == nil {
				t.Errorf("condition element missing in %s", el)
			}
			txt := el.Child(NSErrors, "text")
			if txt.Text() != tt.err.Text {
				t.Errorf("text = %q, want %q", txt.Text(), tt.err.Text)
			}
			if tt.err.Text != "" && txt.Lang() != "en" {
				t.Errorf("text xml:lang = %q", txt.Lang())
			}
		})
	}
}

// readStanza reads one element written inside a stream we opened.
func readStanza(t *testing.T, s string) *xml.Element {
	t.Helper()
	in := string(Header(NSClient, "example.com", "", "id1", "en")) + s
	rd := xml.NewReader(strings.NewReader(in), xml.DefaultLimits, 0)
	if _, _, err := rd.ReadStreamStart(); err != nil {
		t.Fatal(err)
	}
	el, err := rd.Next()
	if err != nil {
		t.Fatalf("reading %s: %v", s, err)
	}
	return el
}

func TestErrorIs(t *testing.T) {
	err := fmt.Errorf("wrapped: %w", New(HostUnknown, "no such host"))
	if !errors.Is(err, New(HostUnknown, "")) {
		t.Error("errors.Is does not match on condition")
	}
	if errors.Is(err, New(HostGone, "")) {
		t.Error("errors.Is matched another condition")
	}
	if got := New(HostUnknown, "x").Error(); got != "stream error: host-unknown: x" {
		t.Errorf("Error() = %q", got)
	}
	if got := New(Reset, "").Error(); got != "stream error: reset" {
		t.Errorf("Error() = %q", got)
	}
}

// RFC 6120 §4.9.4: an application-specific condition follows the
// defined condition and the text.
func TestErrorBytesApp(t *testing.T) {
	e := New(UndefinedCondition, "too high")
	e.App = xml.New(NSSM, "handled-count-too-high", "h", "5", "send-count", "1")
	want := `<stream:error><undefined-condition xmlns="urn:ietf:params:xml:ns:xmpp-streams"/>` +
		`<text xmlns="urn:ietf:params:xml:ns:xmpp-streams" xml:lang="en">too high</text>` +
		`<handled-count-too-high xmlns="urn:xmpp:sm:3" h="5" send-count="1"/></stream:error>`
	if got := string(e.Bytes()); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}
