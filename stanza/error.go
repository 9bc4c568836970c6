package stanza

import (
	"github.com/skald-xmpp/skald/internal/xml"
)

// NSStanzas is the namespace of stanza error conditions.
const NSStanzas = "urn:ietf:params:xml:ns:xmpp-stanzas"

// ErrorType is the type attribute of a stanza error (RFC 6120 §8.3.2).
type ErrorType string

// Error types.
const (
	Auth     ErrorType = "auth"
	Cancel   ErrorType = "cancel"
	Continue ErrorType = "continue"
	Modify   ErrorType = "modify"
	Wait     ErrorType = "wait"
)

// Condition is a defined stanza error condition (RFC 6120 §8.3.3).
type Condition string

// The defined conditions.
const (
	BadRequest            Condition = "bad-request"
	ConflictCond          Condition = "conflict"
	FeatureNotImplemented Condition = "feature-not-implemented"
	Forbidden             Condition = "forbidden"
	Gone                  Condition = "gone"
	InternalServerError   Condition = "internal-server-error"
	ItemNotFound          Condition = "item-not-found"
	JIDMalformed          Condition = "jid-malformed"
	NotAcceptable         Condition = "not-acceptable"
	NotAllowed            Condition = "not-allowed"
	NotAuthorized         Condition = "not-authorized"
	PolicyViolation       Condition = "policy-violation"
	RecipientUnavailable  Condition = "recipient-unavailable"
	Redirect              Condition = "redirect"
	RegistrationRequired  Condition = "registration-required"
	RemoteServerNotFound  Condition = "remote-server-not-found"
	RemoteServerTimeout   Condition = "remote-server-timeout"
	ResourceConstraint    Condition = "resource-constraint"
	ServiceUnavailable    Condition = "service-unavailable"
	SubscriptionRequired  Condition = "subscription-required"
	UndefinedCondition    Condition = "undefined-condition"
	UnexpectedRequest     Condition = "unexpected-request"
)

// defaultType is the error type RFC 6120 §8.3.3 pairs with each condition.
var defaultType = map[Condition]ErrorType{
	BadRequest: Modify, ConflictCond: Cancel, FeatureNotImplemented: Cancel,
	Forbidden: Auth, Gone: Cancel, InternalServerError: Cancel, ItemNotFound: Cancel,
	JIDMalformed: Modify, NotAcceptable: Modify, NotAllowed: Cancel, NotAuthorized: Auth,
	PolicyViolation: Modify, RecipientUnavailable: Wait, Redirect: Modify,
	RegistrationRequired: Auth, RemoteServerNotFound: Cancel, RemoteServerTimeout: Wait,
	ResourceConstraint: Wait, ServiceUnavailable: Cancel, SubscriptionRequired: Auth,
	UndefinedCondition: Cancel, UnexpectedRequest: Wait,
}

// Error answers one stanza; the stream goes on. Text is shown to the peer,
// so it must never carry internal detail (wrap internal causes elsewhere).
type Error struct {
	Type      ErrorType
	Condition Condition
	Text      string
	// App is an optional application-specific condition element.
	App *xml.Element
}

// E returns an error with the condition's default type.
func E(c Condition, text string) *Error {
	return &Error{Type: defaultType[c], Condition: c, Text: text}
}

func (e *Error) Error() string {
	s := "stanza error: " + string(e.Type) + "/" + string(e.Condition)
	if e.Text != "" {
		s += ": " + e.Text
	}
	return s
}

// Is matches on condition, and on type when the target sets one.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Condition == e.Condition && (t.Type == "" || t.Type == e.Type)
}

// Element renders <error type=…>.
func (e *Error) Element() *xml.Element {
	typ := e.Type
	if typ == "" {
		typ = defaultType[e.Condition]
		if typ == "" {
			typ = Cancel
		}
	}
	el := xml.New(NSClient, "error", "type", string(typ))
	el.Append(xml.New(NSStanzas, string(e.Condition)))
	if e.Text != "" {
		t := xml.New(NSStanzas, "text")
		t.Attrs = append(t.Attrs, xml.Attr{Space: xml.NSXML, Local: "lang", Value: "en"})
		t.AppendText(e.Text)
		el.Append(t)
	}
	if e.App != nil {
		el.Append(e.App)
	}
	return el
}

// ErrorReply builds the error response to st (RFC 6120 §8.3.1): same kind
// and id, to/from swapped, type="error". For iq the request payload is not
// echoed; for message and presence it is, as the RFC suggests, so senders
// can tell which stanza failed.
func ErrorReply(st *xml.Element, e *Error) *xml.Element {
	r := xml.New(st.Space, st.Local)
	if id := st.Attr("id"); id != "" {
		r.SetAttr("id", id)
	}
	if to := st.Attr("to"); to != "" {
		r.SetAttr("from", to)
	}
	if from := st.Attr("from"); from != "" {
		r.SetAttr("to", from)
	}
	r.SetAttr("type", "error")
	if st.Local != "iq" {
		for _, n := range st.Nodes {
			if c, ok := n.(*xml.Element); ok && c.Local != "error" {
				r.Append(c.Clone())
			}
		}
	}
	errEl := e.Element()
	errEl.Space = st.Space // jabber:server on s2s streams
	r.Append(errEl)
	return r
}
