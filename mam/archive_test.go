package mam

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/skald-xmpp/skald/router"
	"github.com/skald-xmpp/skald/storage"
	"github.com/skald-xmpp/skald/storage/memory"
)

func TestArchiveChat(t *testing.T) {
	e := newEnv(t, DefaultConfig())
	alice, arec := e.login("alice@example.com/a")
	_, brec := e.login("bob@example.com/b")

	e.send(alice, `<message to='bob@example.com' type='chat' id='m1'><body>hi</body><origin-id xmlns='urn:xmpp:sid:0' id='o1'/></message>`)

	wantXML(t, brec.take(), fmt.Sprintf(`<message to='bob@example.com' type='chat' id='m1' from='alice@example.com/a'>
		<body>hi</body><origin-id xmlns='urn:xmpp:sid:0' id='o1'/>
		<stanza-id xmlns='urn:xmpp:sid:0' by='bob@example.com' id='%s'/></message>`, e.id(2)))
	if got := arec.take(); len(got) != 0 {
		t.Errorf("sender got %d stanzas", len(got))
	}

	stored := `<message to='bob@example.com' type='chat' id='m1' from='alice@example.com/a'><body>hi</body><origin-id xmlns='urn:xmpp:sid:0' id='o1'/></message>`
	ai := e.items("alice@example.com")
	bi := e.items("bob@example.com")
	if len(ai) != 1 || len(bi) != 1 {
		t.Fatalf("alice has %d items, bob %d; want 1 each", len(ai), len(bi))
	}
	want := []storage.ArchivedMessage{
		{ID: 1, Owner: "alice@example.com", With: "bob@example.com", Outgoing: true, Stamp: t0.Add(time.Second).Truncate(time.Microsecond), OriginID: "o1", Body: "hi"},
		{ID: 2, Owner: "bob@example.com", With: "alice@example.com", WithResource: "a", Stamp: t0.Add(2 * time.Second).Truncate(time.Microsecond), OriginID: "o1", Body: "hi"},
	}
	for i, got := range []storage.ArchivedMessage{ai[0], bi[0]} {
		if string(got.Stanza) != canon(t, stored) {
			t.Errorf("item %d stanza = %s", i, got.Stanza)
		}
		got.Stanza = nil
		if !got.Stamp.Equal(want[i].Stamp) {
			t.Errorf("item %d stamp = %v, want %v", i, got.Stamp, want[i].Stamp)
		}
		got.Stamp, want[i].Stamp = time.Time{}, time.Time{}
		if fmt.Sprint(got) != fmt.Sprint(want[i]) {
			t.Errorf("item %d = %+v\nwant %+v", i, got, want[i])
		}
	}
	if fmt.Sprint(e.probe.senderID) != fmt.Sprint([]string{e.id(1)}) || fmt.Sprint(e.probe.archived) != "[true]" {
		t.Errorf("events: SenderArchiveID %v, Archived %v", e.probe.senderID, e.probe.archived)
	}
}

func TestArchiveRules(t *testing.T) {
	tests := []struct {
		name   string
		msg    string // children and attributes of a message from alice to bob
		stored string // expected stored copy ("" = not archived)
		cfg    func(*Config)
	}{
		{name: "chat body", msg: `type='chat'><body>x</body>`, stored: `type='chat'><body>x</body>`},
		{name: "normal body", msg: `type='normal'><body>x</body>`, stored: `type='normal'><body>x</body>`},
		{name: "no type body", msg: `><body>x</body>`, stored: `><body>x</body>`},
		{name: "unknown type treated as normal", msg: `type='bogus'><body>x</body>`, stored: `type='bogus'><body>x</body>`},
		{name: "subject only", msg: `type='chat'><subject>s</subject>`, stored: `type='chat'><subject>s</subject>`},
		{name: "headline", msg: `type='headline'><body>x</body>`},
		{name: "groupchat", msg: `type='groupchat'><body>x</body>`},
		{name: "error", msg: `type='error'><body>x</body><error type='cancel'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error>`},
		{name: "no-store", msg: `type='chat'><body>x</body><no-store xmlns='urn:xmpp:hints'/>`},
		{name: "no-permanent-store", msg: `type='chat'><body>x</body><no-permanent-store xmlns='urn:xmpp:hints'/>`},
		{name: "store hint without body", msg: `type='chat'><store xmlns='urn:xmpp:hints'/><x xmlns='urn:example'/>`,
			stored: `type='chat'><store xmlns='urn:xmpp:hints'/><x xmlns='urn:example'/>`},
		// XEP-0334 "Store": a message with the hint that is not of type
		// error SHOULD be stored, headlines included.
		{name: "store hint on headline", msg: `type='headline'><store xmlns='urn:xmpp:hints'/><body>x</body>`,
			stored: `type='headline'><store xmlns='urn:xmpp:hints'/><body>x</body>`},
		{name: "store hint on error", msg: `type='error'><store xmlns='urn:xmpp:hints'/><body>x</body><error type='cancel'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error>`},
		{name: "store hint on groupchat", msg: `type='groupchat'><store xmlns='urn:xmpp:hints'/><body>x</body>`},
		{name: "no-store beats store", msg: `type='chat'><store xmlns='urn:xmpp:hints'/><no-store xmlns='urn:xmpp:hints'/><body>x</body>`},
		{name: "no-permanent-store beats store", msg: `type='chat'><no-permanent-store xmlns='urn:xmpp:hints'/><store xmlns='urn:xmpp:hints'/><body>x</body>`},
		{name: "no-copy is not a storage hint", msg: `type='chat'><body>x</body><no-copy xmlns='urn:xmpp:hints'/>`,
			stored: `type='chat'><body>x</body><no-copy xmlns='urn:xmpp:hints'/>`},
		{name: "chat state only", msg: `type='chat'><composing xmlns='http://jabber.org/protocol/chatstates'/>`},
		{name: "chat state stripped from copy", msg: `type='chat'><body>x</body><active xmlns='http://jabber.org/protocol/chatstates'/>`,
			stored: `type='chat'><body>x</body>`},
		{name: "chat states kept when not configured", msg: `type='chat'><body>x</body><paused xmlns='http://jabber.org/protocol/chatstates'/>`,
			stored: `type='chat'><body>x</body><paused xmlns='http://jabber.org/protocol/chatstates'/>`,
			cfg:    func(c *Config) { c.DontArchiveNamespaces = nil }},
		{name: "chat state alone never worth keeping", msg: `type='chat'><paused xmlns='http://jabber.org/protocol/chatstates'/>`,
			cfg: func(c *Config) { c.DontArchiveNamespaces = nil }},
		{name: "custom dont-archive namespace", msg: `type='chat'><displayed xmlns='urn:xmpp:chat-markers:0' id='1'/>`,
			cfg: func(c *Config) { c.DontArchiveNamespaces = []string{"urn:xmpp:chat-markers:0"} }},
		{name: "unknown payload only", msg: `type='chat'><x xmlns='urn:example'/>`},
		{name: "receipt", msg: `><received xmlns='urn:xmpp:receipts' id='1'/>`, stored: `><received xmlns='urn:xmpp:receipts' id='1'/>`},
		{name: "chat marker", msg: `type='chat'><displayed xmlns='urn:xmpp:chat-markers:0' id='1'/>`, stored: `type='chat'><displayed xmlns='urn:xmpp:chat-markers:0' id='1'/>`},
		{name: "omemo legacy", msg: `type='chat'><encrypted xmlns='eu.siacs.conversations.axolotl'/>`, stored: `type='chat'><encrypted xmlns='eu.siacs.conversations.axolotl'/>`},
		{name: "omemo 2", msg: `type='chat'><encrypted xmlns='urn:xmpp:omemo:2'/>`, stored: `type='chat'><encrypted xmlns='urn:xmpp:omemo:2'/>`},
		{name: "eme", msg: `type='chat'><encryption xmlns='urn:xmpp:eme:0' namespace='urn:example'/>`, stored: `type='chat'><encryption xmlns='urn:xmpp:eme:0' namespace='urn:example'/>`},
		{name: "legacy pgp", msg: `type='chat'><x xmlns='jabber:x:encrypted'>AAA</x>`, stored: `type='chat'><x xmlns='jabber:x:encrypted'>AAA</x>`},
		{name: "openpgp", msg: `type='chat'><openpgp xmlns='urn:xmpp:openpgp:0'>AAA</openpgp>`, stored: `type='chat'><openpgp xmlns='urn:xmpp:openpgp:0'>AAA</openpgp>`},
		{name: "jingle message", msg: `type='chat'><propose xmlns='urn:xmpp:jingle-message:0' id='c'/>`, stored: `type='chat'><propose xmlns='urn:xmpp:jingle-message:0' id='c'/>`},
		{name: "direct invite", msg: `><x xmlns='jabber:x:conference' jid='room@muc.example.com'/>`, stored: `><x xmlns='jabber:x:conference' jid='room@muc.example.com'/>`},
		{name: "mediated invite", msg: `><x xmlns='http://jabber.org/protocol/muc#user'><invite from='carol@example.com'/></x>`,
			stored: `><x xmlns='http://jabber.org/protocol/muc#user'><invite from='carol@example.com'/></x>`},
		{name: "muc user without invite", msg: `type='chat'><x xmlns='http://jabber.org/protocol/muc#user'/>`},
		{name: "retraction", msg: `type='chat'><retract xmlns='urn:xmpp:message-retract:1' id='1'/>`, stored: `type='chat'><retract xmlns='urn:xmpp:message-retract:1' id='1'/>`},
		{name: "correction", msg: `type='chat'><replace xmlns='urn:xmpp:message-correct:0' id='1'/>`, stored: `type='chat'><replace xmlns='urn:xmpp:message-correct:0' id='1'/>`},
		{name: "reaction", msg: `type='chat'><reactions xmlns='urn:xmpp:reactions:0' id='1'><reaction>x</reaction></reactions>`,
			stored: `type='chat'><reactions xmlns='urn:xmpp:reactions:0' id='1'><reaction>x</reaction></reactions>`},
		{name: "mam result", msg: `><result xmlns='urn:xmpp:mam:2' id='x'><forwarded xmlns='urn:xmpp:forward:0'><message><body>x</body></message></forwarded></result><body>x</body>`},
		{name: "carbon sent", msg: `><sent xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'><message><body>x</body></message></forwarded></sent><body>x</body>`},
		{name: "carbon received", msg: `><received xmlns='urn:xmpp:carbons:2'/><body>x</body>`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultConfig()
			if tc.cfg != nil {
				tc.cfg(&cfg)
			}
			e := newEnv(t, cfg)
			alice, _ := e.login("alice@example.com/a")
			_, brec := e.login("bob@example.com/b")
			e.send(alice, `<message to='bob@example.com/b' `+tc.msg+`</message>`)
			got := brec.take()
			ai, bi := e.items("alice@example.com"), e.items("bob@example.com")
			if tc.stored == "" {
				if len(ai)+len(bi) != 0 {
					t.Fatalf("archived: alice %d, bob %d", len(ai), len(bi))
				}
				if len(got) == 1 && got[0].Child(NSSID, "stanza-id") != nil {
					t.Errorf("unarchived message got a stanza-id: %s", got[0])
				}
				return
			}
			if len(ai) != 1 || len(bi) != 1 {
				t.Fatalf("archived: alice %d, bob %d; want 1 each", len(ai), len(bi))
			}
			want := canon(t, `<message to='bob@example.com/b' `+strings.Replace(tc.stored, ">", " from='alice@example.com/a'>", 1)+`</message>`)
			if s := string(ai[0].Stanza); s != want {
				t.Errorf("alice's copy:\n got %s\nwant %s", s, want)
			}
			if s := string(bi[0].Stanza); s != want {
				t.Errorf("bob's copy:\n got %s\nwant %s", s, want)
			}
			if len(got) != 1 {
				t.Fatalf("bob got %d stanzas", len(got))
			}
			sid := got[0].ChildrenNamed(NSSID, "stanza-id")
			if len(sid) != 1 || sid[0].Attr("id") != e.id(bi[0].ID) || sid[0].Attr("by") != "bob@example.com" {
				t.Errorf("delivered: %s", got[0])
			}
		})
	}
}

// Chat states and other stripped payloads stay in the delivered message:
// only the archived copy loses them.
func TestDeliveredCopyKeepsStrippedPayloads(t *testing.T) {
	e := newEnv(t, DefaultConfig())
	alice, _ := e.login("alice@example.com/a")
	_, brec := e.login("bob@example.com/b")
	e.send(alice, `<message to='bob@example.com' type='chat'><body>x</body><active xmlns='http://jabber.org/protocol/chatstates'/></message>`)
	wantXML(t, brec.take(), fmt.Sprintf(`<message to='bob@example.com' type='chat' from='alice@example.com/a'><body>x</body>
		<active xmlns='http://jabber.org/protocol/chatstates'/><stanza-id xmlns='urn:xmpp:sid:0' by='bob@example.com' id='%s'/></message>`, e.id(2)))
}

func TestStanzaIDStripping(t *testing.T) {
	tests := []struct {
		name, typ string
		archived  bool
	}{
		{"archived", "chat", true},
		{"not archived", "headline", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, DefaultConfig())
			alice, _ := e.login("alice@example.com/a")
			_, brec := e.login("bob@example.com/b")
			e.send(alice, `<message to='bob@example.com' type='`+tc.typ+`'><body>x</body>
				<stanza-id xmlns='urn:xmpp:sid:0' by='bob@example.com' id='forged1'/>
				<stanza-id xmlns='urn:xmpp:sid:0' by='Bob@Example.COM' id='forged2'/>
				<stanza-id xmlns='urn:xmpp:sid:0' by='alice@example.com' id='forged3'/>
				<stanza-id xmlns='urn:xmpp:sid:0' by='example.com' id='forged-domain'/>
				<stanza-id xmlns='urn:xmpp:sid:0' by='EXAMPLE.com' id='forged-domain2'/>
				<stanza-id xmlns='urn:xmpp:sid:0' by='room@muc.example.org' id='extra-attr' evil='1'/>
				<stanza-id xmlns='urn:xmpp:sid:0' xmlns:x='urn:example' by='room@muc.example.org' id='qualified-attr' x:by='1'/>
				<stanza-id xmlns='urn:xmpp:sid:0' by='room@muc.example.org' id='with-child'><child/></stanza-id>
				<stanza-id xmlns='urn:xmpp:sid:0' by='room@muc.example.org' id='theirs'/>
			</message>`)
			ours := ""
			if tc.archived {
				ours = fmt.Sprintf(`<stanza-id xmlns='urn:xmpp:sid:0' by='bob@example.com' id='%s'/>`, e.id(2))
			}
			wantXML(t, brec.take(), `<message to='bob@example.com' type='`+tc.typ+`' from='alice@example.com/a'><body>x</body>
				<stanza-id xmlns='urn:xmpp:sid:0' by='room@muc.example.org' id='theirs'/>`+ours+`</message>`)
			if tc.archived {
				// Each archive's copy is free of stanza-ids claiming to be
				// from that archive or its domain, and of malformed ones.
				for _, c := range []struct{ owner, forged string }{
					{"alice@example.com", "forged3"},
					{"alice@example.com", "forged-domain"},
					{"alice@example.com", "with-child"},
					{"bob@example.com", "forged1"},
					{"bob@example.com", "forged2"},
					{"bob@example.com", "forged-domain2"},
					{"bob@example.com", "extra-attr"},
				} {
					items := e.items(c.owner)
					if len(items) != 1 || strings.Contains(string(items[0].Stanza), c.forged) {
						t.Errorf("%s's archive: %s", c.owner, items[0].Stanza)
					}
				}
			}
		})
	}
}

func TestSelfMessageArchivedOnce(t *testing.T) {
	e := newEnv(t, DefaultConfig())
	a1, r1 := e.login("alice@example.com/a")
	_, r2 := e.login("alice@example.com/b")
	e.send(a1, `<message to='alice@example.com' type='chat' id='n'><body>note</body>
		<stanza-id xmlns='urn:xmpp:sid:0' by='alice@example.com' id='forged'/></message>`)
	items := e.items("alice@example.com")
	if len(items) != 1 || !items[0].Outgoing || items[0].With != "alice@example.com" {
		t.Fatalf("archive: %+v", items)
	}
	want := fmt.Sprintf(`<message to='alice@example.com' type='chat' id='n' from='alice@example.com/a'><body>note</body>
		<stanza-id xmlns='urn:xmpp:sid:0' by='alice@example.com' id='%s'/></message>`, e.id(1))
	wantXML(t, r1.take(), want)
	wantXML(t, r2.take(), want)
	if fmt.Sprint(e.probe.senderID) != fmt.Sprint([]string{e.id(1)}) || fmt.Sprint(e.probe.archived) != "[true]" {
		t.Errorf("events: SenderArchiveID %v, Archived %v", e.probe.senderID, e.probe.archived)
	}
}

func TestRetryDedupe(t *testing.T) {
	e := newEnv(t, DefaultConfig())
	alice, _ := e.login("alice@example.com/a")
	_, brec := e.login("bob@example.com/b")
	msg := func(body string) string {
		return `<message to='bob@example.com' type='chat'><body>` + body + `</body><origin-id xmlns='urn:xmpp:sid:0' id='o1'/></message>`
	}
	e.send(alice, msg("hello"))
	e.send(alice, msg("hello")) // resent after a reconnect
	e.send(alice, msg("other")) // a client reusing origin-ids: a new message
	if a, b := len(e.items("alice@example.com")), len(e.items("bob@example.com")); a != 2 || b != 2 {
		t.Fatalf("alice has %d items, bob %d; want 2 each", a, b)
	}
	got := brec.take()
	if len(got) != 3 {
		t.Fatalf("bob got %d messages", len(got))
	}
	ids := []string{}
	for _, g := range got {
		ids = append(ids, g.Child(NSSID, "stanza-id").Attr("id"))
	}
	if ids[0] != ids[1] || ids[0] == ids[2] || ids[0] != e.id(2) {
		t.Errorf("stanza-ids %v", ids)
	}
	if e.probe.senderID[0] != e.probe.senderID[1] || e.probe.senderID[0] != e.id(1) {
		t.Errorf("sender ids %v", e.probe.senderID)
	}
}

func TestPolicy(t *testing.T) {
	type msg struct{ from, to string }
	ab := msg{"alice@example.com/a", "bob@example.com/b"}
	ac := msg{"alice@example.com/a", "carol@example.com/c"}
	ba := msg{"bob@example.com/b", "alice@example.com/a"}
	tests := []struct {
		name   string
		policy any
		prefs  *storage.ArchivePrefs // alice's stored prefs
		roster []storage.RosterItem  // alice's roster
		msgs   []msg
		want   []bool // alice's archive got each message
	}{
		{name: "default true", policy: true, msgs: []msg{ab, ba}, want: []bool{true, true}},
		{name: "default false", policy: false, msgs: []msg{ab, ba}, want: []bool{false, false}},
		{name: "roster", policy: "roster",
			roster: []storage.RosterItem{{JID: "bob@example.com", Subscription: storage.SubNone}},
			msgs:   []msg{ab, ac, ba}, want: []bool{true, false, true}},
		{name: "roster hidden item", policy: "roster",
			roster: []storage.RosterItem{{JID: "bob@example.com", Subscription: storage.SubNone, PendingIn: true, Hidden: true}},
			msgs:   []msg{ab, ba}, want: []bool{false, false}},
		{name: "roster self", policy: "roster", msgs: []msg{{"alice@example.com/a", "alice@example.com"}}, want: []bool{true}},
		{name: "prefs override config", policy: true, prefs: &storage.ArchivePrefs{Default: "never"},
			msgs: []msg{ab}, want: []bool{false}},
		{name: "always list bare", policy: false, prefs: &storage.ArchivePrefs{Default: "never", Always: []string{"bob@example.com"}},
			msgs: []msg{ab, ac, ba}, want: []bool{true, false, true}},
		{name: "never list bare", policy: true, prefs: &storage.ArchivePrefs{Default: "always", Never: []string{"bob@example.com"}},
			msgs: []msg{ab, ac, ba}, want: []bool{false, true, false}},
		{name: "full JID entry matches only that resource", policy: true,
			prefs: &storage.ArchivePrefs{Default: "always", Never: []string{"bob@example.com/b"}},
			msgs:  []msg{ab, {"alice@example.com/a", "bob@example.com/other"}, ba, {"alice@example.com/a", "bob@example.com"}},
			want:  []bool{false, true, false, true}},
		{name: "specific always beats bare never", policy: true,
			prefs: &storage.ArchivePrefs{Default: "always", Never: []string{"bob@example.com"}, Always: []string{"bob@example.com/b"}},
			msgs:  []msg{ab, {"alice@example.com/a", "bob@example.com/x"}}, want: []bool{true, false}},
		{name: "specific never beats bare always", policy: false,
			prefs: &storage.ArchivePrefs{Default: "never", Always: []string{"bob@example.com"}, Never: []string{"bob@example.com/b"}},
			msgs:  []msg{ab, {"alice@example.com/a", "bob@example.com/x"}}, want: []bool{false, true}},
		{name: "never wins an equal match", policy: true,
			prefs: &storage.ArchivePrefs{Default: "always", Always: []string{"bob@example.com"}, Never: []string{"bob@example.com"}},
			msgs:  []msg{ab}, want: []bool{false}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.DefaultArchivePolicy = tc.policy
			e := newEnv(t, cfg)
			if tc.prefs != nil {
				if err := e.mem.SetArchivePrefs(e.ctx, "alice@example.com", *tc.prefs); err != nil {
					t.Fatal(err)
				}
			}
			for _, it := range tc.roster {
				if _, err := e.mem.PutRosterItem(e.ctx, "alice@example.com", it, true); err != nil {
					t.Fatal(err)
				}
			}
			sessions := map[string]*router.Session{}
			for _, u := range []string{"alice@example.com/a", "bob@example.com/b", "carol@example.com/c"} {
				sessions[u], _ = e.login(u)
			}
			for i, m := range tc.msgs {
				before := len(e.items("alice@example.com"))
				e.send(sessions[m.from], `<message type='chat' to='`+m.to+`'><body>x</body></message>`)
				got := len(e.items("alice@example.com")) > before
				if got != tc.want[i] {
					t.Errorf("message %d %v: archived %v, want %v", i, m, got, tc.want[i])
				}
			}
		})
	}
}

// The outbound and inbound hooks return only after the store did: a
// failing append stops the message, so nothing is delivered that the
// archive lacks.
func TestAppendFailureStopsDelivery(t *testing.T) {
	mem := memory.New()
	e := newEnvStore(t, DefaultConfig(), failingStore{mem}, mem)
	alice, arec := e.login("alice@example.com/a")
	_, brec := e.login("bob@example.com/b")
	e.send(alice, `<message to='bob@example.com' type='chat' id='m1'><body>x</body></message>`)
	if got := brec.take(); len(got) != 0 {
		t.Errorf("delivered despite failed archiving: %v", got)
	}
	wantXML(t, arec.take(), `<message id='m1' from='bob@example.com' to='alice@example.com/a' type='error'><body>x</body>
		<error type='cancel'><internal-server-error xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>`)
	// Unarchived messages are not affected.
	e.send(alice, `<message to='bob@example.com' type='chat'><composing xmlns='http://jabber.org/protocol/chatstates'/></message>`)
	if got := brec.take(); len(got) != 1 {
		t.Errorf("chat state: bob got %d stanzas", len(got))
	}
}

func TestMaxItems(t *testing.T) {
	cfg := DefaultConfig()
	cfg.ArchiveMaxItems = 3
	e := newEnv(t, cfg)
	alice, _ := e.login("alice@example.com/a")
	e.login("bob@example.com/b")
	for i := range 7 {
		e.send(alice, fmt.Sprintf(`<message to='bob@example.com' type='chat'><body>%d</body></message>`, i))
		if i == 3 {
			// Deletions behind the module's back (an admin purge) leave
			// its count stale; trimming must still be exact.
			if _, err := e.mem.PurgeArchive(e.ctx, "alice@example.com", "", time.Time{}); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, owner := range []string{"alice@example.com", "bob@example.com"} {
		var bodies []string
		for _, it := range e.items(owner) {
			bodies = append(bodies, it.Body)
		}
		if fmt.Sprint(bodies) != "[4 5 6]" {
			t.Errorf("%s keeps %v, want the newest 3", owner, bodies)
		}
	}
}

func TestExpiry(t *testing.T) {
	cfg := DefaultConfig()
	cfg.ArchiveExpiresAfter = "1w"
	e := newEnv(t, cfg)
	alice, _ := e.login("alice@example.com/a")
	e.login("bob@example.com/b")
	// 1250 messages now (2500 items: several batches), 3 a week later.
	for i := range 1250 {
		e.send(alice, fmt.Sprintf(`<message to='bob@example.com' type='chat'><body>old %d</body></message>`, i))
	}
	e.clock = e.clock.Add(7 * 24 * time.Hour)
	for i := range 3 {
		e.send(alice, fmt.Sprintf(`<message to='bob@example.com' type='chat'><body>new %d</body></message>`, i))
	}
	c := e.m.Cleaner()
	n, err := c.ExpireNow(e.ctx)
	if err != nil || n != 2500 {
		t.Fatalf("ExpireNow = %d, %v; want 2500", n, err)
	}
	if a, b := len(e.items("alice@example.com")), len(e.items("bob@example.com")); a != 3 || b != 3 {
		t.Errorf("left: alice %d, bob %d", a, b)
	}
	if n, err := c.ExpireNow(e.ctx); n != 0 || err != nil {
		t.Errorf("second ExpireNow = %d, %v", n, err)
	}
	ctx, cancel := context.WithCancel(e.ctx)
	cancel()
	if _, err := c.ExpireNow(ctx); err == nil {
		t.Error("ExpireNow ignored a cancelled context")
	}
}

func TestCleanerRun(t *testing.T) {
	cfg := DefaultConfig()
	cfg.ArchiveExpiresAfter = 60
	cfg.ArchiveCleanupInterval = "1s"
	e := newEnv(t, cfg)
	alice, _ := e.login("alice@example.com/a")
	e.login("bob@example.com/b")
	e.send(alice, `<message to='bob@example.com' type='chat'><body>x</body></message>`)
	e.m.now = func() time.Time { return t0.Add(time.Hour) } // fixed: no race with Run
	ctx, cancel := context.WithCancel(e.ctx)
	done := make(chan struct{})
	go func() { e.m.Cleaner().Run(ctx); close(done) }()
	deadline := time.Now().Add(5 * time.Second)
	for len(e.items("alice@example.com")) != 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	<-done
	if n := len(e.items("alice@example.com")) + len(e.items("bob@example.com")); n != 0 {
		t.Errorf("%d items left after Run", n)
	}

	// "never": Run returns at once, ExpireNow deletes nothing.
	cfg.ArchiveExpiresAfter = "never"
	e2 := newEnv(t, cfg)
	a2, _ := e2.login("alice@example.com/a")
	e2.login("bob@example.com/b")
	e2.send(a2, `<message to='bob@example.com' type='chat'><body>x</body></message>`)
	e2.m.now = func() time.Time { return t0.Add(100 * 365 * 24 * time.Hour) }
	e2.m.Cleaner().Run(context.Background())
	if n, err := e2.m.Cleaner().ExpireNow(e2.ctx); n != 0 || err != nil || len(e2.items("alice@example.com")) != 1 {
		t.Errorf("never: ExpireNow = %d, %v", n, err)
	}
}

func TestDiscoFeatures(t *testing.T) {
	e := newEnv(t, DefaultConfig())
	server, account := e.m.DiscoFeatures()
	want := "[urn:xmpp:mam:2 urn:xmpp:mam:2#extended urn:xmpp:mam:2#groupchat-field urn:xmpp:sid:0 urn:xmpp:fulltext:0 urn:xmpp:message-retract:1 urn:xmpp:message-retract:1#tombstone]"
	if fmt.Sprint(server) != want || fmt.Sprint(account) != want {
		t.Errorf("features: server %v, account %v", server, account)
	}
}

func TestArchivedCopyDoesNotModify(t *testing.T) {
	st := parseXML(t, `<message type='chat'><body>x</body><active xmlns='http://jabber.org/protocol/chatstates'/></message>`)
	before := st.String()
	cp, ok := archivedCopy(st, map[string]bool{NSChatStates: true})
	if !ok || st.String() != before || cp.Child(NSChatStates, "active") != nil {
		t.Errorf("copy %v ok %v; original now %s", cp, ok, st)
	}

}
