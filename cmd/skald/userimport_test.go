package main

import (
	"context"
	"encoding/base64"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/skald-xmpp/skald/config"
	"github.com/skald-xmpp/skald/internal/server"
	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/internal/xmpptest"
	"github.com/skald-xmpp/skald/presence"
	"github.com/skald-xmpp/skald/private"
	"github.com/skald-xmpp/skald/sasl"
	"github.com/skald-xmpp/skald/storage/postgres/pgtest"
	"github.com/skald-xmpp/skald/storage/sqlite"
	"github.com/skald-xmpp/skald/vcard"
)

// xepDocument is shaped like the examples of XEP-0227 §4 (users with a
// password, roster, offline messages, private XML, vCard), plus a v1.1
// user with SCRAM credentials only, an incoming subscription request and
// an archive.
func xepDocument(t *testing.T) string {
	t.Helper()
	creds, err := sasl.DeriveCredentials("iLuvJuLi3T", sasl.MinIterations)
	if err != nil {
		t.Fatal(err)
	}
	b64 := base64.StdEncoding.EncodeToString
	scram := func(mech string, c sasl.Credential) string {
		return fmt.Sprintf(`<scram-credentials xmlns='urn:xmpp:pie:0#scram' mechanism='%s'>
        <iter-count>%d</iter-count><salt>%s</salt>
        <server-key>%s</server-key><stored-key>%s</stored-key>
      </scram-credentials>`, mech, c.Iterations, b64(c.Salt), b64(c.ServerKey), b64(c.StoredKey))
	}
	return `<?xml version='1.0' encoding='UTF-8'?>
<server-data xmlns='urn:xmpp:pie:0'>
  <host jid='capulet.com'>
    <user name='juliet' password='s3crEt'>
      <query xmlns='jabber:iq:roster'>
        <item jid='romeo@montague.net'
              name='Romeo'
              subscription='both'>
          <group>Friends</group>
        </item>
        <item jid='nurse@capulet.com' subscription='none' ask='subscribe'/>
      </query>
      <offline-messages>
        <message xmlns='jabber:client'
                 from='romeo@montague.net/orchard'
                 to='juliet@capulet.com/balcony'
                 type='chat'>
          <body>Neither, fair saint, if either thee dislike.</body>
          <delay xmlns='urn:xmpp:delay'
                 from='capulet.com'
                 stamp='1469-07-21T00:32:29Z'>
            Offline Storage
          </delay>
        </message>
      </offline-messages>
      <query xmlns="jabber:iq:private">
        <exodus xmlns="exodus:prefs">
          <defaultnick>Juliet</defaultnick>
        </exodus>
      </query>
      <vCard xmlns='vcard-temp'>
        <FN>Juliet Capulet</FN>
      </vCard>
      <presence xmlns='jabber:client' from='tybalt@capulet.com/sword' to='juliet@capulet.com' type='subscribe'><status>cousin</status></presence>
      <archive xmlns='urn:xmpp:pie:0#mam'>
        <result xmlns='urn:xmpp:mam:2' id='a1'>
          <forwarded xmlns='urn:xmpp:forward:0'>
            <delay xmlns='urn:xmpp:delay' stamp='2024-03-01T00:00:00Z'/>
            <message xmlns='jabber:client' from='romeo@montague.net/orchard' to='juliet@capulet.com/balcony' type='chat'><body>archived</body></message>
          </forwarded>
        </result>
      </archive>
    </user>
  </host>
  <host jid='montague.net'>
    <user name='romeo'>
      ` + scram("SCRAM-SHA-1", creds.SHA1) + `
      ` + scram("SCRAM-SHA-256", creds.SHA256) + `
    </user>
  </host>
</server-data>
`
}

func TestUserImportSQLite(t *testing.T) {
	toml := "domains = [\"capulet.com\", \"montague.net\"]\ndata_dir = \"data\"\n"
	testUserImport(t, toml, toml)
}

func TestUserImportPostgres(t *testing.T) {
	toml := func() string {
		return fmt.Sprintf("domains = [\"capulet.com\", \"montague.net\"]\ndata_dir = \"data\"\n[storage]\nbackend = \"postgres\"\ndsn = %q\n", pgtest.DSN(t))
	}
	testUserImport(t, toml(), toml())
}

// testUserImport imports the XEP-shaped document into the store of toml,
// checks it, exports it and imports the export into the empty store of
// toml2, which must then hold the same.
func testUserImport(t *testing.T, toml, toml2 string) {
	inTempDir(t, toml)
	if err := os.WriteFile("export.xml", []byte(xepDocument(t)), 0o600); err != nil {
		t.Fatal(err)
	}
	r := runIn(nil, "", "user", "import", "export.xml")
	check(t, r, 0, "juliet@capulet.com: created\nromeo@montague.net: created\n", "")
	check(t, r, 0, "juliet@capulet.com: imported 1 message", "")

	checkImported(t, true)

	// A second import refuses existing accounts, unless told to skip them.
	check(t, runIn(nil, "", "user", "import", "export.xml"), 1, "", "accounts exist already: juliet@capulet.com, romeo@montague.net")
	check(t, runIn(nil, "", "user", "import", "--skip-existing", "export.xml"), 0, "juliet@capulet.com: exists, skipped", "")
	if n := len(dump(t, "juliet@capulet.com")); n != 1 {
		t.Errorf("after --skip-existing, juliet's archive holds %d messages, want 1 (skipped accounts keep their data)", n)
	}

	// Round trip: export, import into an empty store.
	check(t, runIn(nil, "", "user", "export", "-o", "out.xml"), 0, "exported 2 accounts with 1 message to out.xml", "")
	doc, err := os.ReadFile("out.xml")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(doc), "s3crEt") || strings.Contains(string(doc), "password") {
		t.Errorf("the export carries a password:\n%s", doc)
	}
	inTempDir(t, toml2)
	if err := os.WriteFile("out.xml", doc, 0o600); err != nil {
		t.Fatal(err)
	}
	check(t, runIn(nil, "", "user", "import", "out.xml"), 0, "juliet@capulet.com: created\nromeo@montague.net: created\n", "")
	checkImported(t, false) // private XML is not exported
	if t.Failed() {
		t.Logf("exported document:\n%s", doc)
	}
}

// checkImported checks the store of skald.toml holds the XEP-shaped
// document's data (private XML only if withPrivate).
func checkImported(t *testing.T, withPrivate bool) {
	t.Helper()
	ctx := context.Background()
	st := openTestStore(t)
	defer st.Close()
	jc, err := st.UserCredentials(ctx, "juliet@capulet.com")
	if err != nil || !sasl.VerifyPlain(toSASL(jc), "s3crEt") {
		t.Errorf("juliet's password does not verify (%v)", err)
	}
	rc, err := st.UserCredentials(ctx, "romeo@montague.net")
	if err != nil || !sasl.VerifyPlain(toSASL(rc), "iLuvJuLi3T") {
		t.Errorf("romeo's imported SCRAM credentials do not verify (%v)", err)
	}

	items, _, err := st.Roster(ctx, "juliet@capulet.com")
	if err != nil {
		t.Fatal(err)
	}
	got := fmt.Sprint(items)
	want := "[{nurse@capulet.com  none true false false false []} {romeo@montague.net Romeo both false false false false [Friends]} {tybalt@capulet.com  none false true false true []}]"
	if got != want {
		t.Errorf("roster:\n got %s\nwant %s", got, want)
	}
	req, err := st.Document(ctx, "juliet@capulet.com", presence.RequestKind, "tybalt@capulet.com")
	if err != nil || !strings.Contains(string(req), "<status>cousin</status>") {
		t.Errorf("kept subscription request: %q %v", req, err)
	}
	vc, err := st.Document(ctx, "juliet@capulet.com", vcard.Kind, "")
	if err != nil || !strings.Contains(string(vc), "<FN>Juliet Capulet</FN>") {
		t.Errorf("vCard: %q %v", vc, err)
	}
	pv, err := st.Document(ctx, "juliet@capulet.com", private.Kind, "exodus:prefs")
	if withPrivate && (err != nil || !strings.Contains(string(pv), "<defaultnick>Juliet</defaultnick>")) {
		t.Errorf("private XML: %q %v", pv, err)
	}
	off, err := st.OfflineMessages(ctx, "juliet@capulet.com")
	if err != nil || len(off) != 1 || !strings.Contains(string(off[0].Stanza), "Neither, fair saint") || off[0].Stored.Year() != 1469 {
		t.Errorf("offline messages: %+v %v", off, err)
	}
	if n := len(dump(t, "juliet@capulet.com")); n != 1 {
		t.Errorf("archive of juliet: %d messages, want 1", n)
	}
}

func TestUserImportErrors(t *testing.T) {
	inTempDir(t, "domains = [\"capulet.com\"]\ndata_dir = \"data\"\n")
	user := func(body string) string {
		return "<server-data xmlns='urn:xmpp:pie:0'><host jid='capulet.com'><user name='juliet' password='pw'>" + body + "</user></host></server-data>"
	}
	cases := []struct {
		name, doc, stderr string
	}{
		{"no credentials", "<server-data xmlns='urn:xmpp:pie:0'><host jid='capulet.com'><user name='juliet'/></host></server-data>", "neither a password nor <scram-credentials"},
		{"unserved domain", "<server-data xmlns='urn:xmpp:pie:0'><host jid='montague.net'><user name='romeo' password='x'/></host></server-data>", "does not serve montague.net"},
		{"twice", "<server-data xmlns='urn:xmpp:pie:0'><host jid='capulet.com'><user name='a' password='x'/><user name='a' password='y'/></host></server-data>", "a@capulet.com appears twice"},
		{"bad subscription", user("<query xmlns='jabber:iq:roster'><item jid='a@b' subscription='remove'/></query>"), "want none, to, from or both"},
		{"bad scram", user("<scram-credentials xmlns='urn:xmpp:pie:0#scram' mechanism='SCRAM-SHA-1'><iter-count>1</iter-count><salt>AA==</salt><server-key>AA==</server-key><stored-key>AA==</stored-key></scram-credentials>"), "<server-key> is not base64 of the right length"},
		{"too many iterations", user("<scram-credentials xmlns='urn:xmpp:pie:0#scram' mechanism='SCRAM-SHA-1'><iter-count>10000001</iter-count><salt>AA==</salt><server-key>AAAAAAAAAAAAAAAAAAAAAAAAAAA=</server-key><stored-key>AAAAAAAAAAAAAAAAAAAAAAAAAAA=</stored-key></scram-credentials>"), "is over 10000000"},
		{"bad mechanism", user("<scram-credentials xmlns='urn:xmpp:pie:0#scram' mechanism='SCRAM-MD5'/>"), "want SCRAM-SHA-1 or SCRAM-SHA-256"},
		{"unavailable presence", user("<presence xmlns='jabber:client' from='a@b'/>"), "only subscription requests"},
		{"offline non-message", user("<offline-messages><iq xmlns='jabber:client'/></offline-messages>"), "not a jabber:client message"},
		{"private reserved", user("<query xmlns='jabber:iq:private'><x xmlns='jabber:client'/></query>"), "needs a namespace of its own"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := os.WriteFile("doc.xml", []byte(c.doc), 0o600); err != nil {
				t.Fatal(err)
			}
			check(t, runIn(nil, "", "user", "import", "doc.xml"), 1, "", c.stderr)
			check(t, runIn(nil, "", "user", "import", "doc.xml"), 1, "", "nothing imported")
		})
	}
	st := openTestStore(t)
	defer st.Close()
	if users, _ := st.ListUsers(context.Background(), ""); len(users) != 0 {
		t.Errorf("a refused document created accounts: %v", users)
	}
	check(t, runIn(nil, "", "user", "import", "-"), 2, "", "give a file, not stdin")
}

// TestUserImportLogin imports the XEP-shaped document, starts the server
// on the imported store and logs in over a real socket: juliet with her
// imported password, romeo with his imported SCRAM credentials (whose
// password this server never saw); juliet gets her imported roster.
func TestUserImportLogin(t *testing.T) {
	addr := freePort(t)
	inTempDir(t, "domains = [\"capulet.com\", \"montague.net\"]\ndata_dir = \"data\"\n[c2s]\nstarttls_address = \""+addr+"\"\n")
	if err := os.WriteFile("export.xml", []byte(xepDocument(t)), 0o600); err != nil {
		t.Fatal(err)
	}
	check(t, runIn(nil, "", "user", "import", "export.xml"), 0, "romeo@montague.net: created", "")

	cfg, err := config.Load("skald.toml")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv, err := server.New(ctx, cfg, slog.New(slog.DiscardHandler), server.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Listen(); err != nil {
		t.Fatal(err)
	}
	srv.Start(ctx)
	defer srv.Shutdown(context.Background())

	romeo := xmpptest.Dial(t, addr)
	romeo.Login("montague.net", "romeo", "iLuvJuLi3T", "orchard")
	juliet := xmpptest.Dial(t, addr)
	juliet.Login("capulet.com", "juliet", "s3crEt", "balcony")
	juliet.Send(`<iq type='get' id='r1'><query xmlns='jabber:iq:roster'/></iq>`)
	res := juliet.Expect(func(e *xml.Element) bool { return e.Attr("id") == "r1" })
	q := res.Child("jabber:iq:roster", "query")
	if res.Attr("type") != "result" || q == nil {
		t.Fatalf("roster get: %s", res)
	}
	var got []string
	for _, it := range q.ChildrenNamed("jabber:iq:roster", "item") {
		got = append(got, fmt.Sprintf("%s/%s/%s/%s/%s", it.Attr("jid"), it.Attr("name"), it.Attr("subscription"), it.Attr("ask"), it.ChildText("jabber:iq:roster", "group")))
	}
	if want := "[nurse@capulet.com//none/subscribe/ romeo@montague.net/Romeo/both//Friends]"; fmt.Sprint(got) != want {
		t.Errorf("roster items %v, want %s\n%s", got, want, res)
	}
}

// prosodySHA1Export is what Prosody 0.12's prosody-migrator (output
// type xep0227, password_hash "SHA-1", the default) wrote here for an
// account registered with prosodyctl (password "s3cret") and a roster of
// one contact: its SCRAM-SHA-1 credentials, twice.
const prosodySHA1Export = `<server-data xmlns='urn:xmpp:pie:0'><host jid='localhost'><user name='juliet'>` +
	`<scram-credentials xmlns='urn:xmpp:pie:0#scram' mechanism='SCRAM-SHA-1'><server-key>TFM3zKKTlYBo3cQA8QWUiRUaehs=</server-key><stored-key>d/HT07QcFjTx9QwULBrh8DLRjyk=</stored-key><iter-count>10000</iter-count><salt>Yzc4NTY5NTAtM2EyNi00YWU1LWI2Y2MtODZiM2IyNTU4OGZm</salt></scram-credentials>` +
	`<scram-credentials xmlns='urn:xmpp:pie:0#scram' mechanism='SCRAM-SHA-1'><server-key>TFM3zKKTlYBo3cQA8QWUiRUaehs=</server-key><stored-key>d/HT07QcFjTx9QwULBrh8DLRjyk=</stored-key><iter-count>10000</iter-count><salt>Yzc4NTY5NTAtM2EyNi00YWU1LWI2Y2MtODZiM2IyNTU4OGZm</salt></scram-credentials>` +
	`<query xmlns='jabber:iq:roster' version='2'><item jid='romeo@localhost' subscription='both' name='Romeo'><group>Friends</group></item></query>` +
	`</user></host></server-data>`

// TestUserImportProsodySHA1: Prosody's own export imports; its password
// verifies, and the operator is told that SCRAM-SHA-256 clients cannot
// log in with SHA-1-only credentials.
func TestUserImportProsodySHA1(t *testing.T) {
	inTempDir(t, "data_dir = \"data\"\n")
	if err := os.WriteFile("juliet.xml", []byte(prosodySHA1Export), 0o600); err != nil {
		t.Fatal(err)
	}
	r := runIn(nil, "", "user", "import", "juliet.xml")
	check(t, r, 0, "juliet@localhost: created\n", "juliet@localhost: warning: only SCRAM-SHA-1 credentials")
	st, err := sqlite.Open(context.Background(), filepath.Join("data", "skald.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	creds, err := st.UserCredentials(context.Background(), "juliet@localhost")
	if err != nil || !sasl.VerifyPlain(toSASL(creds), "s3cret") || sasl.VerifyPlain(toSASL(creds), "wrong") {
		t.Fatalf("imported credentials do not verify s3cret (%v)", err)
	}
}
