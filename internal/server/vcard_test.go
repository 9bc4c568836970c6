package server_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/skald-xmpp/skald/internal/xmpptest"
	"github.com/skald-xmpp/skald/private"
	"github.com/skald-xmpp/skald/storage/sqlite"
	"github.com/skald-xmpp/skald/vcard"
)

const (
	nsVCard    = "vcard-temp"
	nsPrivate  = "jabber:iq:private"
	aliceCard  = `<vCard xmlns='vcard-temp'><FN>Alice</FN><NICKNAME>al</NICKNAME><PHOTO><TYPE>image/png</TYPE><BINVAL>iVBORw0KGgo=</BINVAL></PHOTO></vCard>`
	aliceMarks = `<storage xmlns='storage:bookmarks'><conference jid='tea@muc.localhost' autojoin='true'><nick>al</nick></conference></storage>`
)

// wantVCard checks that c reads alice's vCard, asking to (no 'to' if "").
func wantVCard(t *testing.T, c *xmpptest.Conn, id, to string) {
	t.Helper()
	if to != "" {
		to = " to='" + to + "'"
	}
	cond, el := ask(t, c, id, "<iq type='get' id='"+id+"'"+to+"><vCard xmlns='vcard-temp'/></iq>")
	if cond != "result" {
		t.Fatalf("vCard get %s: %s", id, el)
	}
	v := el.Child(nsVCard, "vCard")
	if v == nil || v.ChildText(nsVCard, "FN") != "Alice" || v.Child(nsVCard, "PHOTO").ChildText(nsVCard, "BINVAL") != "iVBORw0KGgo=" {
		t.Fatalf("vCard get %s: %s", id, el)
	}
}

// wantBookmarks checks that c reads alice's bookmarks from private storage.
func wantBookmarks(t *testing.T, c *xmpptest.Conn, id string) {
	t.Helper()
	cond, el := ask(t, c, id, "<iq type='get' id='"+id+"'><query xmlns='jabber:iq:private'><storage xmlns='storage:bookmarks'/></query></iq>")
	if cond != "result" {
		t.Fatalf("private get %s: %s", id, el)
	}
	conf := el.Child(nsPrivate, "query").Child("storage:bookmarks", "storage").Child("storage:bookmarks", "conference")
	if conf == nil || conf.Attr("jid") != "tea@muc.localhost" || conf.ChildText("storage:bookmarks", "nick") != "al" {
		t.Fatalf("private get %s: %s", id, el)
	}
}

// TestVCardAndPrivateStorage: over sockets, alice sets her vCard and
// bookmarks from one connection and reads them from another; bob reads her
// vCard (answered by the server) but not her private data; the features
// are in disco; an over-size vCard is refused with the default cap.
func TestVCardAndPrivateStorage(t *testing.T) {
	s := startServer(t, nil, nil)
	phone := login(t, s, "alice", "phone")
	laptop := login(t, s, "alice", "laptop")
	bob := login(t, s, "bob", "desk")

	features := func(to string) []string {
		cond, el := discoAsk(t, bob, "info-"+to, to, nsDiscoInfo, "")
		if cond != "result" {
			t.Fatalf("disco#info to %s: %s", to, el)
		}
		var out []string
		for _, f := range el.Child(nsDiscoInfo, "query").ChildrenNamed(nsDiscoInfo, "feature") {
			out = append(out, f.Attr("var"))
		}
		return out
	}
	if f := features("localhost"); !slices.Contains(f, nsVCard) || !slices.Contains(f, nsPrivate) {
		t.Errorf("server features %q lack vcard-temp or jabber:iq:private", f)
	}
	if f := features("bob@localhost"); !slices.Contains(f, nsVCard) {
		t.Errorf("account features %q lack vcard-temp", f)
	}

	if cond, el := ask(t, phone, "v1", "<iq type='set' id='v1'>"+aliceCard+"</iq>"); cond != "result" {
		t.Fatalf("vCard set: %s", el)
	}
	wantVCard(t, laptop, "v2", "")
	wantVCard(t, bob, "v3", "alice@localhost")
	quiet(t, phone, "p1") // bob's get was not forwarded to alice

	for _, to := range []string{"carol@localhost", "nobody@localhost"} { // no vCard; no account
		if cond, el := ask(t, bob, "v-"+to, "<iq type='get' id='v-"+to+"' to='"+to+"'><vCard xmlns='vcard-temp'/></iq>"); cond != "service-unavailable" {
			t.Errorf("vCard of %s: %s, want service-unavailable", to, el)
		}
	}
	if cond, el := ask(t, bob, "v4", "<iq type='set' id='v4' to='alice@localhost'><vCard xmlns='vcard-temp'><FN>Mallory</FN></vCard></iq>"); cond != "forbidden" {
		t.Errorf("bob setting alice's vCard: %s", el)
	}
	big := "<iq type='set' id='v5'><vCard xmlns='vcard-temp'><PHOTO><BINVAL>" + strings.Repeat("A", 64<<10) + "</BINVAL></PHOTO></vCard></iq>"
	if cond, el := ask(t, phone, "v5", big); cond != "policy-violation" {
		t.Errorf("a vCard over 64 KiB: %s", el)
	}
	wantVCard(t, bob, "v6", "alice@localhost")

	if cond, el := ask(t, phone, "x1", "<iq type='set' id='x1'><query xmlns='jabber:iq:private'>"+aliceMarks+"</query></iq>"); cond != "result" {
		t.Fatalf("private set: %s", el)
	}
	wantBookmarks(t, laptop, "x2")
	if cond, el := ask(t, bob, "x3", "<iq type='get' id='x3' to='alice@localhost'><query xmlns='jabber:iq:private'><storage xmlns='storage:bookmarks'/></query></iq>"); cond != "forbidden" {
		t.Errorf("bob reading alice's private data: %s", el)
	}
	if cond, el := ask(t, bob, "x4", "<iq type='get' id='x4'><query xmlns='jabber:iq:private'><storage xmlns='storage:bookmarks'/></query></iq>"); cond != "result" || len(el.Child(nsPrivate, "query").Child("storage:bookmarks", "storage").Elements()) != 0 {
		t.Errorf("bob's own, empty bookmarks: %s", el)
	}
}

// TestVCardAndPrivatePersist: on SQLite, a vCard and private data set
// before a restart are served after it.
func TestVCardAndPrivatePersist(t *testing.T) {
	path := filepath.Join(t.TempDir(), "skald.db")
	open := func() *testServer {
		st, err := sqlite.Open(context.Background(), path, sqlite.Options{})
		if err != nil {
			t.Fatal(err)
		}
		return startServer(t, st, nil) // closes st at shutdown
	}
	s := open()
	alice := login(t, s, "alice", "phone")
	if cond, el := ask(t, alice, "v1", "<iq type='set' id='v1'>"+aliceCard+"</iq>"); cond != "result" {
		t.Fatalf("vCard set: %s", el)
	}
	if cond, el := ask(t, alice, "x1", "<iq type='set' id='x1'><query xmlns='jabber:iq:private'>"+aliceMarks+"</query></iq>"); cond != "result" {
		t.Fatalf("private set: %s", el)
	}
	if err := s.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}

	s = open()
	wantVCard(t, login(t, s, "bob", "desk"), "v2", "alice@localhost")
	wantBookmarks(t, login(t, s, "alice", "laptop"), "x2")
}

// TestVCardAndPrivateConfig: the [vcard] and [private] sections are
// decoded and validated, their unknown keys rejected, and
// skald.example.toml shows their defaults.
func TestVCardAndPrivateConfig(t *testing.T) {
	m, err := loadModuleConfig(t, "[vcard]\nmax_bytes = 1000\navatar_conversion = false\n[private]\nmax_bytes_per_namespace = 500\nmax_total_bytes = 5000\nbookmarks_compat = false\n")
	if err != nil {
		t.Fatal(err)
	}
	if m.VCard.MaxBytes != 1000 || m.VCard.AvatarConversion || m.Private.MaxBytesPerNamespace != 500 || m.Private.MaxTotalBytes != 5000 || m.Private.BookmarksCompat {
		t.Errorf("decoded %+v, %+v", m.VCard, m.Private)
	}
	if m, err := loadModuleConfig(t, ""); err != nil || m.VCard.MaxBytes != 64<<10 || m.Private.MaxBytesPerNamespace != 64<<10 || m.Private.MaxTotalBytes != 1<<20 {
		t.Errorf("defaults %+v, %+v, %v", m.VCard, m.Private, err)
	}
	// skald.example.toml's [vcard] and [private], uncommented, are the
	// defaults.
	example, err := os.ReadFile("../../skald.example.toml")
	if err != nil {
		t.Fatal(err)
	}
	_, tail, _ := strings.Cut(string(example), "# [vcard]\n")
	var lines []string
	for _, l := range strings.Split("# [vcard]\n"+tail, "\n") {
		if strings.HasPrefix(l, "# [") || strings.Contains(l, " = ") {
			lines = append(lines, strings.TrimPrefix(l, "# "))
		}
	}
	if m, err := loadModuleConfig(t, strings.Join(lines, "\n")); err != nil || m.VCard != vcard.DefaultConfig() || m.Private != private.DefaultConfig() || len(lines) != 7 {
		t.Errorf("skald.example.toml's sections %q give %+v, %+v, %v; want the defaults", lines, m.VCard, m.Private, err)
	}
	for _, src := range []string{
		"[vcard]\nmax_byte = 1000\n",
		"[vcard]\nmax_bytes = 0\n",
		"[private]\nmax_bytes_per_namespace = 500\nmax_total_bytes = 100\n",
	} {
		if _, err := loadModuleConfig(t, src); err == nil {
			t.Errorf("%q accepted", src)
		}
	}
}
