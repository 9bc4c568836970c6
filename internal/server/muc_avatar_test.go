package server_test

import (
	"context"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"path/filepath"
	"strings"
	"testing"

	"github.com/skald-xmpp/skald/config"
	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/storage"
	"github.com/skald-xmpp/skald/storage/sqlite"
)

// roomFeatures returns the features of a disco#info result.
func roomFeatures(info *xml.Element) map[string]bool {
	out := map[string]bool{}
	for _, f := range info.Child(nsDiscoInfo, "query").ChildrenNamed(nsDiscoInfo, "feature") {
		out[f.Attr("var")] = true
	}
	return out
}

// TestMUCAvatar: room avatars (XEP-0486) over sockets. A room and its
// service advertise vcard-temp; only an owner sets the room's vCard
// (forbidden otherwise, XEP-0486 §3.2), which anyone may read (an empty
// one before); setting it tells the occupants with status 104 and puts
// the SHA-1 of each photo into muc#roominfo_avatarhash (§3.3); an
// oversized vCard is policy-violation and changes nothing; an empty vCard
// removes the avatar; a persistent room keeps it across a restart.
func TestMUCAvatar(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "skald.db")
	open := func() *testServer {
		st, err := sqlite.Open(ctx, path, sqlite.Options{})
		if err != nil {
			t.Fatal(err)
		}
		cfg := loadConfigFile(t, "[muc]\nmax_vcard_bytes = 300\n")
		return startServerConfig(t, cfg, storage.Store(st), func(*config.Config) {})
	}
	s := open()
	alice := login(t, s, "alice", "phone")
	bob := login(t, s, "bob", "laptop")

	if _, info := discoAsk(t, alice, "svc", "conference.localhost", nsDiscoInfo, ""); !roomFeatures(info)["vcard-temp"] {
		t.Errorf("service disco#info without vcard-temp: %s", info)
	}
	alice.Send(`<presence to='` + room + `/Al'><x xmlns='` + nsMUC + `'/></presence>`)
	wantPresence(t, alice, room+"/Al", "", "100 170 201 110", "owner/moderator alice@localhost/phone")
	wantSubject(t, alice)
	if cond, el := ask(t, alice, "o1", `<iq type='set' id='o1' to='`+room+`'><query xmlns='http://jabber.org/protocol/muc#owner'><x xmlns='jabber:x:data' type='submit'>`+
		`<field var='muc#roomconfig_persistentroom'><value>1</value></field></x></query></iq>`); cond != "result" {
		t.Fatalf("configure: %s", el)
	}
	bob.Send(`<presence to='` + room + `/Bo'><x xmlns='` + nsMUC + `'/></presence>`)
	bob.Expect(func(e *xml.Element) bool { return e.Local == "message" && e.Child("", "subject") != nil })
	alice.Expect(func(e *xml.Element) bool { return e.Local == "presence" && e.Attr("from") == room+"/Bo" })

	_, info := discoAsk(t, bob, "d0", room, nsDiscoInfo, "")
	if !roomFeatures(info)["vcard-temp"] {
		t.Errorf("room disco#info without vcard-temp: %s", info)
	}
	if h, ok := roomInfoForm(info)["muc#roominfo_avatarhash"]; ok {
		t.Errorf("avatar hash %q before any avatar was set", h)
	}
	if cond, el := ask(t, bob, "g0", `<iq type='get' id='g0' to='`+room+`'><vCard xmlns='vcard-temp'/></iq>`); cond != "result" || el.Child("vcard-temp", "vCard") == nil || len(el.Child("vcard-temp", "vCard").Elements()) != 0 {
		t.Errorf("vCard of a room without one: %s, want an empty vCard", el)
	}

	photo := []byte("\x89PNG not really")
	binval := base64.StdEncoding.EncodeToString(photo)
	sum := sha1.Sum(photo)
	hash := hex.EncodeToString(sum[:])
	card := `<vCard xmlns='vcard-temp'><PHOTO><TYPE>image/png</TYPE><BINVAL>` + binval + `</BINVAL></PHOTO></vCard>`

	for _, tc := range []struct {
		name, who, iq, want string
	}{
		{"participant sets", "bob", `<iq type='set' id='s1' to='` + room + `'>` + card + `</iq>`, "forbidden"},
		{"too big", "alice", `<iq type='set' id='s2' to='` + room + `'><vCard xmlns='vcard-temp'><PHOTO><TYPE>image/png</TYPE><BINVAL>` + strings.Repeat("QUFB", 100) + `</BINVAL></PHOTO></vCard></iq>`, "policy-violation"},
		{"not a vCard photo", "alice", `<iq type='set' id='s3' to='` + room + `'><vCard xmlns='vcard-temp'><PHOTO><BINVAL>!!!</BINVAL></PHOTO></vCard></iq>`, "bad-request"},
	} {
		conn := alice
		if tc.who == "bob" {
			conn = bob
		}
		id := tc.iq[strings.Index(tc.iq, "id='")+4:]
		id = id[:strings.Index(id, "'")]
		if cond, el := ask(t, conn, id, tc.iq); cond != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, el, tc.want)
		}
	}
	if _, info := discoAsk(t, bob, "d1", room, nsDiscoInfo, ""); roomInfoForm(info)["muc#roominfo_avatarhash"] != "" {
		t.Errorf("refused vCards changed the avatar: %s", info)
	}

	// The owner's client gets the notification too, before the result.
	alice.Send(`<iq type='set' id='s4' to='` + room + `'>` + card + `</iq>`)
	for _, c := range []struct {
		name string
		conn interface{ Next() *xml.Element }
	}{{"alice", alice}, {"bob", bob}} {
		el := c.conn.Next()
		if codes, _ := mucStatuses(el); el.Local != "message" || el.Attr("type") != "groupchat" || el.Attr("from") != room || codes != "104" {
			t.Errorf("%s after the avatar changed: %s, want a groupchat message with status 104", c.name, el)
		}
	}
	if el := alice.Next(); el.Attr("id") != "s4" || el.Attr("type") != "result" {
		t.Fatalf("owner sets the room's vCard: %s", el)
	}
	_, got := ask(t, bob, "g1", `<iq type='get' id='g1' to='`+room+`'><vCard xmlns='vcard-temp'/></iq>`)
	if v := got.Child("vcard-temp", "vCard"); v == nil || v.Child("vcard-temp", "PHOTO").ChildText("vcard-temp", "BINVAL") != binval {
		t.Errorf("room's vCard: %s", got)
	}
	if _, info := discoAsk(t, bob, "d2", room, nsDiscoInfo, ""); roomInfoForm(info)["muc#roominfo_avatarhash"] != hash {
		t.Errorf("avatar hash: %s, want %s", info, hash)
	}

	// A restart keeps the avatar of a persistent room.
	if err := s.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	s = open()
	carol := login(t, s, "carol", "desk")
	if _, info := discoAsk(t, carol, "d3", room, nsDiscoInfo, ""); roomInfoForm(info)["muc#roominfo_avatarhash"] != hash {
		t.Errorf("avatar hash after a restart: %s, want %s", info, hash)
	}
	alice = login(t, s, "alice", "phone")
	alice.Send(`<presence to='` + room + `/Al'><x xmlns='` + nsMUC + `'/></presence>`)
	alice.Expect(func(e *xml.Element) bool { return e.Local == "message" && e.Child("", "subject") != nil })
	alice.Send(`<iq type='set' id='s5' to='` + room + `'><vCard xmlns='vcard-temp'/></iq>`)
	if el := alice.Next(); el.Local != "message" || !strings.Contains(el.String(), `code="104"`) {
		t.Errorf("after removing the avatar: %s, want status 104", el)
	}
	if el := alice.Next(); el.Attr("id") != "s5" || el.Attr("type") != "result" {
		t.Fatalf("owner removes the avatar: %s", el)
	}
	if _, info := discoAsk(t, carol, "d4", room, nsDiscoInfo, ""); strings.Contains(info.String(), "avatarhash") {
		t.Errorf("avatar hash after removing the avatar: %s", info)
	}
}
