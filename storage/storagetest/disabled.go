package storagetest

import (
	"slices"
	"testing"
	"time"

	"github.com/skald-xmpp/skald/storage"
)

// testUsersDisabled: disabling keeps the account and all it owns, the
// status reads back, re-enabling clears it, and a deleted account comes
// back enabled when created again.
func testUsersDisabled(t *testing.T, s storage.Store) {
	wantErr(t, s.SetUserDisabled(bg, "nobody@a.example", true, "x"), storage.ErrNotFound)
	wantErr(t, s.SetUserDisabled(bg, "nobody@a.example", false, ""), storage.ErrNotFound)
	_, err := s.UserStatus(bg, "nobody@a.example")
	wantErr(t, err, storage.ErrNotFound)

	for _, u := range []string{"zed@b.example", "amy@a.example", "bob@b.example", "carl@a.example"} {
		must(t, s.CreateUser(bg, u, cred(1)))
	}
	st, err := s.UserStatus(bg, "amy@a.example")
	must(t, err)
	if st != (storage.AccountStatus{}) {
		t.Fatalf("new account's status = %+v", st)
	}
	_, err = s.PutRosterItem(bg, "amy@a.example", storage.RosterItem{JID: "bob@b.example", Subscription: storage.SubBoth}, true)
	must(t, err)

	// Disabling deletes the account's XEP-0484 tokens, and only its own.
	tok := storage.FastToken{Hash: []byte("0123456789abcdef0123456789abcdef"), Mechanism: "HT-SHA-256-NONE", Expiry: time.Now().Add(time.Hour).UTC()}
	must(t, s.PutFastToken(bg, "amy@a.example", "phone", tok))
	must(t, s.PutFastToken(bg, "carl@a.example", "phone", tok))

	before := time.Now().Add(-time.Second)
	must(t, s.SetUserDisabled(bg, "amy@a.example", true, "spam, ticket #12"))
	if toks, err := s.FastTokens(bg, "amy@a.example", "phone"); err != nil || len(toks) != 0 {
		t.Fatalf("FAST tokens of a disabled account: %v, %v", toks, err)
	}
	if toks, err := s.FastTokens(bg, "carl@a.example", "phone"); err != nil || len(toks) != 1 {
		t.Fatalf("FAST tokens of another account after a disable: %v, %v", toks, err)
	}
	must(t, s.SetUserDisabled(bg, "zed@b.example", true, ""))
	must(t, s.SetUserDisabled(bg, "bob@b.example", true, "first"))
	must(t, s.SetUserDisabled(bg, "bob@b.example", true, "second")) // replaces
	after := time.Now().Add(time.Second)

	st, err = s.UserStatus(bg, "amy@a.example")
	must(t, err)
	if !st.Disabled || st.Reason != "spam, ticket #12" || st.Since.Before(before) || st.Since.After(after) || st.Since.Location() != time.UTC {
		t.Fatalf("disabled status = %+v (want disabled between %v and %v, UTC)", st, before, after)
	}
	// The evidence stays: credentials and roster are untouched.
	if c, err := s.UserCredentials(bg, "amy@a.example"); err != nil || !credEqual(c, cred(1)) {
		t.Fatalf("credentials of a disabled account: %+v, %v", c, err)
	}
	if items, _, err := s.Roster(bg, "amy@a.example"); err != nil || len(items) != 1 {
		t.Fatalf("roster of a disabled account: %v, %v", items, err)
	}
	if ok, err := s.UserExists(bg, "amy@a.example"); err != nil || !ok {
		t.Fatalf("UserExists of a disabled account: %v, %v", ok, err)
	}

	listed := func(domain string) []string {
		t.Helper()
		list, err := s.DisabledUsers(bg, domain)
		must(t, err)
		var out []string
		for _, u := range list {
			if !u.Disabled || u.Since.IsZero() {
				t.Errorf("DisabledUsers entry %+v not marked disabled", u)
			}
			out = append(out, u.Bare+"="+u.Reason)
		}
		return out
	}
	cases := []struct {
		domain string
		want   []string
	}{
		{"", []string{"amy@a.example=spam, ticket #12", "bob@b.example=second", "zed@b.example="}},
		{"a.example", []string{"amy@a.example=spam, ticket #12"}},
		{"b.example", []string{"bob@b.example=second", "zed@b.example="}},
		{"example", nil},
	}
	for _, tc := range cases {
		if got := listed(tc.domain); !slices.Equal(got, tc.want) {
			t.Errorf("DisabledUsers(%q) = %q, want %q", tc.domain, got, tc.want)
		}
	}

	must(t, s.SetUserDisabled(bg, "bob@b.example", false, "ignored"))
	must(t, s.SetUserDisabled(bg, "carl@a.example", false, "")) // enabling an enabled account
	if st, err := s.UserStatus(bg, "bob@b.example"); err != nil || st != (storage.AccountStatus{}) {
		t.Fatalf("re-enabled status = %+v, %v", st, err)
	}
	if got := listed("b.example"); !slices.Equal(got, []string{"zed@b.example="}) {
		t.Errorf("after re-enabling bob: %q", got)
	}

	must(t, s.DeleteUser(bg, "amy@a.example"))
	if got := listed(""); !slices.Equal(got, []string{"zed@b.example="}) {
		t.Errorf("after deleting amy: %q", got)
	}
	must(t, s.CreateUser(bg, "amy@a.example", cred(2)))
	if st, err := s.UserStatus(bg, "amy@a.example"); err != nil || st.Disabled {
		t.Fatalf("a deleted and re-created account is %+v, %v", st, err)
	}
}

func testUsersCount(t *testing.T, s storage.Store) {
	count := func(domain string) int {
		t.Helper()
		n, err := s.CountUsers(bg, domain)
		must(t, err)
		return n
	}
	if n := count(""); n != 0 {
		t.Fatalf("empty store counts %d", n)
	}
	for _, u := range []string{"zed@b.example", "amy@a.example", "bob@b.example", "carl@a.example", "dan@ab.example"} {
		must(t, s.CreateUser(bg, u, cred(1)))
	}
	must(t, s.SetUserDisabled(bg, "amy@a.example", true, "")) // still an account
	for domain, want := range map[string]int{"": 5, "a.example": 2, "b.example": 2, "ab.example": 1, "example": 0} {
		if n := count(domain); n != want {
			t.Errorf("CountUsers(%q) = %d, want %d", domain, n, want)
		}
	}
	must(t, s.DeleteUser(bg, "zed@b.example"))
	if n := count("b.example"); n != 1 {
		t.Errorf("CountUsers after a deletion = %d, want 1", n)
	}
}
