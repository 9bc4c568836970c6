package main

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/skald-xmpp/skald/sasl"
	"github.com/skald-xmpp/skald/storage/postgres"
	"github.com/skald-xmpp/skald/storage/postgres/pgtest"
)

// TestUserLifecyclePostgres runs the account commands on a configured
// PostgreSQL store, then checks the database itself; an unreachable
// database is an error, never a fallback to memory.
func TestUserLifecyclePostgres(t *testing.T) {
	dsn := pgtest.DSN(t)
	inTempDir(t, fmt.Sprintf("domains = [\"example.org\"]\ndata_dir = \"data\"\n[storage]\nbackend = \"postgres\"\ndsn = %q\n", dsn))
	steps := []struct {
		stdin          string
		args           []string
		code           int
		stdout, stderr string
	}{
		{"", []string{"config", "check"}, 0, "storage:   postgres postgres://", ""},
		{"secret pw\n", []string{"user", "add", "alice@example.org"}, 0, "created alice@example.org", ""},
		{"other\n", []string{"user", "add", "alice@example.org"}, 1, "", "alice@example.org already exists"},
		{"bobpw\n", []string{"user", "add", "bob@example.org"}, 0, "created bob@example.org", ""},
		{"new pw\n", []string{"user", "passwd", "alice@example.org"}, 0, "changed the password of alice@example.org", ""},
		{"", []string{"user", "del", "bob@example.org"}, 0, "deleted bob@example.org", ""},
		{"", []string{"user", "list"}, 0, "alice@example.org\n", ""},
		{"", []string{"archive", "stats"}, 0, "", ""},
	}
	for _, s := range steps {
		check(t, runIn(nil, s.stdin, s.args...), s.code, s.stdout, s.stderr)
	}
	st, err := postgres.Open(context.Background(), dsn, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	users, err := st.ListUsers(context.Background(), "")
	if err != nil || fmt.Sprint(users) != "[alice@example.org]" {
		t.Fatalf("users in the database: %v %v", users, err)
	}
	creds, err := st.UserCredentials(context.Background(), "alice@example.org")
	if err != nil || !sasl.VerifyPlain(toSASL(creds), "new pw") {
		t.Errorf("alice's password in the database is not the new one (%v)", err)
	}

	inTempDir(t, "domains = [\"example.org\"]\n[storage]\nbackend = \"postgres\"\ndsn = \"postgres://skald:s3cret@127.0.0.1:1/skald?connect_timeout=2\"\n")
	r := runIn(nil, "pw\n", "user", "add", "carol@example.org")
	check(t, r, 1, "", "storage postgres://skald:xxxxx@127.0.0.1:1/skald")
	if strings.Contains(r.stderr, "s3cret") {
		t.Errorf("the password reached the output: %s", r.stderr)
	}
}
