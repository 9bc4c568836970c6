package lastactivity

import (
	"testing"
	"time"

	"github.com/skald-xmpp/skald/internal/routertest"
)

func TestUptime(t *testing.T) {
	started := time.Date(2026, 12, 7, 18, 0, 0, 0, time.UTC)
	tests := []struct {
		name     string
		now      time.Time
		register bool
		in, want string
	}{{
		name:     "server uptime",
		now:      started.Add(903*time.Second + 999*time.Millisecond),
		register: true,
		in:       `<iq type="get" id="l1" to="example.org"><query xmlns="jabber:iq:last"/></iq>`,
		want:     `<iq xmlns="jabber:client" type="result" id="l1" from="example.org" to="romeo@example.org/orchard"><query xmlns="jabber:iq:last" seconds="903"/></iq>`,
	}, {
		name:     "clock set back",
		now:      started.Add(-time.Minute),
		register: true,
		in:       `<iq type="get" id="l1" to="example.org"><query xmlns="jabber:iq:last"/></iq>`,
		want:     `<iq xmlns="jabber:client" type="result" id="l1" from="example.org" to="romeo@example.org/orchard"><query xmlns="jabber:iq:last" seconds="0"/></iq>`,
	}, {
		name:     "not registered",
		now:      started,
		register: false,
		in:       `<iq type="get" id="l1" to="example.org"><query xmlns="jabber:iq:last"/></iq>`,
		want:     `<iq xmlns="jabber:client" id="l1" from="example.org" to="romeo@example.org/orchard" type="error"><error type="cancel"><service-unavailable xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error></iq>`,
	}, {
		name:     "offline users are not answered",
		now:      started,
		register: true,
		in:       `<iq type="get" id="l2" to="juliet@example.org"><query xmlns="jabber:iq:last"/></iq>`,
		want:     `<iq xmlns="jabber:client" id="l2" from="juliet@example.org" to="romeo@example.org/orchard" type="error"><error type="cancel"><service-unavailable xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error></iq>`,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := routertest.New(t, "romeo@example.org", "juliet@example.org")
			if tt.register {
				e.Router.Register(New(started, func() time.Time { return tt.now }))
			}
			s, rec := e.Bind("romeo@example.org/orchard", true, 0)
			e.Send(s, tt.in)
			routertest.Expect(t, rec, tt.want)
		})
	}
	if f, _ := New(started, nil).DiscoFeatures(); len(f) != 1 || f[0] != NS {
		t.Errorf("features = %v", f)
	}
}
