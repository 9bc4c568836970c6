package storagetest

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/skald-xmpp/skald/storage"
)

// Run runs the whole contract suite, including the model-based test with
// its default configuration.
func Run(t *testing.T, newStore func(t *testing.T) storage.Store) {
	t.Helper()
	tests := []struct {
		name string
		fn   func(t *testing.T, s storage.Store)
	}{
		{"Users/CreateAndExists", testUsersCreate},
		{"Users/Credentials", testUsersCredentials},
		{"Users/List", testUsersList},
		{"Users/DeleteCascades", testDeleteUserCascades},
		{"Users/Disabled", testUsersDisabled},
		{"Users/Count", testUsersCount},
		{"Rosters/PutGetDelete", testRosterPutGetDelete},
		{"Rosters/Versions", testRosterVersions},
		{"Rosters/Hidden", testRosterHidden},
		{"Offline/StoreListDelete", testOffline},
		{"Offline/Limit", testOfflineLimit},
		{"Blocking", testBlocking},
		{"Documents", testDocuments},
		{"PEP/Nodes", testPEPNodes},
		{"PEP/Items", testPEPItems},
		{"PEP/Quota", testPEPQuota},
		{"PEP/QuotaConcurrent", testPEPQuotaConcurrent},
		{"PEP/DeleteUser", testPEPDeleteUser},
		{"Rooms", testRooms},
		{"FastTokens", testFastTokens},
		{"FastTokens/ClientCap", testFastTokenClientCap},
		{"Archive/AppendIDs", testAppendIDs},
		{"Archive/AppendRoundtrip", testAppendRoundtrip},
		{"Archive/AppendInvalid", testAppendInvalid},
		{"Archive/IDsNeverReused", testIDsNeverReused},
		{"Archive/StampsMonotonic", testStampsMonotonic},
		{"Archive/Query", testQueryTable},
		{"Archive/QueryPaging", testQueryPaging},
		{"Archive/QueryEmpty", testQueryEmpty},
		{"Archive/Count", testCount},
		{"Archive/CountIDBounds", testCountIDBounds},
		{"Archive/IDsExist", testIDsExist},
		{"Archive/Bounds", testBounds},
		{"Archive/FindByOriginID", testFindByOriginID},
		{"Archive/Replace", testReplaceArchived},
		{"Archive/ReplaceText", testReplaceArchivedText},
		{"Archive/Purge", testPurge},
		{"Archive/Expire", testExpire},
		{"Archive/Trim", testTrim},
		{"Archive/Stats", testStats},
		{"Archive/Prefs", testPrefs},
		{"Archive/ConcurrentAppend", testConcurrentAppend},
		{"Archive/TextQuery", testTextQuery},
		{"Archive/TextPaging", testTextPaging},
		{"Archive/TextDeleted", testTextDeleted},
		{"Archive/TextLimits", testTextLimits},
		{"Archive/TextWildcards", testTextWildcards},
		{"Closed", testClosed},
		{"Cancelled", testCancelled},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.fn(t, newStore(t))
		})
	}
	t.Run("Model", func(t *testing.T) {
		RunModel(t, newStore, ModelConfig{})
	})
}

var bg = context.Background()

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func wantErr(t *testing.T, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("got error %v, want %v", err, want)
	}
}

// ---------------------------------------------------------------- users

func cred(seed byte) storage.Credentials {
	mk := func(n int, b byte) []byte { return bytes.Repeat([]byte{b}, n) }
	return storage.Credentials{
		SHA1:   storage.Credential{Salt: mk(16, seed), Iterations: 4096, StoredKey: mk(20, seed+1), ServerKey: mk(20, seed+2)},
		SHA256: storage.Credential{Salt: mk(16, seed+3), Iterations: 8192, StoredKey: mk(32, seed+4), ServerKey: mk(32, seed+5)},
	}
}

func credEqual(a, b storage.Credentials) bool {
	eq := func(x, y storage.Credential) bool {
		return bytes.Equal(x.Salt, y.Salt) && x.Iterations == y.Iterations &&
			bytes.Equal(x.StoredKey, y.StoredKey) && bytes.Equal(x.ServerKey, y.ServerKey)
	}
	return eq(a.SHA1, b.SHA1) && eq(a.SHA256, b.SHA256)
}

func testUsersCreate(t *testing.T, s storage.Store) {
	ok, err := s.UserExists(bg, "alice@example.org")
	must(t, err)
	if ok {
		t.Fatal("UserExists before CreateUser")
	}
	must(t, s.CreateUser(bg, "alice@example.org", cred(1)))
	wantErr(t, s.CreateUser(bg, "alice@example.org", cred(2)), storage.ErrExists)
	ok, err = s.UserExists(bg, "alice@example.org")
	must(t, err)
	if !ok {
		t.Fatal("UserExists after CreateUser = false")
	}
	// The failed CreateUser must not have replaced the credentials.
	c, err := s.UserCredentials(bg, "alice@example.org")
	must(t, err)
	if !credEqual(c, cred(1)) {
		t.Fatalf("credentials after duplicate create: %+v", c)
	}
	_, err = s.UserCredentials(bg, "bob@example.org")
	wantErr(t, err, storage.ErrNotFound)
	wantErr(t, s.SetUserCredentials(bg, "bob@example.org", cred(3)), storage.ErrNotFound)
	_, err = s.ReplaceUserCredentials(bg, "bob@example.org", cred(1), cred(3))
	wantErr(t, err, storage.ErrNotFound)
	// ReplaceUserCredentials writes only over the credentials it is
	// told are there (c2s completing an account's keys must not undo a
	// password change), and deletes the tokens as SetUserCredentials.
	replaced, err := s.ReplaceUserCredentials(bg, "alice@example.org", cred(5), cred(6))
	must(t, err)
	if c, _ := s.UserCredentials(bg, "alice@example.org"); replaced || !credEqual(c, cred(1)) {
		t.Fatalf("ReplaceUserCredentials over other credentials: replaced %v, now %+v", replaced, c)
	}
	must(t, s.PutFastToken(bg, "alice@example.org", "phone", storage.FastToken{Hash: []byte("r1"), Mechanism: "HT-SHA-256-NONE", Expiry: time.Now().Add(time.Hour)}))
	half := cred(1)
	half.SHA256 = storage.Credential{}
	must(t, s.SetUserCredentials(bg, "alice@example.org", half))
	must(t, s.PutFastToken(bg, "alice@example.org", "phone", storage.FastToken{Hash: []byte("r1"), Mechanism: "HT-SHA-256-NONE", Expiry: time.Now().Add(time.Hour)}))
	replaced, err = s.ReplaceUserCredentials(bg, "alice@example.org", half, cred(1))
	must(t, err)
	if c, _ := s.UserCredentials(bg, "alice@example.org"); !replaced || !credEqual(c, cred(1)) {
		t.Fatalf("ReplaceUserCredentials over the current (half empty) credentials: replaced %v, now %+v", replaced, c)
	}
	if toks, err := s.FastTokens(bg, "alice@example.org", "phone"); err != nil || len(toks) != 0 {
		t.Fatalf("tokens after ReplaceUserCredentials: %+v, %v", toks, err)
	}
	wantErr(t, s.DeleteUser(bg, "bob@example.org"), storage.ErrNotFound)
	must(t, s.DeleteUser(bg, "alice@example.org"))
	wantErr(t, s.DeleteUser(bg, "alice@example.org"), storage.ErrNotFound)
	ok, err = s.UserExists(bg, "alice@example.org")
	must(t, err)
	if ok {
		t.Fatal("UserExists after DeleteUser")
	}
	must(t, s.CreateUser(bg, "alice@example.org", cred(4)))
}

func testUsersCredentials(t *testing.T, s storage.Store) {
	cases := []struct {
		name string
		c    storage.Credentials
	}{
		{"full", cred(10)},
		{"sha256 only", storage.Credentials{SHA256: cred(20).SHA256}},
		{"empty", storage.Credentials{}},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			user := "u" + strconv.Itoa(i) + "@example.org"
			in := tc.c
			in.SHA256.Salt = slices.Clone(in.SHA256.Salt)
			must(t, s.CreateUser(bg, user, in))
			if len(in.SHA256.Salt) > 0 {
				in.SHA256.Salt[0] ^= 0xff // the store must have copied
			}
			got, err := s.UserCredentials(bg, user)
			must(t, err)
			if !credEqual(got, tc.c) {
				t.Fatalf("roundtrip: got %+v, want %+v", got, tc.c)
			}
			if len(got.SHA1.Salt) > 0 {
				got.SHA1.Salt[0] ^= 0xff // and copy out
				again, err := s.UserCredentials(bg, user)
				must(t, err)
				if !credEqual(again, tc.c) {
					t.Fatal("caller's modification of returned credentials reached the store")
				}
			}
			must(t, s.SetUserCredentials(bg, user, cred(byte(30+i))))
			got, err = s.UserCredentials(bg, user)
			must(t, err)
			if !credEqual(got, cred(byte(30+i))) {
				t.Fatalf("after SetUserCredentials: got %+v", got)
			}
		})
	}
}

func testUsersList(t *testing.T, s storage.Store) {
	list, err := s.ListUsers(bg, "")
	must(t, err)
	if len(list) != 0 {
		t.Fatalf("empty store lists %v", list)
	}
	for _, u := range []string{"zed@b.example", "amy@a.example", "bob@b.example", "carl@a.example", "dan@ab.example"} {
		must(t, s.CreateUser(bg, u, cred(1)))
	}
	cases := []struct {
		domain string
		want   []string
	}{
		{"", []string{"amy@a.example", "bob@b.example", "carl@a.example", "dan@ab.example", "zed@b.example"}},
		{"a.example", []string{"amy@a.example", "carl@a.example"}},
		{"b.example", []string{"bob@b.example", "zed@b.example"}},
		{"ab.example", []string{"dan@ab.example"}},
		{"example", nil},
	}
	for _, tc := range cases {
		got, err := s.ListUsers(bg, tc.domain)
		must(t, err)
		if len(got) != len(tc.want) || (len(got) > 0 && !slices.Equal(got, tc.want)) {
			t.Errorf("ListUsers(%q) = %v, want %v", tc.domain, got, tc.want)
		}
	}
}

func testDeleteUserCascades(t *testing.T, s storage.Store) {
	const alice, bob = "alice@example.org", "bob@example.org"
	for _, u := range []string{alice, bob} {
		must(t, s.CreateUser(bg, u, cred(1)))
		_, err := s.PutRosterItem(bg, u, storage.RosterItem{JID: "carol@example.org", Subscription: storage.SubBoth}, true)
		must(t, err)
		must(t, s.StoreOffline(bg, u, storage.OfflineMessage{Stanza: []byte("<message/>")}, 0))
		must(t, s.SetArchivePrefs(bg, u, storage.ArchivePrefs{Default: "always"}))
		_, err = s.Block(bg, u, []string{"mallory@example.org"})
		must(t, err)
		must(t, s.PutDocuments(bg, u, "vcard", []storage.Document{{XML: []byte(`<vCard xmlns="vcard-temp"/>`)}}, 0))
		appendN(t, s, u, 5, t0)
	}
	_, last, _, err := s.ArchiveBounds(bg, alice)
	must(t, err)
	must(t, s.DeleteUser(bg, alice))

	items, ver, err := s.Roster(bg, alice)
	must(t, err)
	if len(items) != 0 {
		t.Errorf("roster survives DeleteUser: %v (version %s)", items, ver)
	}
	off, err := s.OfflineMessages(bg, alice)
	must(t, err)
	if len(off) != 0 {
		t.Errorf("offline messages survive DeleteUser: %d", len(off))
	}
	if _, ok, err := s.ArchivePrefs(bg, alice); err != nil || ok {
		t.Errorf("prefs survive DeleteUser: ok=%v err=%v", ok, err)
	}
	if n, err := s.CountArchive(bg, storage.ArchiveQuery{Owner: alice}, 0); err != nil || n != 0 {
		t.Errorf("archive count after DeleteUser = %d, %v", n, err)
	}
	if p := query(t, s, storage.ArchiveQuery{Owner: alice}); len(p.Messages) != 0 {
		t.Errorf("archive survives DeleteUser: %d items", len(p.Messages))
	}
	if l, err := s.Blocklist(bg, alice); err != nil || len(l) != 0 {
		t.Errorf("blocklist survives DeleteUser: %q, %v", l, err)
	}
	if _, err := s.Document(bg, alice, "vcard", ""); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("document survives DeleteUser: %v", err)
	}
	stats, err := s.ArchiveStats(bg, "")
	must(t, err)
	if stats[alice] != 0 || stats[bob] != 5 {
		t.Errorf("stats after DeleteUser = %v", stats)
	}
	// Bob is untouched.
	if items, _, _ := s.Roster(bg, bob); len(items) != 1 {
		t.Errorf("bob's roster has %d items", len(items))
	}
	if off, _ := s.OfflineMessages(bg, bob); len(off) != 1 {
		t.Errorf("bob has %d offline messages", len(off))
	}
	if _, ok, _ := s.ArchivePrefs(bg, bob); !ok {
		t.Error("bob's prefs gone")
	}
	if l, _ := s.Blocklist(bg, bob); len(l) != 1 {
		t.Errorf("bob's blocklist = %q", l)
	}
	if _, err := s.Document(bg, bob, "vcard", ""); err != nil {
		t.Errorf("bob's document: %v", err)
	}
	// A recreated account starts empty, and archive ids are not reused.
	must(t, s.CreateUser(bg, alice, cred(2)))
	if items, _, _ := s.Roster(bg, alice); len(items) != 0 {
		t.Errorf("recreated user has roster %v", items)
	}
	m := appendN(t, s, alice, 1, t0)
	if m[0].ID <= last.ID {
		t.Errorf("id %d reused after DeleteUser (old last %d)", m[0].ID, last.ID)
	}
}

// ---------------------------------------------------------------- rosters

func versionNum(t *testing.T, v string) uint64 {
	t.Helper()
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		t.Fatalf("version %q is not a decimal string", v)
	}
	return n
}

func rosterEqual(a, b storage.RosterItem) bool {
	return a.JID == b.JID && a.Name == b.Name && a.Subscription == b.Subscription &&
		a.AskOut == b.AskOut && a.PendingIn == b.PendingIn && a.PreApproved == b.PreApproved &&
		a.Hidden == b.Hidden && slices.Equal(a.Groups, b.Groups)
}

func testRosterPutGetDelete(t *testing.T, s storage.Store) {
	const owner = "alice@example.org"
	items, ver, err := s.Roster(bg, owner)
	must(t, err)
	if len(items) != 0 {
		t.Fatalf("new roster has items %v", items)
	}
	versionNum(t, ver)
	_, err = s.RosterItem(bg, owner, "bob@example.org")
	wantErr(t, err, storage.ErrNotFound)

	in := []storage.RosterItem{
		{JID: "zoe@example.org", Name: "Zoe", Subscription: storage.SubTo, Groups: []string{"Friends", "Work", "Ünïcode"}},
		{JID: "bob@example.org", Subscription: storage.SubFrom, AskOut: true},
		{JID: "carl@example.net", Name: "C", Subscription: storage.SubNone, PendingIn: true, PreApproved: true},
		{JID: "dan@example.net", Subscription: storage.SubBoth, Groups: []string{"Work"}},
	}
	for _, it := range in {
		groups := slices.Clone(it.Groups)
		it.Groups = groups
		_, err := s.PutRosterItem(bg, owner, it, true)
		must(t, err)
		if len(groups) > 0 {
			groups[0] = "mutated" // the store must have copied
		}
	}
	items, _, err = s.Roster(bg, owner)
	must(t, err)
	want := slices.Clone(in)
	slices.SortFunc(want, func(a, b storage.RosterItem) int {
		switch {
		case a.JID < b.JID:
			return -1
		case a.JID > b.JID:
			return 1
		}
		return 0
	})
	if len(items) != len(want) {
		t.Fatalf("roster has %d items, want %d", len(items), len(want))
	}
	for i := range want {
		if !rosterEqual(items[i], want[i]) {
			t.Errorf("item %d = %+v, want %+v", i, items[i], want[i])
		}
	}
	for _, w := range in {
		got, err := s.RosterItem(bg, owner, w.JID)
		must(t, err)
		if !rosterEqual(got, w) {
			t.Errorf("RosterItem(%s) = %+v, want %+v", w.JID, got, w)
		}
	}
	// Replace.
	upd := storage.RosterItem{JID: "zoe@example.org", Name: "Zoë", Subscription: storage.SubBoth}
	_, err = s.PutRosterItem(bg, owner, upd, true)
	must(t, err)
	got, err := s.RosterItem(bg, owner, upd.JID)
	must(t, err)
	if !rosterEqual(got, upd) {
		t.Errorf("after replace: %+v, want %+v", got, upd)
	}
	// Delete.
	_, err = s.DeleteRosterItem(bg, owner, "bob@example.org", true)
	must(t, err)
	_, err = s.RosterItem(bg, owner, "bob@example.org")
	wantErr(t, err, storage.ErrNotFound)
	_, err = s.DeleteRosterItem(bg, owner, "bob@example.org", true)
	wantErr(t, err, storage.ErrNotFound)
	items, _, err = s.Roster(bg, owner)
	must(t, err)
	if len(items) != 3 {
		t.Errorf("after delete: %d items", len(items))
	}
	// Other owners are separate.
	items, _, err = s.Roster(bg, "bob@example.org")
	must(t, err)
	if len(items) != 0 {
		t.Errorf("bob sees alice's roster: %v", items)
	}
}

func testRosterVersions(t *testing.T, s storage.Store) {
	const owner = "alice@example.org"
	_, v0, err := s.Roster(bg, owner)
	must(t, err)
	prev := versionNum(t, v0)
	step := func(what, v string) {
		t.Helper()
		n := versionNum(t, v)
		if n <= prev {
			t.Fatalf("%s: version %d not above %d", what, n, prev)
		}
		if _, cur, err := s.Roster(bg, owner); err != nil || cur != v {
			t.Fatalf("%s: Roster version %q, %v; want %q", what, cur, err, v)
		}
		prev = n
	}
	for i := range 5 {
		v, err := s.PutRosterItem(bg, owner, storage.RosterItem{JID: "c" + strconv.Itoa(i) + "@example.org"}, true)
		must(t, err)
		step("put", v)
	}
	v, err := s.PutRosterItem(bg, owner, storage.RosterItem{JID: "c0@example.org", Name: "again"}, true)
	must(t, err)
	step("replace", v)
	v, err = s.DeleteRosterItem(bg, owner, "c1@example.org", true)
	must(t, err)
	step("delete", v)
	// A failed delete changes nothing.
	_, err = s.DeleteRosterItem(bg, owner, "c1@example.org", true)
	wantErr(t, err, storage.ErrNotFound)
	if _, cur, _ := s.Roster(bg, owner); versionNum(t, cur) != prev {
		t.Fatalf("failed delete moved version to %s", cur)
	}
	// Another owner's changes do not move this one's version.
	_, err = s.PutRosterItem(bg, "bob@example.org", storage.RosterItem{JID: "x@example.org"}, true)
	must(t, err)
	if _, cur, _ := s.Roster(bg, owner); versionNum(t, cur) != prev {
		t.Fatalf("other owner's put moved version to %s", cur)
	}
	// Changes the user cannot see are stored but keep the version.
	still := func(what, v string, err error) {
		t.Helper()
		must(t, err)
		if versionNum(t, v) != prev {
			t.Fatalf("%s returned version %s, want %d", what, v, prev)
		}
		if _, cur, _ := s.Roster(bg, owner); versionNum(t, cur) != prev {
			t.Fatalf("%s moved version to %s", what, cur)
		}
	}
	hidden := storage.RosterItem{JID: "h@example.org", PendingIn: true, Hidden: true}
	v, err = s.PutRosterItem(bg, owner, hidden, false)
	still("invisible put", v, err)
	if got, err := s.RosterItem(bg, owner, hidden.JID); err != nil || !rosterEqual(got, hidden) {
		t.Fatalf("invisible put not stored: %+v, %v", got, err)
	}
	v, err = s.DeleteRosterItem(bg, owner, hidden.JID, false)
	still("invisible delete", v, err)
	if _, err := s.RosterItem(bg, owner, hidden.JID); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("invisible delete left the item: %v", err)
	}
	// The first change of a roster may be invisible: its items are
	// there all the same, and its version is the initial one.
	v, err = s.PutRosterItem(bg, "carol@example.org", hidden, false)
	must(t, err)
	items, cur, err := s.Roster(bg, "carol@example.org")
	must(t, err)
	if len(items) != 1 || v != cur || versionNum(t, cur) != versionNum(t, v0) {
		t.Fatalf("first invisible put: items %+v, version %q (returned %q), want %q", items, cur, v, v0)
	}
}

func testRosterHidden(t *testing.T, s storage.Store) {
	const owner = "alice@example.org"
	hidden := storage.RosterItem{JID: "stranger@example.org", Subscription: storage.SubNone, PendingIn: true, Hidden: true}
	_, err := s.PutRosterItem(bg, owner, hidden, true)
	must(t, err)
	_, err = s.PutRosterItem(bg, owner, storage.RosterItem{JID: "friend@example.org", Subscription: storage.SubBoth}, true)
	must(t, err)
	items, _, err := s.Roster(bg, owner)
	must(t, err)
	if len(items) != 2 {
		t.Fatalf("Roster returned %d items, want both (hidden included)", len(items))
	}
	got, err := s.RosterItem(bg, owner, hidden.JID)
	must(t, err)
	if !rosterEqual(got, hidden) {
		t.Fatalf("hidden item = %+v", got)
	}
	// Unhide by replacing.
	hidden.Hidden = false
	_, err = s.PutRosterItem(bg, owner, hidden, true)
	must(t, err)
	got, _ = s.RosterItem(bg, owner, hidden.JID)
	if got.Hidden {
		t.Fatal("item still hidden after replace")
	}
}

// ---------------------------------------------------------------- offline

func testOffline(t *testing.T, s storage.Store) {
	const owner = "alice@example.org"
	msgs, err := s.OfflineMessages(bg, owner)
	must(t, err)
	if len(msgs) != 0 {
		t.Fatalf("new store has offline messages: %v", msgs)
	}
	stored := time.Date(2024, 5, 6, 7, 8, 9, 123456789, time.FixedZone("X", 3600))
	in := []storage.OfflineMessage{
		{Stanza: []byte("<message id='1'/>"), Stored: stored},
		{Stanza: []byte("<message id='2'/>"), Archived: true, Stored: stored.Add(time.Second)},
		{Stanza: []byte("<message id='3'/>"), Stored: stored.Add(2 * time.Second)},
	}
	for i, m := range in {
		m.Seq = 999 // ignored
		m.Stanza = slices.Clone(m.Stanza)
		must(t, s.StoreOffline(bg, owner, m, 0))
		m.Stanza[0] = 'X'
		if i == 0 {
			must(t, s.StoreOffline(bg, "bob@example.org", m, 0))
		}
	}
	msgs, err = s.OfflineMessages(bg, owner)
	must(t, err)
	if len(msgs) != 3 {
		t.Fatalf("got %d offline messages, want 3", len(msgs))
	}
	for i, m := range msgs {
		if !bytes.Equal(m.Stanza, in[i].Stanza) || m.Archived != in[i].Archived {
			t.Errorf("message %d = %+v, want %+v", i, m, in[i])
		}
		want := in[i].Stored.Truncate(time.Microsecond)
		if !m.Stored.Equal(want) || m.Stored.Location() != time.UTC {
			t.Errorf("message %d stored %v, want %v in UTC", i, m.Stored, want)
		}
		if i > 0 && m.Seq <= msgs[i-1].Seq {
			t.Errorf("seq %d not above %d", m.Seq, msgs[i-1].Seq)
		}
	}
	must(t, s.DeleteOffline(bg, owner, msgs[1].Seq))
	rest, err := s.OfflineMessages(bg, owner)
	must(t, err)
	if len(rest) != 1 || rest[0].Seq != msgs[2].Seq {
		t.Fatalf("after DeleteOffline(%d): %v", msgs[1].Seq, rest)
	}
	// Bob's message is untouched by alice's delete.
	bobs, err := s.OfflineMessages(bg, "bob@example.org")
	must(t, err)
	if len(bobs) != 1 {
		t.Fatalf("bob has %d messages", len(bobs))
	}
	must(t, s.DeleteOffline(bg, owner, msgs[2].Seq))
	rest, _ = s.OfflineMessages(bg, owner)
	if len(rest) != 0 {
		t.Fatalf("after deleting all: %v", rest)
	}
	// A zero Stored time means now.
	before := time.Now().Add(-time.Second)
	must(t, s.StoreOffline(bg, owner, storage.OfflineMessage{Stanza: []byte("<m/>")}, 0))
	rest, _ = s.OfflineMessages(bg, owner)
	if len(rest) != 1 || rest[0].Stored.Before(before) || rest[0].Stored.After(time.Now().Add(time.Second)) {
		t.Fatalf("zero Stored gave %v", rest)
	}
	if rest[0].Seq <= msgs[2].Seq {
		t.Fatalf("seq %d reused (had %d)", rest[0].Seq, msgs[2].Seq)
	}
}

func testOfflineLimit(t *testing.T, s storage.Store) {
	const owner = "alice@example.org"
	m := storage.OfflineMessage{Stanza: []byte("<message/>")}
	for range 3 {
		must(t, s.StoreOffline(bg, owner, m, 3))
	}
	wantErr(t, s.StoreOffline(bg, owner, m, 3), storage.ErrQuotaExceeded)
	must(t, s.StoreOffline(bg, owner, m, 4))
	wantErr(t, s.StoreOffline(bg, owner, m, 4), storage.ErrQuotaExceeded)
	must(t, s.StoreOffline(bg, owner, m, 0))
	must(t, s.StoreOffline(bg, owner, m, -1))
	msgs, err := s.OfflineMessages(bg, owner)
	must(t, err)
	if len(msgs) != 6 {
		t.Fatalf("%d messages stored, want 6", len(msgs))
	}
	// Limits are per owner.
	must(t, s.StoreOffline(bg, "bob@example.org", m, 1))
	must(t, s.DeleteOffline(bg, owner, msgs[4].Seq))
	must(t, s.StoreOffline(bg, owner, m, 2))
	wantErr(t, s.StoreOffline(bg, owner, m, 2), storage.ErrQuotaExceeded)
}

// ---------------------------------------------------------------- misc

func testClosed(t *testing.T, s storage.Store) {
	must(t, s.Close())
	_ = s.Close() // a second Close must not panic
	if err := s.CreateUser(bg, "a@b", cred(1)); !errors.Is(err, storage.ErrClosed) {
		t.Errorf("CreateUser after Close: %v", err)
	}
	if _, err := s.UserExists(bg, "a@b"); !errors.Is(err, storage.ErrClosed) {
		t.Errorf("UserExists after Close: %v", err)
	}
	if _, err := s.UserStatus(bg, "a@b"); !errors.Is(err, storage.ErrClosed) {
		t.Errorf("UserStatus after Close: %v", err)
	}
	if err := s.AppendArchive(bg, []*storage.ArchivedMessage{msg("a@b", "c@d", t0)}); !errors.Is(err, storage.ErrClosed) {
		t.Errorf("AppendArchive after Close: %v", err)
	}
	if _, err := s.QueryArchive(bg, storage.ArchiveQuery{Owner: "a@b"}); !errors.Is(err, storage.ErrClosed) {
		t.Errorf("QueryArchive after Close: %v", err)
	}
	if _, err := s.FastTokens(bg, "a@b", "c"); !errors.Is(err, storage.ErrClosed) {
		t.Errorf("FastTokens after Close: %v", err)
	}
	if err := s.PutFastToken(bg, "a@b", "c", storage.FastToken{Hash: []byte("h")}); !errors.Is(err, storage.ErrClosed) {
		t.Errorf("PutFastToken after Close: %v", err)
	}
}

func testCancelled(t *testing.T, s storage.Store) {
	ctx, cancel := context.WithCancel(bg)
	cancel()
	if err := s.AppendArchive(ctx, []*storage.ArchivedMessage{msg("a@b", "c@d", t0)}); !errors.Is(err, context.Canceled) {
		t.Errorf("AppendArchive with cancelled context: %v", err)
	}
	if _, err := s.QueryArchive(ctx, storage.ArchiveQuery{Owner: "a@b"}); !errors.Is(err, context.Canceled) {
		t.Errorf("QueryArchive with cancelled context: %v", err)
	}
	if n, _ := s.CountArchive(bg, storage.ArchiveQuery{Owner: "a@b"}, 0); n != 0 {
		t.Errorf("cancelled append stored %d items", n)
	}
}
