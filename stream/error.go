package stream

import (
	"errors"

	"github.com/skald-xmpp/skald/internal/xml"
)

// Condition is a stream error condition (RFC 6120 §4.9.3).
type Condition string

// The defined stream error conditions.
const (
	BadFormat              Condition = "bad-format"
	BadNamespacePrefix     Condition = "bad-namespace-prefix"
	Conflict               Condition = "conflict"
	ConnectionTimeout      Condition = "connection-timeout"
	HostGone               Condition = "host-gone"
	HostUnknown            Condition = "host-unknown"
	ImproperAddressing     Condition = "improper-addressing"
	InternalServerError    Condition = "internal-server-error"
	InvalidFrom            Condition = "invalid-from"
	InvalidNamespace       Condition = "invalid-namespace"
	InvalidXML             Condition = "invalid-xml"
	NotAuthorized          Condition = "not-authorized"
	NotWellFormed          Condition = "not-well-formed"
	PolicyViolation        Condition = "policy-violation"
	RemoteConnectionFailed Condition = "remote-connection-failed"
	Reset                  Condition = "reset"
	ResourceConstraint     Condition = "resource-constraint"
	RestrictedXML          Condition = "restricted-xml"
	SeeOtherHost           Condition = "see-other-host"
	SystemShutdown         Condition = "system-shutdown"
	UndefinedCondition     Condition = "undefined-condition"
	UnsupportedEncoding    Condition = "unsupported-encoding"
	UnsupportedFeature     Condition = "unsupported-feature"
	UnsupportedStanzaType  Condition = "unsupported-stanza-type"
	UnsupportedVersion     Condition = "unsupported-version"
)

// Error is fatal to the stream: the connection writes it and closes.
// Text is sent to the peer, so it must never carry internal detail.
type Error struct {
	Condition Condition
	Text      string
	// App is an optional application-specific condition element (RFC
	// 6120 §4.9.4), e.g. XEP-0198's <handled-count-too-high/>.
	App *xml.Element
}

func (e *Error) Error() string {
	if e.Text != "" {
		return "stream error: " + string(e.Condition) + ": " + e.Text
	}
	return "stream error: " + string(e.Condition)
}

// Is makes errors.Is match on the condition alone.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Condition == e.Condition
}

// New returns a stream error with the given condition and peer-visible text.
func New(c Condition, text string) *Error { return &Error{Condition: c, Text: text} }

// Bytes renders the stream error as it appears inside the stream, with the
// stream prefix bound as in our stream header.
func (e *Error) Bytes() []byte {
	s := "<stream:error><" + string(e.Condition) + ` xmlns="` + NSErrors + `"/>`
	if e.Text != "" {
		var b = xml.New(NSErrors, "text")
		b.Attrs = append(b.Attrs, xml.Attr{Space: xml.NSXML, Local: "lang", Value: "en"})
		b.AppendText(e.Text)
		s += b.String()
	}
	if e.App != nil {
		// After <text/>, as in RFC 6120's schema and §4.9.4 example.
		s += e.App.String()
	}
	return []byte(s + "</stream:error>")
}

// FromReadError maps an error from the XML reader to the stream error a
// receiving entity must send, or returns nil when err is not a protocol
// error (connection closed, timeout, TLS failure).
func FromReadError(err error) *Error {
	var se *Error
	switch {
	case errors.As(err, &se):
		return se
	case errors.Is(err, xml.ErrTooLarge):
		return New(PolicyViolation, "stanza too large")
	case errors.Is(err, xml.ErrTooDeep):
		return New(PolicyViolation, "elements nested too deeply")
	case errors.Is(err, xml.ErrTooManyAttrs):
		return New(PolicyViolation, "too many attributes")
	case errors.Is(err, xml.ErrRestrictedXML):
		return New(RestrictedXML, "")
	case errors.Is(err, xml.ErrBadNamespacePrefix):
		return New(BadNamespacePrefix, "")
	case errors.Is(err, xml.ErrTextAtStreamLevel):
		return New(BadFormat, "character data outside stanzas")
	case errors.Is(err, xml.ErrUnsupportedEncoding):
		return New(UnsupportedEncoding, "")
	case errors.Is(err, xml.ErrNotWellFormed):
		return New(NotWellFormed, "")
	}
	return nil
}
