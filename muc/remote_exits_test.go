package muc_test

import (
	"testing"

	"github.com/skald-xmpp/skald/muc"
)

// TestRemoteCountReleasedOnEveryExit: every way a remote occupant's
// session leaves a room gives its domain's place back
// (max_remote_occupants_per_domain), and a nick change keeps it; with a
// bound of one, the next entering shows the place is free again.
func TestRemoteCountReleasedOnEveryExit(t *testing.T) {
	const zed = `zed@remote.example/x`
	admin := func(item string) string {
		return `<iq type='set' id='adm' to='%R'><query xmlns='` + nsMUC + `#admin'>` + item + `</query></iq>`
	}
	for _, tc := range []struct {
		name  string
		setup []string // alice's configuration fields before zed enters
		exit  func(e *env, w *wire, alice *user)
		left  int
	}{
		{name: "unavailable", exit: func(e *env, w *wire, _ *user) {
			fromRemote(t, e, w, `<presence type='unavailable' from='`+zed+`' to='%R/Zed'/>`)
		}},
		{name: "presence error", exit: func(e *env, w *wire, _ *user) {
			fromRemote(t, e, w, `<presence type='error' from='`+zed+`' to='%R/Zed'><error type='cancel'><gone xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></presence>`)
		}},
		{name: "kick", exit: func(e *env, _ *wire, alice *user) {
			e.send(alice, admin(`<item nick='Zed' role='none'/>`))
		}},
		{name: "ban", exit: func(e *env, _ *wire, alice *user) {
			e.send(alice, admin(`<item jid='zed@remote.example' affiliation='outcast'/>`))
		}},
		{name: "nick change", left: 1, exit: func(e *env, w *wire, _ *user) {
			fromRemote(t, e, w, `<presence from='`+zed+`' to='%R/Zedd'/>`)
		}},
		{name: "destroy", exit: func(e *env, _ *wire, alice *user) {
			e.send(alice, `<iq type='set' id='d' to='%R'><query xmlns='`+nsMUC+`#owner'><destroy/></query></iq>`)
		}},
		{name: "members-only", exit: func(e *env, _ *wire, alice *user) {
			e.configure(alice, "muc#roomconfig_membersonly", "1")
		}},
		{name: "registration removed", setup: []string{"muc#roomconfig_persistentroom", "1"}, exit: func(e *env, w *wire, alice *user) {
			for _, st := range fromRemote(t, e, w, `<iq type='set' id='r' from='`+zed+`' to='%R'><query xmlns='`+nsRegister+`'><username>Zed</username></query></iq>`) {
				if st.Attr("id") == "r" && st.Attr("type") != "result" {
					t.Fatalf("registration: %s", st)
				}
			}
			e.configure(alice, "muc#roomconfig_membersonly", "1")
			if n := e.muc.RemoteOccupants("remote.example"); n != 1 {
				t.Fatalf("the registered member left a members-only room: %d", n)
			}
			fromRemote(t, e, w, `<iq type='set' id='x' from='`+zed+`' to='%R'><query xmlns='`+nsRegister+`'><remove/></query></iq>`)
		}},
		{name: "shutdown", exit: func(e *env, _ *wire, _ *user) {
			e.muc.Shutdown()
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, w, alice := remoteEnv(t, func(c *muc.Config) { c.MaxRemoteOccupantsPerDomain = 1 })
			if len(tc.setup) > 0 {
				e.configure(alice, tc.setup...)
			}
			fromRemote(t, e, w, `<presence from='`+zed+`' to='%R/Zed'><x xmlns='`+nsMUC+`'/></presence>`)
			if n := e.muc.RemoteOccupants("remote.example"); n != 1 {
				t.Fatalf("%d remote occupants after entering", n)
			}
			alice.take(t)
			tc.exit(e, w, alice)
			alice.take(t)
			if n := e.muc.RemoteOccupants("remote.example"); n != tc.left {
				t.Fatalf("%d remote occupants after the exit, want %d", n, tc.left)
			}
		})
	}
}

// TestRemoteRegistrationsBounded: a remote server names as many users as
// it likes; registered, each would be a member with a reserved nick, so
// that one server could fill a room's affiliation lists and take its
// nicks. One remote domain's members of a room (registered or not) bound
// its registrations at max_remote_occupants_per_domain; local users and
// other domains still register, and an admin still adds members.
func TestRemoteRegistrationsBounded(t *testing.T) {
	e, w, alice := remoteEnv(t, func(c *muc.Config) { c.MaxRemoteOccupantsPerDomain = 2 })
	register := func(from, nick string) string {
		got := fromRemote(t, e, w, `<iq type='set' id='r' from='`+from+`' to='%R'><query xmlns='`+nsRegister+`'><username>`+nick+`</username></query></iq>`)
		if len(got) != 1 {
			t.Fatalf("%d answers", len(got))
		}
		return condition(got[0])
	}
	for i, nick := range []string{"One", "Two"} {
		if c := register("u"+nick+"@remote.example/r", nick); c != "" {
			t.Fatalf("registration %d refused: %s", i, c)
		}
	}
	if c := register("uThree@remote.example/r", "Three"); c != "policy-violation" {
		t.Fatalf("a third registration of remote.example: %q", c)
	}
	if c := register("one@other.example/r", "Other"); c != "" {
		t.Fatalf("another domain's registration: %q", c)
	}
	// Registered members may still change their nick.
	if c := register("uOne@remote.example/r", "Uno"); c != "" {
		t.Fatalf("a registered member's new nick: %q", c)
	}
	carol := e.user("carol", "c")
	e.send(carol, registerIQ("Carol"))
	if got := carol.last(t); condition(got) != "" {
		t.Fatalf("a local user's registration: %s", got)
	}
	e.send(alice, `<iq type='set' id='m' to='%R'><query xmlns='`+nsMUC+`#admin'><item affiliation='member' jid='uthree@remote.example'/></query></iq>`)
	if got := alice.last(t); condition(got) != "" {
		t.Fatalf("an admin adding a member: %s", got)
	}
}
