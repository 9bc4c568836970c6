package version

import (
	"runtime"
	"testing"

	"github.com/skald-xmpp/skald/internal/routertest"
)

func TestVersion(t *testing.T) {
	const (
		get         = `<iq type="get" id="v1" to="example.org"><query xmlns="jabber:iq:version"/></iq>`
		unavailable = `<iq xmlns="jabber:client" id="v1" from="example.org" to="romeo@example.org/orchard" type="error"><error type="cancel"><service-unavailable xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error></iq>`
	)
	tests := []struct {
		name     string
		cfg      *Config // nil: module not registered
		in, want string
	}{{
		name: "default",
		cfg:  &Config{Enabled: true},
		in:   get,
		want: `<iq xmlns="jabber:client" type="result" id="v1" from="example.org" to="romeo@example.org/orchard"><query xmlns="jabber:iq:version"><name>Skald</name><version>1.2.3</version></query></iq>`,
	}, {
		name: "with os",
		cfg:  &Config{Enabled: true, ShowOS: true},
		in:   get,
		want: `<iq xmlns="jabber:client" type="result" id="v1" from="example.org" to="romeo@example.org/orchard"><query xmlns="jabber:iq:version"><name>Skald</name><version>1.2.3</version><os>` + runtime.GOOS + `</os></query></iq>`,
	}, {
		name: "disabled: not registered",
		cfg:  nil,
		in:   get,
		want: unavailable,
	}, {
		name: "disabled but registered anyway: inert",
		cfg:  &Config{Enabled: false, ShowOS: true},
		in:   get,
		want: unavailable,
	}, {
		name: "not on accounts",
		cfg:  &Config{Enabled: true},
		in:   `<iq type="get" id="v2"><query xmlns="jabber:iq:version"/></iq>`,
		want: `<iq xmlns="jabber:client" id="v2" to="romeo@example.org/orchard" type="error"><error type="cancel"><service-unavailable xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error></iq>`,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := routertest.New(t, "romeo@example.org")
			if tt.cfg != nil {
				e.Router.Register(New(*tt.cfg, "1.2.3"))
			}
			s, rec := e.Bind("romeo@example.org/orchard", true, 0)
			e.Send(s, tt.in)
			routertest.Expect(t, rec, tt.want)
		})
	}
}

func TestConfig(t *testing.T) {
	c := DefaultConfig()
	if !c.Enabled || c.ShowOS {
		t.Errorf("DefaultConfig() = %+v", c)
	}
	if err := c.Validate(); err != nil {
		t.Error(err)
	}
	if s, _ := New(c, "1").DiscoFeatures(); len(s) != 1 || s[0] != NS {
		t.Errorf("enabled features = %v", s)
	}
	if s, a := New(Config{}, "1").DiscoFeatures(); s != nil || a != nil {
		t.Errorf("disabled features = %v, %v", s, a)
	}
}
