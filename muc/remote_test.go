package muc_test

import (
	"strings"
	"sync"
	"testing"

	"github.com/skald-xmpp/skald/internal/routertest"
	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/jid"
	"github.com/skald-xmpp/skald/muc"
	"github.com/skald-xmpp/skald/stanza"
)

// wire records what the router hands the remote transport.
type wire struct {
	mu   sync.Mutex
	sent []*xml.Element
}

func (w *wire) SendRemote(st *xml.Element, from, _ jid.JID) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !strings.HasSuffix(from.Domain(), service) {
		panic("sent from " + from.String())
	}
	w.sent = append(w.sent, st.Clone())
	return nil
}

func (w *wire) take() []*xml.Element {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := w.sent
	w.sent = nil
	return out
}

// fromRemote hands raw (%R: the room) to the router as a remote
// server's stanza and returns what went back over the wire.
func fromRemote(t *testing.T, e *env, w *wire, raw string) []*xml.Element {
	t.Helper()
	st := routertest.Parse(t, strings.ReplaceAll(raw, "%R", room))
	from, _ := jid.Parse(st.Attr("from"))
	if err := e.Router.HandleFromRemote(bg, from.Domain(), st); err != nil {
		t.Fatal(err)
	}
	return w.take()
}

func remoteEnv(t *testing.T, tweak func(*muc.Config)) (*env, *wire, *user) {
	e := newEnv(t, tweak)
	w := &wire{}
	e.Router.SetRemote(w)
	alice := e.user("alice", "a")
	e.create(alice)
	return e, w, alice
}

// TestRemoteOccupants: a remote user enters an existing room (never
// creates one), and each occupant sees the other; the per-domain bound
// refuses one more session; a bounce of a stanza to a remote occupant
// takes it out of the room, as its presence error would.
func TestRemoteOccupants(t *testing.T) {
	e, w, alice := remoteEnv(t, func(c *muc.Config) { c.MaxRemoteOccupantsPerDomain = 1 })

	got := fromRemote(t, e, w, `<presence from='zed@remote.example/x' to='new@`+service+`/Zed'><x xmlns='`+nsMUC+`'/></presence>`)
	if len(got) != 1 || condition(got[0]) != "not-allowed" {
		t.Fatalf("a remote user creating a room: %v", got)
	}

	got = fromRemote(t, e, w, `<presence from='zed@remote.example/x' to='%R/Zed'><x xmlns='`+nsMUC+`'/></presence>`)
	routertest.Equal(t, "the remote newcomer", summaries(got[:2]),
		"presence /Al available [] owner/moderator",
		"presence /Zed available [100 170 110] none/participant")
	if got[1].Attr("to") != "zed@remote.example/x" {
		t.Fatalf("self-presence to %s", got[1].Attr("to"))
	}
	routertest.Equal(t, "alice", summaries(alice.take(t)), "presence /Zed available [] none/participant")
	if n := e.muc.RemoteOccupants("remote.example"); n != 1 {
		t.Fatalf("%d remote occupants", n)
	}

	// One more session of the domain: refused, wait.
	got = fromRemote(t, e, w, `<presence from='yan@remote.example/y' to='%R/Yan'><x xmlns='`+nsMUC+`'/></presence>`)
	if len(got) != 1 || condition(got[0]) != "service-unavailable" {
		t.Fatalf("past max_remote_occupants_per_domain: %v", got)
	}

	// The stream to remote.example fails under a groupchat message.
	e.send(alice, `<message to='%R' type='groupchat'><body>hi</body></message>`)
	var toZed *xml.Element
	for _, st := range w.take() {
		if st.Local == "message" {
			toZed = st
		}
	}
	if toZed == nil {
		t.Fatal("the groupchat message did not go to the remote occupant")
	}
	alice.take(t)
	e.Router.Bounce(toZed, stanza.RemoteServerTimeout)
	routertest.Equal(t, "alice sees zed removed", summaries(alice.take(t)), "presence /Zed unavailable [333] none/none")
	if n := e.muc.RemoteOccupants("remote.example"); n != 0 {
		t.Fatalf("%d remote occupants after the bounce", n)
	}
}

// TestOccupantDeliveryError: a delivery error an occupant's session sends
// back to the room removes that occupant (status 333), any other error
// keeps it in.
func TestOccupantDeliveryError(t *testing.T) {
	for _, tc := range []struct {
		cond    string
		removed bool
	}{
		{"service-unavailable", true},
		{"recipient-unavailable", true},
		{"remote-server-timeout", true},
		{"policy-violation", false},
		{"not-acceptable", false},
	} {
		t.Run(tc.cond, func(t *testing.T) {
			e := newEnv(t, nil)
			alice, bob := e.user("alice", "a"), e.user("bob", "b")
			e.create(alice)
			e.join(bob, "Bob")
			alice.take(t)
			e.send(bob, `<message to='%R/Al' type='error'><body>x</body><error type='cancel'><`+tc.cond+` xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>`)
			got := summaries(alice.take(t))
			if tc.removed {
				routertest.Equal(t, "alice", got, "presence /Bob unavailable [333] none/none")
				routertest.Equal(t, "bob", summaries(bob.take(t)), "presence /Bob unavailable [333 110] none/none")
			} else if len(got) != 0 || len(bob.take(t)) != 0 {
				t.Fatalf("alice got %v", got)
			}
		})
	}
}
