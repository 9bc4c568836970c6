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
