package server_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/storage"
	"github.com/skald-xmpp/skald/storage/postgres"
	"github.com/skald-xmpp/skald/storage/postgres/pgtest"
	"github.com/skald-xmpp/skald/storage/sqlite"
)

// TestMUCRoomInfoAndRegistrationRestart runs over sockets, on every
// database backend (memory's rooms end with the process; the muc tests
// cover its blob): the owner gives a persistent room a language and a contact
// address, carol registers a nick with it (XEP-0045 §7.10); after a
// restart the room's disco#info still carries them in its muc#roominfo
// form (§6.4), carol's reserved nick is still hers (§7.12) and bob is
// refused it on entering (conflict, §7.2.8).
func TestMUCRoomInfoAndRegistrationRestart(t *testing.T) {
	ctx := context.Background()
	for _, backend := range []struct {
		name  string
		store func(t *testing.T) func() (storage.Store, error)
	}{
		{"sqlite", func(t *testing.T) func() (storage.Store, error) {
			path := filepath.Join(t.TempDir(), "skald.db")
			return func() (storage.Store, error) { return sqlite.Open(ctx, path, sqlite.Options{}) }
		}},
		{"postgres", func(t *testing.T) func() (storage.Store, error) {
			dsn := pgtest.DSN(t)
			return func() (storage.Store, error) { return postgres.Open(ctx, dsn, postgres.Options{}) }
		}},
	} {
		t.Run(backend.name, func(t *testing.T) {
			openStore := backend.store(t)
			open := func() *testServer {
				st, err := openStore()
				if err != nil {
					t.Fatal(err)
				}
				return startServer(t, st, nil)
			}
			s := open()
			alice := login(t, s, "alice", "phone")
			alice.Send(`<presence to='` + room + `/Al'><x xmlns='` + nsMUC + `'/></presence>`)
			wantPresence(t, alice, room+"/Al", "", "100 170 201 110", "owner/moderator alice@localhost/phone")
			wantSubject(t, alice)
			if cond, el := ask(t, alice, "o1", `<iq type='set' id='o1' to='`+room+`'><query xmlns='http://jabber.org/protocol/muc#owner'><x xmlns='jabber:x:data' type='submit'>`+
				`<field var='muc#roomconfig_persistentroom'><value>1</value></field>`+
				`<field var='muc#roomconfig_roomname'><value>Tea room</value></field>`+
				`<field var='muc#roomconfig_roomdesc'><value>Leaves and water</value></field>`+
				`<field var='muc#roomconfig_lang'><value>en</value></field>`+
				`<field var='muc#roominfo_contactjid'><value>alice@localhost</value></field>`+
				`</x></query></iq>`); cond != "result" {
				t.Fatalf("configure: %s", el)
			}
			carol := login(t, s, "carol", "desk")
			if cond, el := ask(t, carol, "r1", `<iq type='set' id='r1' to='`+room+`'><query xmlns='jabber:iq:register'><x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE'><value>http://jabber.org/protocol/muc#register</value></field><field var='muc#register_roomnick'><value>Carol</value></field></x></query></iq>`); cond != "result" {
				t.Fatalf("register: %s", el)
			}
			if err := s.Shutdown(context.Background()); err != nil {
				t.Fatal(err)
			}

			s = open()
			bob := login(t, s, "bob", "laptop")
			_, info := ask(t, bob, "d1", `<iq type='get' id='d1' to='`+room+`'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`)
			fields := roomInfoForm(info)
			for k, v := range map[string]string{
				"FORM_TYPE":                "http://jabber.org/protocol/muc#roominfo",
				"muc#roominfo_description": "Leaves and water",
				"muc#roominfo_lang":        "en",
				"muc#roominfo_contactjid":  "alice@localhost",
				"muc#roominfo_occupants":   "0",
				"muc#roominfo_subject":     "",
			} {
				if got, ok := fields[k]; !ok || got != v {
					t.Errorf("%s = %q (present %v), want %q: %s", k, got, ok, v, info)
				}
			}
			if !strings.Contains(info.String(), `name="Tea room"`) {
				t.Errorf("identity name: %s", info)
			}
			carol = login(t, s, "carol", "desk")
			_, nick := ask(t, carol, "n1", `<iq type='get' id='n1' to='`+room+`'><query xmlns='http://jabber.org/protocol/disco#info' node='x-roomuser-item'/></iq>`)
			if id := nick.Child("", "query").Child("", "identity"); id.Attr("name") != "Carol" {
				t.Fatalf("carol's reserved nick after the restart: %s", nick)
			}
			_, members := ask(t, login(t, s, "alice", "tablet"), "l1", `<iq type='get' id='l1' to='`+room+`'><query xmlns='`+nsMUC+`#admin'><item affiliation='member'/></query></iq>`)
			if !strings.Contains(members.String(), `jid="carol@localhost" nick="Carol"`) {
				t.Fatalf("member list after the restart: %s", members)
			}
			bob.Send(`<presence to='` + room + `/Carol' id='j'><x xmlns='` + nsMUC + `'/></presence>`)
			wantErrorCond(t, bob.Expect(func(e *xml.Element) bool { return e.Local == "presence" }), "conflict")
		})
	}
}

// roomInfoForm returns the fields of the first data form of a disco#info
// result, each with its values joined by spaces.
func roomInfoForm(info *xml.Element) map[string]string {
	out := map[string]string{}
	x := info.Child("", "query").Child("jabber:x:data", "x")
	for _, f := range x.ChildrenNamed("jabber:x:data", "field") {
		var vals []string
		for _, v := range f.ChildrenNamed("jabber:x:data", "value") {
			vals = append(vals, v.Text())
		}
		out[f.Attr("var")] = strings.Join(vals, " ")
	}
	return out
}

// TestMUCGhostOverSockets: a client that bounces the room's message with
// a delivery error (XEP-0045 §18.1.2) leaves the room with status 333, and
// the other occupant sees it go with 333 (§11.1).
func TestMUCGhostOverSockets(t *testing.T) {
	s := startServer(t, nil, nil)
	alice := login(t, s, "alice", "phone")
	alice.Send(`<presence to='` + room + `/Al'><x xmlns='` + nsMUC + `'/></presence>`)
	wantPresence(t, alice, room+"/Al", "", "100 170 201 110", "owner/moderator alice@localhost/phone")
	wantSubject(t, alice)
	if cond, el := ask(t, alice, "o1", `<iq type='set' id='o1' to='`+room+`'><query xmlns='http://jabber.org/protocol/muc#owner'><x xmlns='jabber:x:data' type='submit'/></query></iq>`); cond != "result" {
		t.Fatalf("instant room: %s", el)
	}
	bob := login(t, s, "bob", "laptop")
	bob.Send(`<presence to='` + room + `/Bob'><x xmlns='` + nsMUC + `'/></presence>`)
	wantPresence(t, bob, room+"/Al", "", "", "owner/moderator alice@localhost/phone")
	wantPresence(t, bob, room+"/Bob", "", "100 170 110", "none/participant bob@localhost/laptop")
	wantSubject(t, bob)
	wantPresence(t, alice, room+"/Bob", "", "", "none/participant bob@localhost/laptop")

	bob.Send(`<message type='error' to='` + room + `/Al' id='m1'><error type='cancel'><recipient-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>`)
	wantPresence(t, bob, room+"/Bob", "unavailable", "333 110", "none/none bob@localhost/laptop")
	wantPresence(t, alice, room+"/Bob", "unavailable", "333", "none/none bob@localhost/laptop")
}

// TestMUCShutdownOverSockets: a server shutting down tells the occupants
// why they leave (status 332, XEP-0045 §11.2) before it ends their
// streams.
func TestMUCShutdownOverSockets(t *testing.T) {
	s := startServer(t, nil, nil)
	alice := login(t, s, "alice", "phone")
	alice.Send(`<presence to='` + room + `/Al'><x xmlns='` + nsMUC + `'/></presence>`)
	wantPresence(t, alice, room+"/Al", "", "100 170 201 110", "owner/moderator alice@localhost/phone")
	wantSubject(t, alice)
	done := make(chan error, 1)
	go func() { done <- s.Shutdown(context.Background()) }()
	wantPresence(t, alice, room+"/Al", "unavailable", "110 332", "owner/none alice@localhost/phone")
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
