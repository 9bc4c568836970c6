package routertest_test

import (
	"slices"
	"testing"

	"github.com/skald-xmpp/skald/internal/routertest"
	"github.com/skald-xmpp/skald/stanza"
)

func TestRecorder(t *testing.T) {
	msg := routertest.Parse(t, `<message to="a@example.org"><body>hi</body></message>`)
	tests := []struct {
		name     string
		parentNS string
		want     string
	}{
		{"every xmlns", "", `<message xmlns="jabber:client" to="a@example.org"><body>hi</body></message>`},
		{"as on a c2s stream", stanza.NSClient, `<message to="a@example.org"><body>hi</body></message>`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &routertest.Recorder{ParentNS: tt.parentNS}
			rec.RefuseAfter(1)
			if err := rec.Send(msg); err != nil {
				t.Fatal(err)
			}
			if err := rec.Send(msg); err == nil {
				t.Error("second send accepted after RefuseAfter(1)")
			}
			rec.Close("conflict")
			routertest.Expect(t, rec, tt.want)
			routertest.Expect(t, rec)
			if got := rec.Closed(); !slices.Equal(got, []string{"conflict"}) {
				t.Errorf("Closed() = %v", got)
			}
		})
	}
}

// An Env with no module answers an iq to the server service-unavailable.
func TestEnv(t *testing.T) {
	e := routertest.New(t, "romeo@example.org")
	s, rec := e.Bind("romeo@example.org/orchard", true, 0)
	e.Send(s, `<iq type="get" id="1" to="example.org"><query xmlns="urn:example"/></iq>`)
	routertest.Equal(t, "romeo", rec.Take(),
		`<iq xmlns="jabber:client" id="1" from="example.org" to="romeo@example.org/orchard" type="error"><error type="cancel"><service-unavailable xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error></iq>`)
}
