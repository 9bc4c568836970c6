package adhoc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/skald-xmpp/skald/internal/routertest"
	"github.com/skald-xmpp/skald/jid"
	"github.com/skald-xmpp/skald/storage"
	"github.com/skald-xmpp/skald/storage/memory"
)

// fakeAccounts keeps accounts in a memory store and records what it is
// asked, as register.Module would do it.
type fakeAccounts struct {
	st         *memory.Store
	calls      []string
	failDelete string // an account whose deletion fails in the store
}

func (f *fakeAccounts) CreateAccount(ctx context.Context, a jid.JID, pw string) error {
	f.calls = append(f.calls, "create "+a.String()+" "+pw)
	return f.st.CreateUser(ctx, a.String(), storage.Credentials{})
}

func (f *fakeAccounts) SetPassword(ctx context.Context, a jid.JID, pw string) error {
	f.calls = append(f.calls, "passwd "+a.String()+" "+pw)
	return f.st.SetUserCredentials(ctx, a.String(), storage.Credentials{})
}

func (f *fakeAccounts) DeleteAccount(ctx context.Context, a jid.JID) error {
	f.calls = append(f.calls, "delete "+a.String())
	if f.failDelete == a.String() {
		return errors.New("disk on fire")
	}
	return f.st.DeleteUser(ctx, a.String())
}

func (f *fakeAccounts) EndSessions(a jid.JID) { f.calls = append(f.calls, "end "+a.String()) }

// TestAdminCommands runs each XEP-0133 command as boss (an admin) with
// romeo and juliet online, and checks the completed result and what it
// did.
func TestAdminCommands(t *testing.T) {
	const juliet = "juliet@example.org"
	form := func(fields ...string) string {
		s := `<x xmlns="jabber:x:data" type="submit"><field var="FORM_TYPE"><value>http://jabber.org/protocol/admin</value></field>`
		for i := 0; i+1 < len(fields); i += 2 {
			s += `<field var="` + fields[i] + `">`
			for _, v := range strings.Split(fields[i+1], "|") {
				s += `<value>` + v + `</value>`
			}
			s += `</field>`
		}
		return s + `</x>`
	}
	tests := []struct {
		name   string
		node   string
		form   string   // "" for a command without stages
		want   []string // substrings of the final answer
		calls  []string
		closed []string // stream errors of romeo's orchard session
		juliet []string // what juliet's session got
		setup  func(t *testing.T, st *memory.Store)
		check  func(t *testing.T, st *memory.Store)
	}{{
		name:  "add-user",
		node:  "add-user",
		form:  form("accountjid", "Mercutio@Example.org", "password", "pw 1", "password-verify", "pw 1"),
		want:  []string{`status="completed"`, `<note type="info">Created mercutio@example.org.</note>`},
		calls: []string{"create mercutio@example.org pw 1"},
	}, {
		name: "add-user: exists",
		node: "add-user",
		form: form("accountjid", user1, "password", "x", "password-verify", "x"),
		want: []string{`type="error"`, `<conflict `, `romeo@example.org already exists`}, calls: []string{"create romeo@example.org x"},
	}, {
		name: "add-user: passwords differ",
		node: "add-user",
		form: form("accountjid", "new@example.org", "password", "x", "password-verify", "y"),
		want: []string{`<bad-request `, `<bad-payload xmlns="http://jabber.org/protocol/commands"/>`, "the passwords differ"},
	}, {
		name: "add-user: another server",
		node: "add-user",
		form: form("accountjid", "new@example.net", "password", "x", "password-verify", "x"),
		want: []string{`<bad-payload `, "new@example.net is not an account of this server"},
	}, {
		name: "add-user: full JID",
		node: "add-user",
		form: form("accountjid", "new@example.org/r", "password", "x", "password-verify", "x"),
		want: []string{`<bad-payload `, "is not an account (user@domain)"},
	}, {
		name: "add-user: no password",
		node: "add-user",
		form: form("accountjid", "new@example.org"),
		want: []string{`<bad-payload `, "required field missing: The password for this account"},
	}, {
		name:   "delete-user",
		node:   "delete-user",
		form:   form("accountjids", user1+"|nobody@example.org"),
		want:   []string{`status="completed"`, `<note type="info">Deleted romeo@example.org.</note>`, `<note type="error">No such account: nobody@example.org.</note>`},
		calls:  []string{"delete romeo@example.org", "delete nobody@example.org", "end romeo@example.org"},
		closed: nil, // fakeAccounts.EndSessions only records
	}, {
		// XEP-0133 §4.3: the account's sessions end, its data stays.
		name:   "disable-user",
		node:   "disable-user",
		form:   form("accountjids", user1+"|nobody@example.org", "x-reason", " spam, ticket #12 "),
		want:   []string{`status="completed"`, `<note type="info">Disabled romeo@example.org.</note>`, `<note type="error">No such account: nobody@example.org.</note>`},
		closed: []string{"policy-violation: " + disabledStreamText},
		check: func(t *testing.T, st *memory.Store) {
			s, err := st.UserStatus(context.Background(), user1)
			if err != nil || !s.Disabled || s.Reason != "spam, ticket #12" {
				t.Errorf("romeo's status %+v, %v", s, err)
			}
			if ok, _ := st.UserExists(context.Background(), user1); !ok {
				t.Error("disabling deleted romeo")
			}
		},
	}, {
		// An administrator who disabled the account they act from would
		// be cut off at once, with only the CLI to undo it: that one is
		// refused in an error note, the others are disabled.
		name:   "disable-user: oneself",
		node:   "disable-user",
		form:   form("accountjids", admin1+"|"+user1),
		want:   []string{`status="completed"`, `<note type="info">Disabled romeo@example.org.</note>`, `<note type="error">Not disabled: boss@example.org is the account you are using; another administrator can disable it.</note>`},
		closed: []string{"policy-violation: " + disabledStreamText},
		check: func(t *testing.T, st *memory.Store) {
			if s, err := st.UserStatus(context.Background(), admin1); err != nil || s.Disabled {
				t.Errorf("boss's status %+v, %v", s, err)
			}
		},
	}, {
		name: "disable-user: another server",
		node: "disable-user",
		form: form("accountjids", "romeo@example.net"),
		want: []string{`<bad-payload `, "romeo@example.net is not an account of this server"},
	}, {
		name: "disable-user: reason too long",
		node: "disable-user",
		form: form("accountjids", user1, "x-reason", strings.Repeat("x", maxReasonBytes+1)),
		want: []string{`<bad-payload `, "the reason is longer than"},
		check: func(t *testing.T, st *memory.Store) {
			if s, _ := st.UserStatus(context.Background(), user1); s.Disabled {
				t.Error("romeo disabled by a refused command")
			}
		},
	}, {
		name: "reenable-user",
		node: "reenable-user",
		form: form("accountjids", user1+"|nobody@example.org"),
		setup: func(t *testing.T, st *memory.Store) {
			if err := st.SetUserDisabled(context.Background(), user1, true, "x"); err != nil {
				t.Fatal(err)
			}
		},
		want: []string{`status="completed"`, `<note type="info">Re-enabled romeo@example.org.</note>`, `<note type="error">No such account: nobody@example.org.</note>`},
		check: func(t *testing.T, st *memory.Store) {
			if s, err := st.UserStatus(context.Background(), user1); err != nil || s.Disabled {
				t.Errorf("romeo's status %+v, %v", s, err)
			}
		},
	}, {
		name:  "disabled users",
		node:  "get-disabled-users-num",
		setup: disableRomeoAndJuliet,
		want:  []string{`<field var="disabledusersnum" type="text-single" label="The number of disabled users"><value>2</value></field>`},
	}, {
		name:  "disabled list",
		node:  "get-disabled-users-list",
		form:  form("max_items", "none"),
		setup: disableRomeoAndJuliet,
		want:  []string{`<field var="disableduserjids" type="jid-multi" label="The list of all disabled users"><value>juliet@example.org</value><value>romeo@example.org</value></field>`},
	}, {
		name:  "disabled list, cut",
		node:  "get-disabled-users-list",
		form:  form("max_items", "1"),
		setup: disableRomeoAndJuliet,
		want:  []string{`<note type="warn">Showing 1 of 2 disabled users.</note>`, `<value>juliet@example.org</value></field>`},
	}, {
		name:  "change-user-password",
		node:  "change-user-password",
		form:  form("accountjid", user1, "password", "new"),
		want:  []string{`status="completed"`, `Changed the password of romeo@example.org.`},
		calls: []string{"passwd romeo@example.org new"},
	}, {
		name:  "change-user-password: no such account",
		node:  "change-user-password",
		form:  form("accountjid", "nobody@example.org", "password", "new"),
		want:  []string{`status="completed"`, `<note type="error">No such account: nobody@example.org.</note>`},
		calls: []string{"passwd nobody@example.org new"},
	}, {
		name:   "end-user-session, bare",
		node:   "end-user-session",
		form:   form("accountjids", user1),
		want:   []string{`status="completed"`, `Ending 2 session(s).`},
		closed: []string{"policy-violation"},
	}, {
		name: "end-user-session, another resource",
		node: "end-user-session",
		form: form("accountjids", user1+"/balcony"),
		want: []string{`status="completed"`, `Ending 1 session(s).`},
	}, {
		name: "get-user-roster",
		node: "get-user-roster",
		form: form("accountjids", user1),
		setup: func(t *testing.T, st *memory.Store) {
			for _, it := range []storage.RosterItem{
				{JID: juliet, Name: "Juliet", Subscription: storage.SubBoth, Groups: []string{"Friends", "Lovers"}},
				{JID: "tybalt@example.org", Subscription: storage.SubNone, AskOut: true},
				{JID: "paris@example.org", Subscription: storage.SubNone, PendingIn: true, Hidden: true},
			} {
				if _, err := st.PutRosterItem(context.Background(), user1, it, true); err != nil {
					t.Fatal(err)
				}
			}
		},
		want: []string{`<x xmlns="jabber:x:data" type="result"><field var="FORM_TYPE" type="hidden"><value>http://jabber.org/protocol/admin</value></field><field var="accountjids" type="jid-multi"><value>romeo@example.org</value></field>` +
			`<query xmlns="jabber:iq:roster"><item jid="juliet@example.org" name="Juliet" subscription="both"><group>Friends</group><group>Lovers</group></item><item jid="tybalt@example.org" subscription="none" ask="subscribe"/></query></x>`},
	}, {
		name: "get-user-roster: two accounts",
		node: "get-user-roster",
		form: form("accountjids", user1+"|"+juliet),
		want: []string{`<bad-payload `, "name one account"},
	}, {
		name: "registered users",
		node: "get-registered-users-num",
		want: []string{`<field var="registeredusersnum" type="text-single" label="The number of registered users"><value>3</value></field>`},
	}, {
		name: "online users",
		node: "get-online-users-num",
		want: []string{`<field var="onlineusersnum" type="text-single" label="The number of online users"><value>3</value></field>`},
	}, {
		name: "online list",
		node: "get-online-users-list",
		form: form("max_items", "none"),
		want: []string{`<field var="onlineuserjids" type="jid-multi" label="The list of all online users"><value>boss@example.org</value><value>juliet@example.org</value><value>romeo@example.org</value></field>`},
	}, {
		name: "online list, cut",
		node: "get-online-users-list",
		form: form("max_items", "2"),
		want: []string{`<note type="warn">Showing 2 of 3 online users.</note>`, `<value>boss@example.org</value><value>juliet@example.org</value></field>`},
	}, {
		name:   "announce",
		node:   "announce",
		form:   form("subject", "Maintenance", "announcement", "Down at noon.|Sorry."),
		want:   []string{`Sent to 4 session(s).`},
		juliet: []string{`<message xmlns="jabber:client" type="headline" from="example.org" to="juliet@example.org"><subject>Maintenance</subject><body>Down at noon.` + "\n" + `Sorry.</body></message>`},
	}, {
		// Each session gets a copy: a stanza-sized announcement to
		// thousands of sessions would queue gigabytes.
		name: "announce, too long",
		node: "announce",
		form: form("subject", "Big", "announcement", strings.Repeat("x", maxAnnouncementBytes-2)),
		want: []string{`<bad-payload xmlns="http://jabber.org/protocol/commands"/>`},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := routertest.New(t, admin1, user1, juliet)
			if tt.setup != nil {
				tt.setup(t, env.Store)
			}
			acc := &fakeAccounts{st: env.Store}
			m := New(DefaultConfig(), []string{admin1}, slog.New(slog.DiscardHandler))
			m.AddAdminCommands(env.Router, env.Store, acc)
			env.Router.Register(m)
			boss, bossRec := env.Bind(admin1+"/desk", true, 0)
			_, rec := env.Bind(user1+"/orchard", true, 0)
			_, balcony := env.Bind(user1+"/balcony", true, 0)
			_, julietRec := env.Bind(juliet+"/tomb", true, 0)
			node := NSAdmin + "#" + tt.node
			env.Send(boss, `<iq type="set" id="a1" to="example.org"><command xmlns="http://jabber.org/protocol/commands" node="`+node+`" action="execute"/></iq>`)
			got := bossRec.Take()
			if tt.form != "" {
				if len(got) != 1 || !strings.Contains(got[0], `status="executing"`) || !strings.Contains(got[0], `<value>http://jabber.org/protocol/admin</value>`) {
					t.Fatalf("first stage: %v", got)
				}
				sid := between(got[0], `sessionid="`, `"`)
				env.Send(boss, `<iq type="set" id="a2" to="example.org"><command xmlns="http://jabber.org/protocol/commands" node="`+node+`" sessionid="`+sid+`">`+tt.form+`</command></iq>`)
				got = bossRec.Take()
			}
			if tt.juliet != nil && len(got) == 2 {
				got = got[1:] // boss is online too, and got the announcement first
			}
			if len(got) != 1 {
				t.Fatalf("got %v", got)
			}
			for _, w := range tt.want {
				if !strings.Contains(got[0], w) {
					t.Errorf("answer lacks %s:\n%s", w, got[0])
				}
			}
			routertest.Equal(t, "calls", acc.calls, tt.calls...)
			routertest.Equal(t, "orchard closed", rec.Closed(), tt.closed...)
			if tt.node == "end-user-session" {
				routertest.Equal(t, "balcony closed", balcony.Closed(), "policy-violation")
			}
			if tt.node == "disable-user" && tt.closed != nil {
				routertest.Equal(t, "balcony closed", balcony.Closed(), tt.closed...)
			}
			if tt.check != nil {
				tt.check(t, env.Store)
			}
			routertest.Equal(t, "juliet got", julietRec.Take(), tt.juliet...)
		})
	}
}

func disableRomeoAndJuliet(t *testing.T, st *memory.Store) {
	for _, u := range []string{user1, "juliet@example.org"} {
		if err := st.SetUserDisabled(context.Background(), u, true, ""); err != nil {
			t.Fatal(err)
		}
	}
}

// TestMOTD: set-motd stores the domain's message of the day, which goes
// to each session at its initial presence, from the store after a
// restart too; edit-motd shows it; delete-motd ends it.
func TestMOTD(t *testing.T) {
	env := routertest.New(t, admin1, user1)
	newModule := func() *Module {
		m := New(DefaultConfig(), []string{admin1}, slog.New(slog.DiscardHandler))
		m.AddAdminCommands(env.Router, env.Store, &fakeAccounts{st: env.Store})
		return m
	}
	m := newModule()
	env.Router.Register(m)
	boss, rec := env.Bind(admin1+"/desk", true, 0)
	run := func(node, form string) string {
		t.Helper()
		env.Send(boss, `<iq type="set" id="a1" to="example.org"><command xmlns="http://jabber.org/protocol/commands" node="`+NSAdmin+"#"+node+`"/></iq>`)
		got := rec.Take()
		if form == "" {
			return strings.Join(got, "")
		}
		sid := between(got[0], `sessionid="`, `"`)
		env.Send(boss, `<iq type="set" id="a2" to="example.org"><command xmlns="http://jabber.org/protocol/commands" node="`+NSAdmin+"#"+node+`" sessionid="`+sid+`">`+form+`</command></iq>`)
		return got[0] + strings.Join(rec.Take(), "")
	}
	login := func(m *Module) []string {
		s, r := env.Bind(user1+"/orchard", true, 0)
		m.SessionAvailable(context.Background(), s)
		return r.Take()
	}
	if got := login(m); len(got) != 0 {
		t.Fatalf("before any message of the day: %v", got)
	}
	if got := run("set-motd", `<x xmlns="jabber:x:data" type="submit"><field var="motd"><value>Welcome.</value><value>Be nice.</value></field></x>`); !strings.Contains(got, "is set.") {
		t.Fatalf("set-motd: %s", got)
	}
	want := `<message xmlns="jabber:client" type="headline" from="example.org" to="romeo@example.org/orchard"><subject>Message of the Day</subject><body>Welcome.` + "\n" + `Be nice.</body></message>`
	routertest.Equal(t, "at login", login(m), want)
	routertest.Equal(t, "at login, after a restart", login(newModule()), want)
	if got := run("edit-motd", ""); !strings.Contains(got, `<field var="motd" type="text-multi" label="Message of the Day"><required/><value>Welcome.</value><value>Be nice.</value></field>`) {
		t.Fatalf("edit-motd form: %s", got)
	}
	long := `<x xmlns="jabber:x:data" type="submit"><field var="motd"><value>` + strings.Repeat("x", maxMOTDBytes+1) + `</value></field></x>`
	if got := run("set-motd", long); !strings.Contains(got, "bad-payload") {
		t.Fatalf("a long message: %s", got)
	}
	if got := run("delete-motd", ""); !strings.Contains(got, "is deleted.") {
		t.Fatalf("delete-motd: %s", got)
	}
	routertest.Equal(t, "at login after delete", login(m))
	routertest.Equal(t, "at login after delete and a restart", login(newModule()))
}

// TestAdminCommandsForbidden: a non-admin neither sees nor runs them.
func TestAdminCommandsForbidden(t *testing.T) {
	env := routertest.New(t, admin1, user1)
	m := New(DefaultConfig(), []string{admin1}, slog.New(slog.DiscardHandler))
	m.AddAdminCommands(env.Router, env.Store, &fakeAccounts{st: env.Store})
	env.Router.Register(m)
	s, rec := env.Bind(user1+"/orchard", true, 0)
	for _, c := range m.commands {
		env.Send(s, `<iq type="set" id="a1" to="example.org"><command xmlns="http://jabber.org/protocol/commands" node="`+c.Node+`"/></iq>`)
		routertest.Expect(t, rec, `<iq xmlns="jabber:client" id="a1" from="example.org" to="romeo@example.org/orchard" type="error"><error type="auth"><forbidden xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error></iq>`)
	}
	items, _, _ := m.DiscoServerNodeItems(context.Background(), jid.MustParse("example.org"), jid.MustParse(user1+"/orchard"), NS)
	if len(items) != 0 {
		t.Errorf("romeo sees %v", items)
	}
	items, _, _ = m.DiscoServerNodeItems(context.Background(), jid.MustParse("example.org"), jid.MustParse(admin1+"/desk"), NS)
	if len(items) != len(m.commands) || len(items) != 16 {
		t.Errorf("boss sees %d commands", len(items))
	}
}

// TestDeleteUserFieldLimit: a jid-multi with more than 100 values is
// refused before anything is deleted.
func TestDeleteUserFieldLimit(t *testing.T) {
	env := routertest.New(t, admin1)
	acc := &fakeAccounts{st: env.Store}
	m := New(DefaultConfig(), []string{admin1}, slog.New(slog.DiscardHandler))
	m.sessions.newID = func() string { return "s1" }
	m.AddAdminCommands(env.Router, env.Store, acc)
	env.Router.Register(m)
	boss, rec := env.Bind(admin1+"/desk", true, 0)
	node := NSAdmin + "#delete-user"
	env.Send(boss, `<iq type="set" id="a1" to="example.org"><command xmlns="http://jabber.org/protocol/commands" node="`+node+`"/></iq>`)
	rec.Take()
	var vals strings.Builder
	for i := range maxFieldValues + 1 {
		fmt.Fprintf(&vals, "<value>u%d@example.org</value>", i)
	}
	env.Send(boss, `<iq type="set" id="a2" to="example.org"><command xmlns="http://jabber.org/protocol/commands" node="`+node+`" sessionid="s1"><x xmlns="jabber:x:data" type="submit"><field var="accountjids">`+vals.String()+`</field></x></command></iq>`)
	if got := rec.Take(); len(got) != 1 || !strings.Contains(got[0], "too many values in field accountjids") {
		t.Fatalf("got %v", got)
	}
	if len(acc.calls) != 0 {
		t.Errorf("calls %v", acc.calls)
	}
}

func between(s, from, to string) string {
	i := strings.Index(s, from)
	if i < 0 {
		return ""
	}
	s = s[i+len(from):]
	return s[:strings.Index(s, to)]
}

// TestMOTDReachesOnlineSessions: XEP-0133 §4.24 (note): the message of
// the day "is sent immediately to users who are online when the message
// is set"; edit-motd sends the new text; delete-motd sends nothing.
func TestMOTDReachesOnlineSessions(t *testing.T) {
	env := routertest.New(t, admin1, user1)
	m := New(DefaultConfig(), []string{admin1}, slog.New(slog.DiscardHandler))
	m.sessions.newID = func() string { return "s1" }
	m.AddAdminCommands(env.Router, env.Store, &fakeAccounts{st: env.Store})
	env.Router.Register(m)
	boss, bossRec := env.Bind(admin1+"/desk", false, 0)
	_, online := env.Bind(user1+"/orchard", true, 0)
	_, unavailable := env.Bind(user1+"/bed", false, 0)
	run := func(node, form string) {
		t.Helper()
		env.Send(boss, `<iq type="set" id="a1" to="example.org"><command xmlns="http://jabber.org/protocol/commands" node="`+NSAdmin+"#"+node+`"/></iq>`)
		if form != "" {
			env.Send(boss, `<iq type="set" id="a2" to="example.org"><command xmlns="http://jabber.org/protocol/commands" node="`+NSAdmin+"#"+node+`" sessionid="s1">`+form+`</command></iq>`)
		}
		if got := strings.Join(bossRec.Take(), ""); !strings.Contains(got, `status="completed"`) {
			t.Fatalf("%s: %s", node, got)
		}
	}
	run("set-motd", `<x xmlns="jabber:x:data" type="submit"><field var="motd"><value>Welcome.</value></field></x>`)
	routertest.Equal(t, "online at set-motd", online.Take(),
		`<message xmlns="jabber:client" type="headline" from="example.org" to="romeo@example.org/orchard"><subject>Message of the Day</subject><body>Welcome.</body></message>`)
	routertest.Equal(t, "unavailable at set-motd", unavailable.Take())
	run("edit-motd", `<x xmlns="jabber:x:data" type="submit"><field var="motd"><value>Be nice.</value></field></x>`)
	routertest.Equal(t, "online at edit-motd", online.Take(),
		`<message xmlns="jabber:client" type="headline" from="example.org" to="romeo@example.org/orchard"><subject>Message of the Day</subject><body>Be nice.</body></message>`)
	run("delete-motd", "")
	routertest.Equal(t, "online at delete-motd", online.Take())
}

// slowDocs holds the first write of a message of the day after the
// store has it, until released, so that a second set can overtake it.
type slowDocs struct {
	storage.Documents
	written, release chan struct{}
	once             sync.Once
}

func (d *slowDocs) PutDocuments(ctx context.Context, owner, kind string, docs []storage.Document, max int) error {
	err := d.Documents.PutDocuments(ctx, owner, kind, docs, max)
	first := false
	d.once.Do(func() { first = true })
	if first {
		close(d.written)
		<-d.release
	}
	return err
}

// TestMOTDConcurrentSets: two administrators setting the message of
// the day at once leave the same text in memory (sent at each login)
// and in the store (sent after a restart).
func TestMOTDConcurrentSets(t *testing.T) {
	env := routertest.New(t)
	docs := &slowDocs{Documents: env.Store, written: make(chan struct{}), release: make(chan struct{})}
	m := newMOTD(docs, env.Router)
	ctx := context.Background()
	first := make(chan error)
	go func() { first <- m.set(ctx, "example.org", "first") }()
	<-docs.written
	second := make(chan error)
	go func() { second <- m.set(ctx, "example.org", "second") }()
	time.Sleep(50 * time.Millisecond) // the second set overtakes, if it can
	close(docs.release)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	if err := <-second; err != nil {
		t.Fatal(err)
	}
	inMemory, _ := m.get(ctx, "example.org")
	stored, _ := newMOTD(env.Store, env.Router).get(ctx, "example.org")
	if inMemory != stored {
		t.Errorf("in memory %q, in the store %q", inMemory, stored)
	}
}

// TestOnlineListBound: whatever max_items asks ("none", or more than
// the bound), one answer lists at most maxOnlineListed accounts, and
// says it was cut.
func TestOnlineListBound(t *testing.T) {
	env := routertest.New(t, admin1)
	m := New(DefaultConfig(), []string{admin1}, slog.New(slog.DiscardHandler))
	m.sessions.newID = func() string { return "s1" }
	m.AddAdminCommands(env.Router, env.Store, &fakeAccounts{st: env.Store})
	env.Router.Register(m)
	boss, rec := env.Bind(admin1+"/desk", false, 0)
	for i := range maxOnlineListed + 10 {
		env.Bind(fmt.Sprintf("u%04d@example.org/r", i), false, 0)
	}
	node := NSAdmin + "#get-online-users-list"
	for _, max := range []string{"none", "5000"} {
		env.Send(boss, `<iq type="set" id="a1" to="example.org"><command xmlns="http://jabber.org/protocol/commands" node="`+node+`"/></iq>`)
		rec.Take()
		env.Send(boss, `<iq type="set" id="a2" to="example.org"><command xmlns="http://jabber.org/protocol/commands" node="`+node+`" sessionid="s1"><x xmlns="jabber:x:data" type="submit"><field var="max_items"><value>`+max+`</value></field></x></command></iq>`)
		got := strings.Join(rec.Take(), "")
		if n := strings.Count(got, "<value>"); n != maxOnlineListed+1 { // + FORM_TYPE
			t.Errorf("max_items %s: %d values", max, n-1)
		}
		if want := fmt.Sprintf(`<note type="warn">Showing %d of %d online users.</note>`, maxOnlineListed, maxOnlineListed+11); !strings.Contains(got, want) {
			t.Errorf("max_items %s: no %s", max, want)
		}
	}
}

// TestDeleteUserPartialFailure: when one account of several cannot be
// deleted (a store error), the command still completes for the others:
// their streams end (a deleted account must not keep running), and an
// error note names the one that failed, without the internal error text.
func TestDeleteUserPartialFailure(t *testing.T) {
	env := routertest.New(t, admin1, user1, "juliet@example.org")
	acc := &fakeAccounts{st: env.Store, failDelete: "juliet@example.org"}
	m := New(DefaultConfig(), []string{admin1}, slog.New(slog.DiscardHandler))
	m.sessions.newID = func() string { return "s1" }
	m.AddAdminCommands(env.Router, env.Store, acc)
	env.Router.Register(m)
	boss, rec := env.Bind(admin1+"/desk", false, 0)
	node := NSAdmin + "#delete-user"
	env.Send(boss, `<iq type="set" id="a1" to="example.org"><command xmlns="http://jabber.org/protocol/commands" node="`+node+`"/></iq>`)
	rec.Take()
	env.Send(boss, `<iq type="set" id="a2" to="example.org"><command xmlns="http://jabber.org/protocol/commands" node="`+node+`" sessionid="s1"><x xmlns="jabber:x:data" type="submit"><field var="accountjids"><value>romeo@example.org</value><value>juliet@example.org</value></field></x></command></iq>`)
	got := strings.Join(rec.Take(), "")
	for _, want := range []string{`status="completed"`, `<note type="info">Deleted romeo@example.org.</note>`, `<note type="error">Not deleted (see the server log): juliet@example.org.</note>`} {
		if !strings.Contains(got, want) {
			t.Errorf("answer lacks %s:\n%s", want, got)
		}
	}
	if strings.Contains(got, "disk on fire") {
		t.Errorf("internal error text leaked: %s", got)
	}
	routertest.Equal(t, "calls", acc.calls, "delete romeo@example.org", "delete juliet@example.org", "end romeo@example.org")
}
