package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/skald-xmpp/skald/config"
	"github.com/skald-xmpp/skald/internal/server"
	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/mam"
	"github.com/skald-xmpp/skald/mam/pie"
	"github.com/skald-xmpp/skald/storage"
)

const archiveToml = "domains = [\"example.org\", \"example.net\"]\ndata_dir = \"data\"\n"

// day is a fixed reference time for archive stamps (long ago, so that
// the default one-week expiry applies to all of them).
var day = time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)

// openTestStore opens the store skald.toml in the working directory names.
func openTestStore(t *testing.T) storage.Store {
	t.Helper()
	cfg, err := config.Load("skald.toml")
	if err != nil {
		t.Fatal(err)
	}
	st, err := openStore(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// addUsers creates accounts (without usable credentials: deriving them
// would only slow the tests down).
func addUsers(t *testing.T, users ...string) {
	t.Helper()
	st := openTestStore(t)
	defer st.Close()
	for _, u := range users {
		if err := st.CreateUser(context.Background(), u, storage.Credentials{}); err != nil {
			t.Fatal(err)
		}
	}
}

// archived builds an item as the mam module stores it: the stanza
// serialised on its own, peer and direction relative to owner.
func archived(owner, peer string, outgoing bool, stamp time.Time, body, originID string, extra ...*xml.Element) *storage.ArchivedMessage {
	from, to := peer, owner+"/laptop"
	if outgoing {
		from, to = owner+"/laptop", peer
	}
	st := xml.New("jabber:client", "message", "from", from, "to", to, "type", "chat", "id", fmt.Sprint("m", stamp.UnixMicro()))
	if body != "" {
		st.Append(xml.New("jabber:client", "body").AppendText(body))
	}
	if originID != "" {
		st.Append(xml.New(mam.NSSID, "origin-id", "id", originID))
	}
	for _, e := range extra {
		st.Append(e)
	}
	with, res, _ := strings.Cut(peer, "/")
	return &storage.ArchivedMessage{
		Owner: owner, With: with, WithResource: res, Outgoing: outgoing,
		Stamp: stamp, OriginID: originID, Body: body, Stanza: []byte(st.String()),
	}
}

func seed(t *testing.T, msgs ...*storage.ArchivedMessage) {
	t.Helper()
	st := openTestStore(t)
	defer st.Close()
	if err := st.AppendArchive(context.Background(), msgs); err != nil {
		t.Fatal(err)
	}
}

// dump returns every item of owner's archive, oldest first, without ids.
func dump(t *testing.T, owner string) []storage.ArchivedMessage {
	t.Helper()
	st := openTestStore(t)
	defer st.Close()
	page, err := st.QueryArchive(context.Background(), storage.ArchiveQuery{Owner: owner, Limit: 10000})
	if err != nil {
		t.Fatal(err)
	}
	for i := range page.Messages {
		page.Messages[i].ID = 0
	}
	return page.Messages
}

func TestArchiveStatsPurge(t *testing.T) {
	inTempDir(t, archiveToml)
	addUsers(t, "alice@example.org", "bob@example.org", "dave@example.net")
	seed(t,
		archived("alice@example.org", "bob@example.org/phone", false, day, "1", ""),
		archived("bob@example.org", "alice@example.org/laptop", true, day, "1", ""),
		archived("alice@example.org", "bob@example.org/phone", true, day.Add(24*time.Hour), "2", ""),
		archived("alice@example.org", "carol@example.com", false, day.Add(36*time.Hour), "3", ""),
		archived("alice@example.org", "bob@example.org/phone", false, day.Add(48*time.Hour), "4", ""),
		archived("alice@example.org", "carol@example.com", true, day.Add(72*time.Hour+time.Microsecond), "5", ""),
	)
	steps := []struct {
		args           []string
		code           int
		stdout, stderr string
	}{
		{[]string{"archive", "stats"}, 0, "alice@example.org 5\nbob@example.org   1\ndave@example.net  0\ntotal: 6 messages in 2 archives of 3 accounts\n", ""},
		{[]string{"archive", "stats", "alice@example.org"}, 0, "alice@example.org: 5 messages\n  first: 2024-03-01T00:00:00.000000Z\n  last:  2024-03-04T00:00:00.000001Z\n", ""},
		{[]string{"archive", "stats", "dave@example.net"}, 0, "dave@example.net: 0 messages\n", ""},
		{[]string{"archive", "stats", "nobody@example.org"}, 1, "", "no such account: nobody@example.org"},
		{[]string{"archive", "stats", "a@other.example"}, 2, "", "does not serve other.example"},
		{[]string{"archive", "stats", "a@example.org", "b@example.org"}, 2, "", "usage: skald archive stats [USER]"},
		{[]string{"archive", "purge"}, 2, "", "usage: skald archive purge USER [--with JID] [--before TIME]"},
		{[]string{"archive", "purge", "alice@example.org", "--with", "carol@example.com/x"}, 2, "", "has a resource"},
		{[]string{"archive", "purge", "alice@example.org", "--with", "@x"}, 2, "", "is not a valid JID"},
		{[]string{"archive", "purge", "alice@example.org", "--before", "2024-03-32"}, 2, "", `--before "2024-03-32": want a date`},
		{[]string{"archive", "purge", "alice@example.org", "--before", "2024-03-02T00:00:00"}, 2, "", "want a date"},
		{[]string{"archive", "purge", "alice@example.org", "--bogus"}, 2, "", "flag provided but not defined: -bogus"},
		{[]string{"archive", "purge", "nobody@example.org"}, 1, "", "no such account: nobody@example.org"},
		{[]string{"archive"}, 2, "", `"archive" needs a subcommand: stats, purge, expire, export, import`},
		{[]string{"help", "archive"}, 0, "archive purge USER [--with JID] [--before TIME]\n", ""},
		{[]string{"archive", "export", "-o"}, 2, "", "flag needs an argument: -o"},
		{[]string{"archive", "stats", "--with", "x@y"}, 2, "", "flag provided but not defined: -with"},
		{[]string{"archive", "purge", "--", "--with"}, 2, "", `"--with" is not a valid JID`},
		// Flags before and after the user.
		{[]string{"archive", "purge", "--with", "Carol@Example.com", "alice@example.org", "--before", "2024-03-03"}, 0,
			"deleted 1 message from the archive of alice@example.org (with carol@example.com, before 2024-03-03T00:00:00.000000Z)\n", ""},
		{[]string{"archive", "stats", "alice@example.org"}, 0, "alice@example.org: 4 messages\n  first: 2024-03-01T00:00:00.000000Z\n", ""},
		// A date-time with an offset: 2024-03-03T00:00:00Z exactly; the
		// item stamped then is not before it.
		{[]string{"archive", "purge", "alice@example.org", "--before=2024-03-03T01:00:00+01:00", "--with=bob@example.org"}, 0,
			"deleted 2 messages from the archive of alice@example.org (with bob@example.org, before 2024-03-03T00:00:00.000000Z)\n", ""},
		{[]string{"archive", "stats"}, 0, "alice@example.org 2\nbob@example.org   1\n", ""},
		{[]string{"archive", "purge", "alice@example.org", "--before", "2024-03-04T00:00:00.000001Z"}, 0, "deleted 1 message from the archive of alice@example.org (before 2024-03-04T00:00:00.000001Z)\n", ""},
		{[]string{"archive", "purge", "alice@example.org"}, 0, "deleted 1 message from the archive of alice@example.org\n", ""},
		{[]string{"archive", "purge", "alice@example.org"}, 0, "deleted 0 messages", ""},
		{[]string{"archive", "stats"}, 0, "alice@example.org 0\nbob@example.org   1\ndave@example.net  0\ntotal: 1 message in 1 archive of 3 accounts\n", ""},
	}
	for _, s := range steps {
		check(t, runIn(nil, "", s.args...), s.code, s.stdout, s.stderr)
	}
	if got := dump(t, "alice@example.org"); len(got) != 0 {
		t.Errorf("alice's archive after purging everything: %v", got)
	}
	if got := dump(t, "bob@example.org"); len(got) != 1 {
		t.Errorf("bob's archive was touched: %v", got)
	}
}

func TestArchiveExpire(t *testing.T) {
	tests := []struct {
		name   string
		mam    string
		stdout string
		left   int
	}{
		{"default one week", "", "deleted 2 messages older than archive_expires_after = \"1w\"\n", 1},
		{"seconds", "archive_expires_after = 7200\n", "deleted 3 messages older than archive_expires_after = 7200\n", 0},
		{"long", "archive_expires_after = \"1y\"\n", "deleted 0 messages older than archive_expires_after = \"1y\"\n", 3},
		{"never", "archive_expires_after = \"never\"\n", "archive expiry is disabled (archive_expires_after = \"never\"): nothing deleted\n", 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inTempDir(t, archiveToml+"[mam]\n"+tt.mam)
			addUsers(t, "alice@example.org")
			now := time.Now().UTC()
			seed(t,
				archived("alice@example.org", "bob@example.org", false, now.Add(-30*24*time.Hour), "old", ""),
				archived("alice@example.org", "bob@example.org", false, now.Add(-8*24*time.Hour), "older than a week", ""),
				archived("alice@example.org", "bob@example.org", false, now.Add(-3*time.Hour), "recent", ""),
			)
			r := runIn(nil, "", "archive", "expire")
			if r.code != 0 || r.stdout != tt.stdout {
				t.Errorf("exit %d, stdout %q, stderr %q; want stdout %q", r.code, r.stdout, r.stderr, tt.stdout)
			}
			if got := len(dump(t, "alice@example.org")); got != tt.left {
				t.Errorf("%d items left, want %d", got, tt.left)
			}
		})
	}
	inTempDir(t, archiveToml+"[mam]\narchive_expires_after = \"0d\"\n")
	check(t, runIn(nil, "", "archive", "expire"), 1, "", "archive_expires_after")
	check(t, runIn(nil, "", "archive", "expire", "now"), 2, "", "usage: skald archive expire")
}

// roundTripItems are stanzas that exercise the serialisation: namespaced
// and prefixed attributes, xml:lang, escaped text, a message to oneself,
// one without a body, one without an origin-id, and peers with and
// without resources.
func roundTripItems() []*storage.ArchivedMessage {
	at := func(i int) time.Time { return day.Add(time.Duration(i)*time.Hour + time.Duration(i)*time.Microsecond) }
	x := xml.New("urn:example:x", "x", "a", "1")
	x.Attrs = append(x.Attrs, xml.Attr{Space: "urn:example:attr", Local: "p", Value: "q"}, xml.Attr{Space: xml.NSXML, Local: "lang", Value: "fr"})
	x.Append(xml.New("urn:example:x", "y").AppendText("\"quoted\" <&> \r\n\ttab"))
	return []*storage.ArchivedMessage{
		archived("alice@example.org", "bob@example.org/phone", false, at(0), "hello Alice", "o1"),
		archived("alice@example.org", "bob@example.org/phone", true, at(1), "hi <Bob> & 'co'", "o2", x),
		archived("bob@example.org", "alice@example.org/laptop", true, at(1), "hi <Bob> & 'co'", "o2", x),
		archived("alice@example.org", "carol@example.com", true, at(2), "no origin-id", ""),
		archived("alice@example.org", "alice@example.org/phone", true, at(3), "note to self", "o3"),
		archived("alice@example.org", "carol@example.com/x", false, at(4), "", "o4",
			xml.New("urn:xmpp:receipts", "received", "id", "m1")),
		archived("dave@example.net", "alice@example.org/laptop", false, at(5), "ünïcödé ✓", "o5"),
		archived("alice@example.org", "carol@example.com", false, at(5), "same stamp", ""),
	}
}

func TestArchiveExportImportRoundTrip(t *testing.T) {
	users := []string{"alice@example.org", "bob@example.org", "dave@example.net"}
	src := inTempDir(t, archiveToml)
	addUsers(t, append(users, "erin@example.org")...)
	seed(t, roundTripItems()...)

	// Export everything to a file, and alice's archive to stdout.
	r := runIn(nil, "", "archive", "export", "-o", "all.xml")
	check(t, r, 0, "exported 8 messages of 3 archives to all.xml\n", "")
	if fi, err := os.Stat("all.xml"); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("all.xml: %v, %v", fi, err)
	}
	if tmp, _ := filepath.Glob(".all.xml.*"); len(tmp) > 0 {
		t.Errorf("temporary files left: %v", tmp)
	}
	alice := runIn(nil, "", "archive", "export", "alice@example.org")
	check(t, alice, 0, "<server-data xmlns=\"urn:xmpp:pie:0\">", "exported 6 messages of 1 archive to stdout\n")
	check(t, runIn(nil, "", "archive", "export", "nobody@example.org"), 1, "", "no such account")

	// The ids are the ones clients see: the server's secret, the
	// module's encoding.
	secret, err := server.LoadSecret("data")
	if err != nil {
		t.Fatal(err)
	}
	st := openTestStore(t)
	m, err := mam.New(mam.DefaultConfig(), st, st, secret, nil)
	if err != nil {
		t.Fatal(err)
	}
	page, err := st.QueryArchive(context.Background(), storage.ArchiveQuery{Owner: "alice@example.org", Limit: 100})
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	var wantIDs []string
	for _, it := range page.Messages {
		wantIDs = append(wantIDs, m.ArchiveID(it.ID))
	}
	gotIDs := regexp.MustCompile(`<result xmlns="urn:xmpp:mam:2" id="([^"]+)">`).FindAllStringSubmatch(alice.stdout, -1)
	if len(gotIDs) != len(wantIDs) {
		t.Fatalf("exported %d ids, want %d:\n%s", len(gotIDs), len(wantIDs), alice.stdout)
	}
	for i := range wantIDs {
		if gotIDs[i][1] != wantIDs[i] {
			t.Errorf("item %d: exported id %s, want %s", i, gotIDs[i][1], wantIDs[i])
		}
	}
	if !strings.Contains(alice.stdout, `<delay xmlns="urn:xmpp:delay" stamp="2024-03-01T01:00:00.000001Z"/>`) {
		t.Errorf("stamps are not written with microseconds:\n%s", alice.stdout)
	}

	want := map[string][]storage.ArchivedMessage{}
	for _, u := range users {
		want[u] = dump(t, u)
	}
	wantStats := runIn(nil, "", "archive", "stats").stdout

	// Import into a fresh data directory.
	dst := inTempDir(t, archiveToml+"[mam]\narchive_expires_after = \"never\"\n")
	addUsers(t, append(users, "erin@example.org")...)
	file := filepath.Join(src, "all.xml")
	r = runIn(nil, "", "archive", "import", file)
	check(t, r, 0, "dave@example.net: imported 1 message\nalice@example.org: imported 6 messages\nbob@example.org: imported 1 message\n", "")
	if r.stderr != "" {
		t.Errorf("stderr: %s", r.stderr)
	}
	if got := runIn(nil, "", "archive", "stats").stdout; got != wantStats {
		t.Errorf("stats after import:\n%s\nwant:\n%s", got, wantStats)
	}
	for _, u := range users {
		got := dump(t, u)
		if len(got) != len(want[u]) {
			t.Fatalf("%s: %d items, want %d", u, len(got), len(want[u]))
		}
		for i := range got {
			g, w := got[i], want[u][i]
			if !g.Stamp.Equal(w.Stamp) || string(g.Stanza) != string(w.Stanza) ||
				g.With != w.With || g.WithResource != w.WithResource || g.Outgoing != w.Outgoing ||
				g.OriginID != w.OriginID || g.Body != w.Body {
				t.Errorf("%s item %d:\n got %+v\n     %s\nwant %+v\n     %s", u, i, g, g.Stanza, w, w.Stanza)
			}
		}
	}

	// Exporting the copy gives the same document but for the ids.
	again := runIn(nil, "", "archive", "export", "alice@example.org")
	noIDs := regexp.MustCompile(` id="[A-Za-z0-9_-]{22}"`)
	if a, b := noIDs.ReplaceAllString(again.stdout, ""), noIDs.ReplaceAllString(alice.stdout, ""); a != b {
		t.Errorf("re-export differs:\n%s\nwant:\n%s", a, b)
	}

	// Importing again adds only the items without an origin-id.
	r = runIn(nil, "", "archive", "import", file)
	check(t, r, 0, "alice@example.org: imported 2 messages, skipped 4 already archived\nbob@example.org: imported 0 messages, skipped 1 already archived\n", "")
	// The store holds newer items now: the one stamped before the newest
	// is raised to it.
	if !strings.Contains(r.stderr, "warning: stamps raised for 1 message older than the newest message already in the store") {
		t.Errorf("no warning about raised stamps: %q", r.stderr)
	}
	_ = dst
}

// TestArchiveImportMultiUser imports a hand-written XEP-0227 document:
// two hosts, data other than archives to skip, interleaved stamps across
// users (all of which must survive in an empty store), an XInclude of a
// user file, and peers in every position relative to the owner.
func TestArchiveImportMultiUser(t *testing.T) {
	inTempDir(t, archiveToml)
	addUsers(t, "juliet@example.org", "romeo@example.net", "nurse@example.org")
	doc := `<?xml version='1.0' encoding='UTF-8'?>
<!-- exported by hand -->
<server-data xmlns='urn:xmpp:pie:0' xmlns:xi='http://www.w3.org/2001/XInclude'>
  <host jid='Example.ORG'>
    <user name='juliet' password='s3crEt'>
      <query xmlns='jabber:iq:roster'>
        <item jid='romeo@example.net' name='Romeo' subscription='both'><group>Friends</group></item>
      </query>
      <vCard xmlns='vcard-temp'><FN>Juliet Capulet</FN></vCard>
      <offline-messages>
        <message xmlns='jabber:client' from='romeo@example.net/orchard' to='juliet@example.org' type='chat'><body>offline</body></message>
      </offline-messages>
      <archive xmlns='urn:xmpp:pie:0#mam'>
        <result xmlns='urn:xmpp:mam:2' id='28482-98726-73623'>
          <forwarded xmlns='urn:xmpp:forward:0'>
            <delay xmlns='urn:xmpp:delay' stamp='2010-07-10T23:08:25Z'/>
            <message xmlns='jabber:client' to='juliet@example.org/balcony' from='romeo@example.net/orchard' type='chat'><body>Call me but love</body></message>
          </forwarded>
        </result>
        <result xmlns='urn:xmpp:mam:2' id='5d398-28273-f7382'>
          <forwarded xmlns='urn:xmpp:forward:0'>
            <delay xmlns='urn:xmpp:delay' stamp='2010-07-11T01:09:32.123456789+02:00'/>
            <cl:message xmlns:cl='jabber:client' to='romeo@example.net/orchard' from='Juliet@example.org/balcony' type='chat' id='8a54s'><cl:body>What man art thou</cl:body><stanza-id xmlns='urn:xmpp:sid:0' by='juliet@example.org' id='old-server-id'/><origin-id xmlns='urn:xmpp:sid:0' id='j1'/></cl:message>
          </forwarded>
        </result>
        <result xmlns='urn:xmpp:mam:2'>
          <forwarded xmlns='urn:xmpp:forward:0'>
            <delay xmlns='urn:xmpp:delay' stamp='2010-07-12T00:00:00Z'/>
            <message xmlns='jabber:client' to='nurse@example.org'><body>no from: sent by juliet</body></message>
          </forwarded>
        </result>
      </archive>
    </user>
    <xi:include href='users/nurse.xml'/>
  </host>
  <host jid='example.net'>
    <user name='romeo'>
      <archive xmlns='urn:xmpp:pie:0#mam'>
        <result xmlns='urn:xmpp:mam:2' id='r1'>
          <forwarded xmlns='urn:xmpp:forward:0'>
            <delay xmlns='urn:xmpp:delay' stamp='2010-07-10T23:08:20Z'/>
            <message xmlns='jabber:client' from='romeo@example.net/orchard' to='juliet@example.org' type='chat'><body>Call me but love</body></message>
          </forwarded>
        </result>
        <result xmlns='urn:xmpp:mam:2' id='r2'>
          <forwarded xmlns='urn:xmpp:forward:0'>
            <delay xmlns='urn:xmpp:delay' stamp='2010-07-10T23:09:40Z'/>
            <message xmlns='jabber:client' from='juliet@example.org/balcony' to='romeo@example.net' type='chat'><body>What man art thou</body><origin-id xmlns='urn:xmpp:sid:0' id='j1'/></message>
          </forwarded>
        </result>
      </archive>
    </user>
  </host>
  <extension xmlns='urn:example:ignored'><host jid='not.a.host'/></extension>
</server-data>
`
	nurse := `<user xmlns='urn:xmpp:pie:0' name='nurse'>
  <archive xmlns='urn:xmpp:pie:0#mam'>
    <result xmlns='urn:xmpp:mam:2' id='n1'><forwarded xmlns='urn:xmpp:forward:0'><delay xmlns='urn:xmpp:delay' stamp='2010-07-10T23:08:30Z'/><message xmlns='jabber:client' from='nurse@example.org/kitchen' to='nurse@example.org/kitchen'><body>talking to myself</body></message></forwarded></result>
  </archive>
</user>
`
	if err := os.MkdirAll("in/users", 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile("in/doc.xml", []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile("in/users/nurse.xml", []byte(nurse), 0o600); err != nil {
		t.Fatal(err)
	}
	r := runIn(nil, "", "archive", "import", "in/doc.xml")
	check(t, r, 0, "juliet@example.org: imported 3 messages\nnurse@example.org: imported 1 message\nromeo@example.net: imported 2 messages\n", "")
	if !strings.Contains(r.stderr, "warning: the server will delete 6 messages of this import at its next expiry run: older than archive_expires_after = \"1w\"") {
		t.Errorf("no expiry warning: %q", r.stderr)
	}
	if strings.Contains(r.stderr, "stamps raised") {
		t.Errorf("stamps were raised in an empty store: %q", r.stderr)
	}

	type item struct {
		stamp, with, res string
		out              bool
		oid, body        string
	}
	want := map[string][]item{
		"juliet@example.org": {
			{"2010-07-10T23:08:25.000000Z", "romeo@example.net", "orchard", false, "", "Call me but love"},
			{"2010-07-10T23:09:32.123456Z", "romeo@example.net", "orchard", true, "j1", "What man art thou"},
			{"2010-07-12T00:00:00.000000Z", "nurse@example.org", "", true, "", "no from: sent by juliet"},
		},
		"romeo@example.net": {
			{"2010-07-10T23:08:20.000000Z", "juliet@example.org", "", true, "", "Call me but love"},
			{"2010-07-10T23:09:40.000000Z", "juliet@example.org", "balcony", false, "j1", "What man art thou"},
		},
		"nurse@example.org": {
			{"2010-07-10T23:08:30.000000Z", "nurse@example.org", "kitchen", true, "", "talking to myself"},
		},
	}
	for owner, items := range want {
		got := dump(t, owner)
		if len(got) != len(items) {
			t.Fatalf("%s: %d items, want %d", owner, len(got), len(items))
		}
		for i, w := range items {
			g := got[i]
			gi := item{mam.FormatDateTime(g.Stamp), g.With, g.WithResource, g.Outgoing, g.OriginID, g.Body}
			if gi != w {
				t.Errorf("%s item %d = %+v, want %+v", owner, i, gi, w)
			}
			if _, err := pie.ParseStanza(g.Stanza); err != nil {
				t.Errorf("%s item %d: stored stanza unreadable: %v", owner, i, err)
			}
		}
	}
	// The old server's stanza-id is not kept; the prefixed message is
	// stored in the server's own serialisation.
	if s := string(dump(t, "juliet@example.org")[1].Stanza); strings.Contains(s, "old-server-id") || !strings.HasPrefix(s, `<message xmlns="jabber:client" to="romeo@example.net/orchard"`) {
		t.Errorf("stored stanza: %s", s)
	}
}

// TestArchiveImportErrors checks that a document with any problem imports
// nothing, for any user, and says where the problem is.
func TestArchiveImportErrors(t *testing.T) {
	item := func(stamp, from, to string) string {
		return `<result xmlns='urn:xmpp:mam:2'><forwarded xmlns='urn:xmpp:forward:0'><delay xmlns='urn:xmpp:delay' stamp='` + stamp +
			`'/><message xmlns='jabber:client' from='` + from + `' to='` + to + `'><body>x</body></message></forwarded></result>`
	}
	good := item("2024-01-01T00:00:00Z", "alice@example.org/a", "bob@example.org")
	doc := func(aliceItems, bobItems string) string {
		return "<server-data xmlns='urn:xmpp:pie:0'>\n<host jid='example.org'>\n" +
			"<user name='alice'><archive xmlns='urn:xmpp:pie:0#mam'>\n" + aliceItems + "\n</archive></user>\n" +
			"<user name='bob'><archive xmlns='urn:xmpp:pie:0#mam'>\n" + bobItems + "\n</archive></user>\n" +
			"</host>\n</server-data>\n"
	}
	tests := []struct {
		name   string
		doc    string
		args   []string // default: import doc.xml
		code   int
		stderr string
	}{
		{"truncated", strings.TrimSuffix(doc(good, good), "</host>\n</server-data>\n"), nil, 1, "doc.xml:9: the document ends inside <host>; nothing imported"},
		{"truncated in a tag", doc(good, good)[:len(doc(good, good))-40], nil, 1, "doc.xml:8: not well-formed XML: unexpected EOF; nothing imported"},
		{"mismatched tag", doc(good, "</archive>"), nil, 1, "doc.xml:8: not well-formed XML: unexpected end tag </archive>"},
		{"result in the wrong namespace", doc(good, "<result/>"), nil, 1, "doc.xml:7: <result> may not appear in <archive>"},
		{"wrong root", "<server-data xmlns='http://www.xmpp.org/extensions/xep-0227.html#ns'/>", nil, 1, "doc.xml:1: the root element is {http://www.xmpp.org/extensions/xep-0227.html#ns}server-data: not a XEP-0227 document"},
		{"empty file", "", nil, 1, "doc.xml:1: no root element"},
		{"no delay", doc(good, `<result xmlns='urn:xmpp:mam:2'><forwarded xmlns='urn:xmpp:forward:0'><message xmlns='jabber:client'/></forwarded></result>`), nil, 1, "doc.xml:7: <forwarded> without <delay"},
		{"bad stamp", doc(good, item("2024-01-01 00:00:00", "a@b", "bob@example.org")), nil, 1, `doc.xml:7: <delay stamp="2024-01-01 00:00:00">: not an XEP-0082 DateTime`},
		{"not the owner's", doc(good, item("2024-01-01T00:00:00Z", "alice@example.org", "carol@example.org")), nil, 1, "doc.xml:7: item of bob@example.org: message is neither from nor to bob@example.org"},
		{"bad peer", doc(good, item("2024-01-01T00:00:00Z", "@@", "bob@example.org")), nil, 1, `doc.xml:7: item of bob@example.org: message 'from' "@@"`},
		{"undeclared prefix", doc(good, `<result xmlns='urn:xmpp:mam:2'><x:y/></result>`), nil, 1, `doc.xml:7: undeclared namespace prefix "x"`},
		{"valid counterpart", doc(good, item("2024-01-01T00:00:00Z", "zed@example.org", "bob@example.org")), nil, 0, ""},
		{"DTD", "<!DOCTYPE x [<!ENTITY a 'b'>]><server-data xmlns='urn:xmpp:pie:0'/>", nil, 1, "doc.xml:1: DTDs are not supported"},
		{"include outside", "<server-data xmlns='urn:xmpp:pie:0'><include xmlns='http://www.w3.org/2001/XInclude' href='../secret.xml'/></server-data>", nil, 1, `XInclude href "../secret.xml" leaves the directory`},
		{"include missing", "<server-data xmlns='urn:xmpp:pie:0'><include xmlns='http://www.w3.org/2001/XInclude' href='host.xml'/></server-data>", nil, 1, "doc.xml:1: XInclude: open host.xml"},
		{"missing file", "", []string{"archive", "import", "nothing.xml"}, 1, "nothing.xml"},
		{"no file", "", []string{"archive", "import"}, 2, "usage: skald archive import FILE"},
		{"include from stdin", "", []string{"archive", "import", "-"}, 1, "stdin:1: XInclude <include href=\"x.xml\"/>: only a document read from a file may include others"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inTempDir(t, archiveToml)
			addUsers(t, "alice@example.org", "bob@example.org")
			if err := os.WriteFile("doc.xml", []byte(tt.doc), 0o600); err != nil {
				t.Fatal(err)
			}
			args := tt.args
			if args == nil {
				args = []string{"archive", "import", "doc.xml"}
			}
			stdin := "<server-data xmlns='urn:xmpp:pie:0'><include xmlns='http://www.w3.org/2001/XInclude' href='x.xml'/></server-data>"
			r := runIn(nil, stdin, args...)
			if tt.code == 0 {
				// The valid counterpart of a case: alice's item is imported.
				check(t, r, 0, "alice@example.org: imported 1 message\nbob@example.org: imported 1 message\n", "")
				return
			}
			check(t, r, tt.code, "", tt.stderr)
			if r.stdout != "" {
				t.Errorf("stdout: %q", r.stdout)
			}
			if got := runIn(nil, "", "archive", "stats").stdout; !strings.Contains(got, "total: 0 messages") {
				t.Errorf("something was imported:\n%s", got)
			}
		})
	}

	// An unknown user anywhere in the document: nothing is imported.
	inTempDir(t, archiveToml)
	addUsers(t, "alice@example.org")
	if err := os.WriteFile("doc.xml", []byte(doc(good, item("2024-01-01T00:00:00Z", "zed@x", "bob@example.org"))), 0o600); err != nil {
		t.Fatal(err)
	}
	check(t, runIn(nil, "", "archive", "import", "doc.xml"), 1, "", "no such account: bob@example.org (create with 'skald user add'); nothing imported")
	check(t, runIn(nil, "", "archive", "stats"), 0, "total: 0 messages", "")
}

func TestArchiveImportStdin(t *testing.T) {
	inTempDir(t, archiveToml)
	addUsers(t, "alice@example.org")
	doc := `<server-data xmlns='urn:xmpp:pie:0'><host jid='example.org'><user name='alice'><archive xmlns='urn:xmpp:pie:0#mam'>` +
		`<result xmlns='urn:xmpp:mam:2'><forwarded xmlns='urn:xmpp:forward:0'><delay xmlns='urn:xmpp:delay' stamp='2024-01-01T00:00:00Z'/>` +
		`<message xmlns='jabber:client' from='bob@example.org' to='alice@example.org'><body>hi</body></message></forwarded></result>` +
		`</archive></user></host></server-data>`
	check(t, runIn(nil, doc, "archive", "import", "-"), 0, "alice@example.org: imported 1 message\n", "")
	check(t, runIn(nil, "<server-data xmlns='urn:xmpp:pie:0'/>", "archive", "import", "-"), 0, "the document holds no archived messages: nothing imported\n", "")
	check(t, runIn(nil, "<server-data", "archive", "import", "-"), 1, "", "stdin:1: not well-formed XML")
}
