package main

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/skald-xmpp/skald/storage/sqlite"
)

// TestUserDisableSQLite: user disable and enable on the real SQLite
// store, as an operator would; user list marks the disabled accounts
// after a tab, with when and why; nothing the account owns goes.
func TestUserDisableSQLite(t *testing.T) {
	dir := inTempDir(t, "domains = [\"example.org\", \"localhost\"]\ndata_dir = \"data\"\n")
	steps := []struct {
		stdin          string
		args           []string
		code           int
		stdout, stderr string
	}{
		{"pw\n", []string{"user", "add", "alice@example.org"}, 0, "created alice@example.org", ""},
		{"pw\n", []string{"user", "add", "bob@localhost"}, 0, "created bob@localhost", ""},
		{"", []string{"user", "disable", "Alice@Example.org", "--reason", "spam\nticket #12"}, 0, "disabled alice@example.org", "streams open now go on"},
		{"", []string{"user", "disable", "--reason=x", "carol@example.org"}, 1, "", "no such account: carol@example.org"},
		{"", []string{"user", "disable", "bob@localhost"}, 0, "disabled bob@localhost", ""},
		{"", []string{"user", "disable", "x@example.net"}, 2, "", "does not serve example.net"},
		{"", []string{"user", "disable", "bob@localhost", "--reason", strings.Repeat("x", maxDisableReason+1)}, 2, "", "--reason is longer than"},
		{"", []string{"user", "disable"}, 2, "", "usage: skald user disable JID [--reason TEXT]"},
		{"", []string{"user", "enable", "bob@localhost"}, 0, "enabled bob@localhost", ""},
		{"", []string{"user", "enable", "carol@example.org"}, 1, "", "no such account: carol@example.org"},
		{"", []string{"user", "enable"}, 2, "", "usage: skald user enable JID"},
	}
	for _, s := range steps {
		check(t, runIn(nil, s.stdin, s.args...), s.code, s.stdout, s.stderr)
	}
	r := runIn(nil, "", "user", "list")
	want := regexp.MustCompile(`^alice@example\.org\tdisabled since \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ reason "spam\\nticket #12"\nbob@localhost\n$`)
	if r.code != 0 || !want.MatchString(r.stdout) {
		t.Fatalf("user list: exit %d, %q", r.code, r.stdout)
	}
	if r := runIn(nil, "", "user", "list", "localhost"); r.stdout != "bob@localhost\n" {
		t.Fatalf("user list localhost: %q", r.stdout)
	}

	st, err := sqlite.Open(context.Background(), filepath.Join(dir, "data", "skald.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if s, err := st.UserStatus(context.Background(), "alice@example.org"); err != nil || !s.Disabled || s.Reason != "spam\nticket #12" {
		t.Fatalf("alice: %+v, %v", s, err)
	}
	if s, err := st.UserStatus(context.Background(), "bob@localhost"); err != nil || s.Disabled {
		t.Fatalf("bob: %+v, %v", s, err)
	}
}

// TestUserExportDisabled: a disabled account stays disabled through user
// export and import (a backup restored, a move to another server), with
// its reason; an enabled one stays enabled. Without it a restore would
// quietly let the accounts an operator stopped log in again.
func TestUserExportDisabled(t *testing.T) {
	toml := "domains = [\"example.org\"]\ndata_dir = \"data\"\n"
	inTempDir(t, toml)
	for _, s := range [][]string{
		{"user", "add", "alice@example.org"},
		{"user", "add", "bob@example.org"},
	} {
		check(t, runIn(nil, "pw\n", s...), 0, "created", "")
	}
	check(t, runIn(nil, "", "user", "disable", "alice@example.org", "--reason", "spam <ticket> #12"), 0, "disabled alice@example.org", "")
	check(t, runIn(nil, "", "user", "export", "-o", "out.xml"), 0, "exported 2 accounts", "")
	doc, err := os.ReadFile("out.xml")
	if err != nil {
		t.Fatal(err)
	}

	dir := inTempDir(t, toml)
	if err := os.WriteFile("out.xml", doc, 0o600); err != nil {
		t.Fatal(err)
	}
	check(t, runIn(nil, "", "user", "import", "out.xml"), 0, "alice@example.org: created\nbob@example.org: created\n", "")
	st, err := sqlite.Open(context.Background(), filepath.Join(dir, "data", "skald.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if s, err := st.UserStatus(context.Background(), "alice@example.org"); err != nil || !s.Disabled || s.Reason != "spam <ticket> #12" {
		t.Errorf("alice after the round trip: %+v, %v\n%s", s, err, doc)
	}
	if s, err := st.UserStatus(context.Background(), "bob@example.org"); err != nil || s.Disabled {
		t.Errorf("bob after the round trip: %+v, %v", s, err)
	}

	// A reason longer than user disable takes is refused by the checking
	// pass, before anything is written.
	long := strings.Replace(string(doc), "spam &lt;ticket&gt; #12", strings.Repeat("x", maxDisableReason+1), 1)
	if long == string(doc) {
		t.Fatalf("the reason is not in the export as expected:\n%s", doc)
	}
	inTempDir(t, toml)
	if err := os.WriteFile("long.xml", []byte(long), 0o600); err != nil {
		t.Fatal(err)
	}
	check(t, runIn(nil, "", "user", "import", "long.xml"), 1, "", "the reason is longer than")
	if r := runIn(nil, "", "user", "list"); r.stdout != "" {
		t.Errorf("a refused import wrote accounts: %q", r.stdout)
	}
}
