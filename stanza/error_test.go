package stanza

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/skald-xmpp/skald/internal/xml"
)

// parse reads one stanza as a client would send it.
func parse(t *testing.T, s string) *xml.Element {
	t.Helper()
	rd := xml.NewReader(strings.NewReader(`<stream xmlns='jabber:client'>`+s), xml.DefaultLimits, 0)
	if _, _, err := rd.ReadStreamStart(); err != nil {
		t.Fatal(err)
	}
	el, err := rd.Next()
	if err != nil {
		t.Fatalf("parsing %s: %v", s, err)
	}
	return el
}

// TestDefaultTypes pins every condition of RFC 6120 §8.3.3 to the type
// the RFC's definition (and example) gives it.
func TestDefaultTypes(t *testing.T) {
	want := map[Condition]ErrorType{
		BadRequest:            Modify,
		ConflictCond:          Cancel,
		FeatureNotImplemented: Cancel,
		Forbidden:             Auth,
		Gone:                  Cancel,
		InternalServerError:   Cancel,
		ItemNotFound:          Cancel,
		JIDMalformed:          Modify,
		NotAcceptable:         Modify,
		NotAllowed:            Cancel,
		NotAuthorized:         Auth,
		PolicyViolation:       Modify,
		RecipientUnavailable:  Wait,
		Redirect:              Modify,
		RegistrationRequired:  Auth,
		RemoteServerNotFound:  Cancel,
		RemoteServerTimeout:   Wait,
		ResourceConstraint:    Wait,
		ServiceUnavailable:    Cancel,
		SubscriptionRequired:  Auth,
		UndefinedCondition:    Cancel,
		UnexpectedRequest:     Wait,
	}
	if len(want) != 22 {
		t.Fatalf("RFC 6120 defines 22 conditions, table has %d", len(want))
	}
	for c, typ := range want {
		if got := E(c, "").Type; got != typ {
			t.Errorf("E(%s).Type = %q, want %q", c, got, typ)
		}
	}
	for c := range defaultType {
		if _, ok := want[c]; !ok {
			t.Errorf("defaultType has %q, which RFC 6120 does not define", c)
		}
	}
}

func TestErrorElement(t *testing.T) {
	tests := []struct {
		name string
		err  *Error
		want string
	}{
		{"condition only", E(ItemNotFound, ""),
			`<error type="cancel"><item-not-found xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error>`},
		{"with text", E(BadRequest, "missing <id> & co"),
			`<error type="modify"><bad-request xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/>` +
				`<text xmlns="urn:ietf:params:xml:ns:xmpp-stanzas" xml:lang="en">missing &lt;id&gt; &amp; co</text></error>`},
		{"explicit type", &Error{Type: Wait, Condition: ServiceUnavailable},
			`<error type="wait"><service-unavailable xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error>`},
		{"empty type uses default", &Error{Condition: Forbidden},
			`<error type="auth"><forbidden xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error>`},
		{"unknown condition defaults to cancel", &Error{Condition: "made-up"},
			`<error type="cancel"><made-up xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error>`},
		{"application condition", &Error{Type: Modify, Condition: BadRequest, App: xml.New("urn:xmpp:mam:2", "unsupported-filter")},
			`<error type="modify"><bad-request xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/><unsupported-filter xmlns="urn:xmpp:mam:2"/></error>`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := string(tt.err.Element().Bytes(NSClient)); got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestErrorReply(t *testing.T) {
	tests := []struct {
		name, in string
		err      *Error
		want     string
	}{
		{
			name: "message payload echoed",
			in:   `<message from='romeo@example.net/orchard' to='juliet@example.com' type='chat' id='m1' xml:lang='en'><body>hi</body><request xmlns='urn:xmpp:receipts'/></message>`,
			err:  E(ServiceUnavailable, ""),
			want: `<message id="m1" from="juliet@example.com" to="romeo@example.net/orchard" type="error">` +
				`<body>hi</body><request xmlns="urn:xmpp:receipts"/>` +
				`<error type="cancel"><service-unavailable xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error></message>`,
		},
		{
			name: "iq payload not echoed",
			in:   `<iq from='romeo@example.net/orchard' to='example.com' type='get' id='q1'><query xmlns='urn:xmpp:mam:2'/></iq>`,
			err:  E(FeatureNotImplemented, ""),
			want: `<iq id="q1" from="example.com" to="romeo@example.net/orchard" type="error">` +
				`<error type="cancel"><feature-not-implemented xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error></iq>`,
		},
		{
			name: "presence payload echoed",
			in:   `<presence to='juliet@example.com' type='subscribe' id='p1'><status>please</status></presence>`,
			err:  E(Forbidden, ""),
			want: `<presence id="p1" from="juliet@example.com" type="error"><status>please</status>` +
				`<error type="auth"><forbidden xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error></presence>`,
		},
		{
			name: "previous error child dropped, text nodes not echoed",
			in:   `<message to='a@b' id='e'>x<error type='cancel'><gone xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error><body>b</body></message>`,
			err:  E(ItemNotFound, "no such item"),
			want: `<message id="e" from="a@b" type="error"><body>b</body>` +
				`<error type="cancel"><item-not-found xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/>` +
				`<text xmlns="urn:ietf:params:xml:ns:xmpp-stanzas" xml:lang="en">no such item</text></error></message>`,
		},
		{
			name: "no id, no addresses",
			in:   `<message><body>b</body></message>`,
			err:  E(NotAllowed, ""),
			want: `<message type="error"><body>b</body>` +
				`<error type="cancel"><not-allowed xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error></message>`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := parse(t, tt.in)
			before := st.String()
			r := ErrorReply(st, tt.err)
			if got := string(r.Bytes(NSClient)); got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
			// The reply's children are copies: changing them leaves
			// the original (which may be archived or fanned out) alone.
			for _, c := range r.Elements() {
				c.SetAttr("changed", "yes")
				c.Append(xml.New("urn:x", "x"))
			}
			if after := st.String(); after != before {
				t.Errorf("original changed:\n%s\n%s", before, after)
			}
		})
	}
}

func TestResult(t *testing.T) {
	req := parse(t, `<iq from='romeo@example.net/orchard' to='example.com' type='get' id='v1'><query xmlns='jabber:iq:version'/></iq>`)
	want := `<iq type="result" id="v1" from="example.com" to="romeo@example.net/orchard"/>`
	if got := string(Result(req).Bytes(NSClient)); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	// From the user's own session, iqs to the server carry no to.
	req = parse(t, `<iq type='get' id='v2'/>`)
	if got, want := string(Result(req).Bytes(NSClient)), `<iq type="result" id="v2"/>`; got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestIsStanza(t *testing.T) {
	for _, tt := range []struct {
		in   *xml.Element
		want bool
	}{
		{xml.New(NSClient, "message"), true},
		{xml.New(NSClient, "presence"), true},
		{xml.New(NSClient, "iq"), true},
		{xml.New("jabber:server", "iq"), true},
		{xml.New("urn:xmpp:sm:3", "r"), false},
		{xml.New("", "message"), false},
		{xml.New(NSClient, "body"), false},
	} {
		if got := IsStanza(tt.in); got != tt.want {
			t.Errorf("IsStanza({%s}%s) = %v", tt.in.Space, tt.in.Local, got)
		}
	}
}

func TestErrorIs(t *testing.T) {
	err := fmt.Errorf("roster: %w", E(ItemNotFound, "no such contact"))
	for _, tt := range []struct {
		target *Error
		want   bool
	}{
		{&Error{Condition: ItemNotFound}, true},
		{&Error{Condition: ItemNotFound, Type: Cancel}, true},
		{&Error{Condition: ItemNotFound, Type: Modify}, false},
		{&Error{Condition: Forbidden}, false},
	} {
		if got := errors.Is(err, tt.target); got != tt.want {
			t.Errorf("errors.Is(%v, %v) = %v", err, tt.target, got)
		}
	}
	if got := E(BadRequest, "x").Error(); got != "stanza error: modify/bad-request: x" {
		t.Errorf("Error() = %q", got)
	}
}
