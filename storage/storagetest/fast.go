package storagetest

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/skald-xmpp/skald/storage"
)

// fastTokens lists a client's tokens as "new:hash" / "current:hash".
func fastTokens(t *testing.T, s storage.Store, owner, client string) []string {
	t.Helper()
	ts, err := s.FastTokens(bg, owner, client)
	must(t, err)
	var out []string
	for _, tok := range ts {
		slot := "current"
		if tok.New {
			slot = "new"
		}
		out = append(out, slot+":"+string(tok.Hash))
	}
	return out
}

func sameList(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// testFastTokens checks storage.FastTokens: the two slots of XEP-0484
// §5.1, what goes where, and what deletes tokens (a credentials change,
// the account's deletion, a client's or all invalidation).
func testFastTokens(t *testing.T, s storage.Store) {
	const alice, bob = "alice@example.org", "bob@example.org"
	must(t, s.CreateUser(bg, alice, cred(1)))
	must(t, s.CreateUser(bg, bob, cred(1)))
	exp := time.Now().Add(time.Hour).Truncate(time.Second).UTC()
	tok := func(h string) storage.FastToken {
		return storage.FastToken{Hash: []byte(h), Mechanism: "HT-SHA-256-NONE", Expiry: exp}
	}
	want := func(owner, client string, w ...string) {
		t.Helper()
		if got := fastTokens(t, s, owner, client); !sameList(got, w) {
			t.Errorf("%s/%s tokens = %q, want %q", owner, client, got, w)
		}
	}

	want(alice, "phone")
	wantErr(t, s.PutFastToken(bg, "nobody@example.org", "phone", tok("x")), storage.ErrNotFound)

	must(t, s.PutFastToken(bg, alice, "phone", tok("a1")))
	ts, err := s.FastTokens(bg, alice, "phone")
	must(t, err)
	if len(ts) != 1 || ts[0].Mechanism != "HT-SHA-256-NONE" || !ts[0].Expiry.Equal(exp) || !bytes.Equal(ts[0].Hash, []byte("a1")) {
		t.Errorf("stored token = %+v, want hash a1, mechanism, expiry %v", ts, exp)
	}
	// Another issue replaces the unused token in the new slot.
	must(t, s.PutFastToken(bg, alice, "phone", tok("a2")))
	want(alice, "phone", "new:a2")
	// Promoting something the new slot does not hold does nothing.
	must(t, s.PromoteFastToken(bg, alice, "phone", []byte("a1")))
	want(alice, "phone", "new:a2")
	must(t, s.PromoteFastToken(bg, alice, "phone", []byte("a2")))
	want(alice, "phone", "current:a2")
	// Rotation: a new token beside the current one; using it replaces it.
	must(t, s.PutFastToken(bg, alice, "phone", tok("a3")))
	want(alice, "phone", "new:a3", "current:a2")
	must(t, s.PromoteFastToken(bg, alice, "phone", []byte("a2")))
	want(alice, "phone", "new:a3", "current:a2")
	must(t, s.PromoteFastToken(bg, alice, "phone", []byte("a3")))
	want(alice, "phone", "current:a3")

	// Clients and accounts are apart.
	must(t, s.PutFastToken(bg, alice, "laptop", tok("l1")))
	must(t, s.PutFastToken(bg, bob, "phone", tok("b1")))
	want(alice, "laptop", "new:l1")
	want(bob, "phone", "new:b1")
	must(t, s.DeleteFastTokens(bg, alice, "laptop"))
	want(alice, "laptop")
	want(alice, "phone", "current:a3")

	// Issuing drops the owner's expired tokens, not the others'.
	must(t, s.PutFastToken(bg, alice, "old", storage.FastToken{Hash: []byte("o1"), Mechanism: "HT-SHA-256-NONE", Expiry: time.Now().Add(-time.Minute)}))
	want(alice, "old", "new:o1") // expired, still there to be recognised
	must(t, s.PutFastToken(bg, alice, "laptop", tok("l2")))
	want(alice, "old")
	want(alice, "phone", "current:a3")

	// A credentials change deletes the account's tokens.
	must(t, s.SetUserCredentials(bg, alice, cred(2)))
	want(alice, "phone")
	want(alice, "laptop")
	want(bob, "phone", "new:b1")

	must(t, s.PutFastToken(bg, alice, "phone", tok("a4")))
	must(t, s.DeleteFastTokens(bg, alice, ""))
	want(alice, "phone")

	must(t, s.PutFastToken(bg, alice, "phone", tok("a5")))
	must(t, s.DeleteUser(bg, alice))
	want(alice, "phone")
	must(t, s.CreateUser(bg, alice, cred(1)))
	want(alice, "phone")
	want(bob, "phone", "new:b1")
	if err := s.SetUserCredentials(bg, "nobody@example.org", cred(1)); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("SetUserCredentials(unknown) = %v, want ErrNotFound", err)
	}
}

// testFastTokenClientCap checks the bound on an account's clients: a
// client names itself (its user-agent id), so without one an account
// could fill the store with tokens. Past storage.MaxFastTokenClients,
// issuing drops the clients issued to least recently (the earliest
// latest expiry), never the one issued to, nor another account's.
func testFastTokenClientCap(t *testing.T, s storage.Store) {
	const alice, bob = "alice@example.org", "bob@example.org"
	must(t, s.CreateUser(bg, alice, cred(1)))
	must(t, s.CreateUser(bg, bob, cred(1)))
	base := time.Now().Add(time.Hour).Truncate(time.Second).UTC()
	put := func(owner, client string, i int) {
		t.Helper()
		must(t, s.PutFastToken(bg, owner, client, storage.FastToken{
			Hash: []byte(client), Mechanism: "HT-SHA-256-NONE", Expiry: base.Add(time.Duration(i) * time.Second)}))
	}
	client := func(i int) string { return "client-" + string(rune('A'+i/26)) + string(rune('a'+i%26)) }
	n := storage.MaxFastTokenClients
	must(t, s.PutFastToken(bg, bob, "phone", storage.FastToken{Hash: []byte("b"), Mechanism: "HT-SHA-256-NONE", Expiry: base}))
	// Client 0 has a current token and a later new one: its latest
	// expiry, not its earliest, places it.
	put(alice, client(0), 0)
	must(t, s.PromoteFastToken(bg, alice, client(0), []byte(client(0))))
	for i := 1; i < n; i++ {
		put(alice, client(i), i+1)
	}
	must(t, s.PutFastToken(bg, alice, client(0), storage.FastToken{Hash: []byte("again"), Mechanism: "HT-SHA-256-NONE", Expiry: base.Add(time.Duration(n+1) * time.Second)}))
	for i := 0; i < n; i++ {
		if got := fastTokens(t, s, alice, client(i)); len(got) == 0 {
			t.Fatalf("client %d of %d lost its tokens", i, n)
		}
	}
	// One more client: the least recently issued (client 1) goes, with
	// both its slots.
	put(alice, "newest", n+2)
	if got := fastTokens(t, s, alice, client(1)); len(got) != 0 {
		t.Errorf("client 1 kept %q past the cap", got)
	}
	for i := 0; i < n; i++ {
		if i == 1 {
			continue
		}
		if got := fastTokens(t, s, alice, client(i)); len(got) == 0 {
			t.Errorf("client %d lost its tokens", i)
		}
	}
	if got := fastTokens(t, s, alice, "newest"); len(got) != 1 {
		t.Errorf("the client issued to has %q", got)
	}
	// The client issued to stays even when its token expires before all
	// others (a shorter lifetime configured since).
	must(t, s.PutFastToken(bg, alice, "short", storage.FastToken{Hash: []byte("s"), Mechanism: "HT-SHA-256-NONE", Expiry: base.Add(-time.Minute)}))
	if got := fastTokens(t, s, alice, "short"); len(got) != 1 {
		t.Errorf("the client issued to, with the earliest expiry, has %q", got)
	}
	if got := fastTokens(t, s, alice, client(2)); len(got) != 0 {
		t.Errorf("client 2 kept %q past the cap", got)
	}
	if got := fastTokens(t, s, bob, "phone"); len(got) != 1 {
		t.Errorf("another account's token: %q", got)
	}
}
