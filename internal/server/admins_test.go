package server

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/skald-xmpp/skald/storage"
	"github.com/skald-xmpp/skald/storage/memory"
)

// TestWarnUnclaimedAdmins: with open registration, an admin whose account
// does not exist is named in a warning; one that exists is not.
func TestWarnUnclaimedAdmins(t *testing.T) {
	st := memory.New()
	if err := st.CreateUser(context.Background(), "root@example.org", storage.Credentials{}); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	warnUnclaimedAdmins(context.Background(), st, []string{"root@example.org", "boss@example.org"}, slog.New(slog.NewTextHandler(&logs, nil)))
	out := logs.String()
	if !strings.Contains(out, "admin=boss@example.org") || strings.Contains(out, "root@example.org") || strings.Count(out, "\n") != 1 {
		t.Fatalf("warnings:\n%s", out)
	}
}

// TestWarnOnlyPlusMechanisms: a mechanism list that only clients with
// channel binding can use is named in a warning; any other list is not.
func TestWarnOnlyPlusMechanisms(t *testing.T) {
	tests := []struct {
		mechs []string
		warn  bool
	}{
		{nil, false},
		{[]string{"SCRAM-SHA-256-PLUS", "SCRAM-SHA-1-PLUS"}, true},
		{[]string{"SCRAM-SHA-256-PLUS"}, true},
		{[]string{"SCRAM-SHA-256-PLUS", "SCRAM-SHA-256"}, false},
		{[]string{"PLAIN"}, false},
	}
	for _, tc := range tests {
		var logs bytes.Buffer
		warnOnlyPlusMechanisms(tc.mechs, slog.New(slog.NewTextHandler(&logs, nil)))
		if got := strings.Contains(logs.String(), "sasl_mechanisms"); got != tc.warn {
			t.Errorf("%q: warned %v, want %v:\n%s", tc.mechs, got, tc.warn, logs.String())
		}
	}
}
