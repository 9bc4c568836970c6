package entitytime

import (
	"testing"
	"time"

	"github.com/skald-xmpp/skald/internal/routertest"
)

func TestEntityTime(t *testing.T) {
	// The server's clock in a zone other than UTC: the answer is UTC.
	now := time.Date(2026, 12, 7, 19, 58, 35, 123456789, time.FixedZone("CET", 3600))
	tests := []struct {
		name     string
		register bool
		in, want string
	}{{
		name:     "server",
		register: true,
		in:       `<iq type="get" id="t1" to="example.org"><time xmlns="urn:xmpp:time"/></iq>`,
		want:     `<iq xmlns="jabber:client" type="result" id="t1" from="example.org" to="romeo@example.org/orchard"><time xmlns="urn:xmpp:time"><tzo>+00:00</tzo><utc>2026-12-07T18:58:35.123Z</utc></time></iq>`,
	}, {
		name:     "not registered",
		register: false,
		in:       `<iq type="get" id="t1" to="example.org"><time xmlns="urn:xmpp:time"/></iq>`,
		want:     `<iq xmlns="jabber:client" id="t1" from="example.org" to="romeo@example.org/orchard" type="error"><error type="cancel"><service-unavailable xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error></iq>`,
	}, {
		name:     "an account does not answer",
		register: true,
		in:       `<iq type="get" id="t2" to="juliet@example.org"><time xmlns="urn:xmpp:time"/></iq>`,
		want:     `<iq xmlns="jabber:client" id="t2" from="juliet@example.org" to="romeo@example.org/orchard" type="error"><error type="cancel"><service-unavailable xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error></iq>`,
	}, {
		name:     "set",
		register: true,
		in:       `<iq type="set" id="t3" to="example.org"><time xmlns="urn:xmpp:time"/></iq>`,
		want:     `<iq xmlns="jabber:client" id="t3" from="example.org" to="romeo@example.org/orchard" type="error"><error type="cancel"><service-unavailable xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error></iq>`,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := routertest.New(t, "romeo@example.org", "juliet@example.org")
			if tt.register {
				e.Router.Register(New(func() time.Time { return now }))
			}
			s, rec := e.Bind("romeo@example.org/orchard", true, 0)
			e.Send(s, tt.in)
			routertest.Expect(t, rec, tt.want)
		})
	}
	if f, _ := New(nil).DiscoFeatures(); len(f) != 1 || f[0] != NS {
		t.Errorf("features = %v", f)
	}
}
