package router_test

import (
	"context"
	"slices"
	"testing"
)

// TestOnlineAccounts: accounts of one domain with a bound session, in
// order, cut at max; sessions counted; unbound ones gone.
func TestOnlineAccounts(t *testing.T) {
	e := newEnv(t, false)
	e.bind("bob@localhost/a", "1", nil)
	alice, _ := e.bind("alice@localhost/a", "2", prio(0))
	e.bind("alice@localhost/b", "3", nil)
	e.bind("carol@elsewhere/a", "4", nil)
	tests := []struct {
		domain             string
		max                int
		want               []string
		accounts, sessions int
	}{
		{"localhost", -1, []string{"alice@localhost", "bob@localhost"}, 2, 3},
		{"localhost", 1, []string{"alice@localhost"}, 2, 3},
		{"localhost", 0, nil, 2, 3},
		{"other", -1, nil, 0, 0},
	}
	for _, tt := range tests {
		bares, accounts, sessions := e.r.OnlineAccounts(tt.domain, tt.max)
		if !slices.Equal(bares, tt.want) || accounts != tt.accounts || sessions != tt.sessions {
			t.Errorf("OnlineAccounts(%q, %d) = %v, %d, %d; want %v, %d, %d", tt.domain, tt.max, bares, accounts, sessions, tt.want, tt.accounts, tt.sessions)
		}
	}
	e.r.Unbind(context.Background(), alice)
	if bares, accounts, sessions := e.r.OnlineAccounts("localhost", -1); len(bares) != 2 || accounts != 2 || sessions != 2 {
		t.Errorf("after an unbind: %v, %d, %d", bares, accounts, sessions)
	}
}
