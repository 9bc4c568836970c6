package main

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/skald-xmpp/skald/config"
	"github.com/skald-xmpp/skald/sasl"
	"github.com/skald-xmpp/skald/storage"
	"github.com/skald-xmpp/skald/storage/memory"
	"github.com/skald-xmpp/skald/storage/sqlite"
)

type result struct {
	code           int
	stdout, stderr string
}

// runIn runs the CLI like runCLI does, with stdin and, if st is not nil,
// that store instead of the configured one.
func runIn(st storage.Store, stdin string, args ...string) result {
	var out, errOut bytes.Buffer
	c := &cli{stdin: strings.NewReader(stdin), stdout: &out, stderr: &errOut, openStore: openStore}
	if st != nil {
		c.openStore = func(context.Context, *config.Config) (storage.Store, error) { return keepOpen{st}, nil }
	}
	code := c.run(context.Background(), args)
	return result{code, out.String(), errOut.String()}
}

// keepOpen lets several CLI runs share one memory store.
type keepOpen struct{ storage.Store }

func (keepOpen) Close() error { return nil }

// inTempDir makes a fresh working directory, optionally with a skald.toml.
func inTempDir(t *testing.T, skaldToml string) string {
	t.Helper()
	dir := t.TempDir()
	t.Chdir(dir)
	if skaldToml != "" {
		if err := os.WriteFile("skald.toml", []byte(skaldToml), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func check(t *testing.T, r result, code int, stdout, stderr string) {
	t.Helper()
	if r.code != code || !strings.Contains(r.stdout, stdout) || !strings.Contains(r.stderr, stderr) {
		t.Errorf("got exit %d\nstdout: %s\nstderr: %s\nwant exit %d, stdout containing %q, stderr containing %q",
			r.code, r.stdout, r.stderr, code, stdout, stderr)
	}
}

func TestUsage(t *testing.T) {
	inTempDir(t, "")
	tests := []struct {
		args           []string
		code           int
		stdout, stderr string
	}{
		{[]string{"help"}, 0, "user add JID", ""},
		{[]string{"help", "user"}, 0, "user passwd JID", ""},
		{[]string{"-h"}, 0, "config check", ""},
		{[]string{"user", "add", "-h"}, 0, "user add JID", ""},
		{[]string{"bogus"}, 2, "", `unknown command "bogus"`},
		{[]string{"user"}, 2, "", `"user" needs a subcommand: add, passwd, del, import, export, disable, enable, list`},
		{[]string{"user", "frob"}, 2, "", `unknown command "user frob"`},
		{[]string{"user", "add"}, 2, "", "usage: skald user add JID"},
		{[]string{"user", "add", "a@localhost", "b@localhost"}, 2, "", "usage: skald user add JID"},
		{[]string{"user", "passwd"}, 2, "", "usage: skald user passwd JID"},
		{[]string{"user", "del"}, 2, "", "usage: skald user del JID"},
		{[]string{"user", "list", "a", "b"}, 2, "", "usage: skald user list [DOMAIN]"},
		{[]string{"config", "check", "extra"}, 2, "", "usage: skald config check"},
		{[]string{"serve", "now"}, 2, "", "usage: skald serve"},
		{[]string{"-x"}, 2, "", "flag provided but not defined: -x"},
		{[]string{"-c"}, 2, "", "flag needs an argument"},
		{[]string{"user", "list", "--password=x"}, 2, "", "flag provided but not defined"},
		{[]string{"-c", "missing.toml", "config", "check"}, 1, "", "missing.toml"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			check(t, runIn(nil, "", tt.args...), tt.code, tt.stdout, tt.stderr)
		})
	}
}

// TestUserLifecycleSQLite runs the account commands one after the other on
// the real SQLite store, as an administrator would.
func TestUserLifecycleSQLite(t *testing.T) {
	dir := inTempDir(t, "domains = [\"example.org\", \"localhost\"]\ndata_dir = \"data\"\n")
	steps := []struct {
		stdin          string
		args           []string
		code           int
		stdout, stderr string
	}{
		{"secret pw\n", []string{"user", "add", "alice@example.org"}, 0, "created alice@example.org", ""},
		{"other\n", []string{"user", "add", "Alice@Example.ORG"}, 1, "", "alice@example.org already exists"},
		{"bobpw", []string{"user", "add", "bob@localhost"}, 0, "created bob@localhost", ""},
		{"", []string{"user", "list"}, 0, "alice@example.org\nbob@localhost\n", ""},
		{"", []string{"user", "list", "example.org"}, 0, "alice@example.org\n", ""},
		{"", []string{"user", "list", "nobody.example"}, 0, "", ""},
		{"new pw\r\n", []string{"user", "passwd", "alice@example.org"}, 0, "changed the password of alice@example.org", ""},
		{"x\n", []string{"user", "passwd", "carol@example.org"}, 1, "", "no such account: carol@example.org"},
		{"", []string{"user", "del", "bob@localhost"}, 0, "removed 1 uploaded files of bob@localhost\ndeleted bob@localhost", ""},
		{"", []string{"user", "del", "bob@localhost"}, 1, "", "no such account: bob@localhost"},
		{"", []string{"user", "list"}, 0, "alice@example.org\n", ""},
	}
	// bob uploaded a file (XEP-0363), alice another: user del removes bob's.
	uploads := filepath.Join(dir, "data", "uploads")
	os.MkdirAll(uploads, 0o700)
	for id, owner := range map[string]string{"BBBBBBBBBBBBBBBBBBBBBB": "bob@localhost", "AAAAAAAAAAAAAAAAAAAAAA": "alice@example.org"} {
		os.WriteFile(filepath.Join(uploads, id+".json"), []byte(`{"owner":"`+owner+`","name":"f","size":1}`), 0o600)
		os.WriteFile(filepath.Join(uploads, id+".data"), []byte("f"), 0o600)
	}
	for _, s := range steps {
		r := runIn(nil, s.stdin, s.args...)
		check(t, r, s.code, s.stdout, s.stderr)
		if s.args[1] == "list" && r.code == 0 && r.stdout != s.stdout {
			t.Errorf("%v: stdout = %q, want exactly %q", s.args, r.stdout, s.stdout)
		}
	}

	if ents, _ := os.ReadDir(uploads); len(ents) != 2 || !strings.HasPrefix(ents[0].Name(), "AAAA") {
		t.Errorf("uploads left: %v, want alice's two files", ents)
	}
	st, err := sqlite.Open(context.Background(), filepath.Join(dir, "data", "skald.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	creds, err := st.UserCredentials(context.Background(), "alice@example.org")
	if err != nil {
		t.Fatal(err)
	}
	for pw, want := range map[string]bool{"new pw": true, "secret pw": false, "new pw\r": false} {
		if got := sasl.VerifyPlain(toSASL(creds), pw); got != want {
			t.Errorf("VerifyPlain(%q) = %v, want %v", pw, got, want)
		}
	}
	if creds.SHA256.Iterations != 4096 || creds.SHA1.Iterations != 4096 {
		t.Errorf("iterations = %d, %d, want 4096", creds.SHA1.Iterations, creds.SHA256.Iterations)
	}
}

func toSASL(c storage.Credentials) sasl.Credentials {
	return sasl.Credentials{SHA1: sasl.Credential(c.SHA1), SHA256: sasl.Credential(c.SHA256)}
}

func TestAccountJIDs(t *testing.T) {
	inTempDir(t, "domains = [\"example.org\"]\n")
	tests := []struct {
		arg            string
		code           int
		stdout, stderr string
	}{
		{"alice@example.org", 0, "created alice@example.org", ""},
		{"Bob@EXAMPLE.org", 0, "created bob@example.org", ""},
		{"example.org", 2, "", `"example.org" has no user part`},
		{"carol@example.org/phone", 2, "", "has a resource"},
		{"carol@other.example", 2, "", "this server does not serve other.example (domains: example.org)"},
		{"@example.org", 2, "", "is not a valid JID"},
		{"a b@example.org", 2, "", "is not a valid JID"},
	}
	for _, tt := range tests {
		t.Run(tt.arg, func(t *testing.T) {
			check(t, runIn(memory.New(), "pw\n", "user", "add", tt.arg), tt.code, tt.stdout, tt.stderr)
		})
	}
	check(t, runIn(memory.New(), "", "user", "list", "a@example.org"), 2, "", `"a@example.org" is not a domain`)
}

func TestPasswordFromStdin(t *testing.T) {
	inTempDir(t, "")
	tests := []struct {
		name, stdin string
		password    string // "" = must fail with stderr
		stderr      string
	}{
		{"line", "hunter2\n", "hunter2", ""},
		{"no final newline", "hunter2", "hunter2", ""},
		{"crlf", "hunter2\r\n", "hunter2", ""},
		{"spaces kept", "  two words  \n", "  two words  ", ""},
		{"only the first line", "first\nsecond\n", "first", ""},
		{"unicode", "pässwörd\n", "pässwörd", ""},
		{"nothing", "", "", "no password on stdin"},
		{"empty line", "\n", "", "the password is empty"},
		{"control character", "a\x01b\n", "", "invalid password"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := memory.New()
			r := runIn(st, tt.stdin, "user", "add", "alice@localhost")
			if tt.password == "" {
				check(t, r, 1, "", tt.stderr)
				if ok, _ := st.UserExists(context.Background(), "alice@localhost"); ok {
					t.Error("account created despite the error")
				}
				return
			}
			check(t, r, 0, "created alice@localhost", "")
			creds, err := st.UserCredentials(context.Background(), "alice@localhost")
			if err != nil {
				t.Fatal(err)
			}
			if !sasl.VerifyPlain(toSASL(creds), tt.password) {
				t.Errorf("stored credentials do not verify %q", tt.password)
			}
		})
	}
}

func TestMemoryBackendRefused(t *testing.T) {
	inTempDir(t, "[storage]\nbackend = \"memory\"\n")
	for _, args := range [][]string{{"user", "add", "a@localhost"}, {"user", "list"}} {
		check(t, runIn(nil, "pw\n", args...), 1, "", `storage.backend is "memory"`)
	}
}

func TestConfigSelection(t *testing.T) {
	const other = "domains = [\"other.example\"]\n"
	tests := []struct {
		name      string
		skaldToml string // in the working directory
		args      []string
		code      int
		stdout    string
		stderr    string
	}{
		{"built-in defaults", "", []string{"config", "check"}, 0, "no configuration file: using the built-in defaults\n  domains:   localhost", ""},
		{"skald.toml in working directory", "domains = [\"example.org\"]\n", []string{"config", "check"}, 0, "skald.toml: OK\n  domains:   example.org", ""},
		{"-c wins over skald.toml", "domains = [\"example.org\"]\n", []string{"-c", "other.toml", "config", "check"}, 0, "other.toml: OK\n  domains:   other.example", ""},
		{"--config", "", []string{"--config", "other.toml", "config", "check"}, 0, "domains:   other.example", ""},
		{"--config=", "", []string{"--config=other.toml", "config", "check"}, 0, "domains:   other.example", ""},
		{"-c after the command", "", []string{"config", "check", "-c", "other.toml"}, 0, "domains:   other.example", ""},
		{"broken skald.toml", "domains = [\"example.org\"]\nlog_levle = 1\n", []string{"config", "check"}, 1, "", `skald.toml:2: unknown key "log_levle" in top level`},
		{"broken skald.toml stops other commands", "bogus = 1\n", []string{"user", "list"}, 1, "", `unknown key "bogus"`},
		{"invalid value", "[c2s]\nrequire_tls = false\n", []string{"config", "check"}, 1, "", "skald.toml:2: c2s.require_tls: false is only allowed"},
		{"missing certificate files", "[tls]\ncert_file = \"c.pem\"\nkey_file = \"k.pem\"\n", []string{"config", "check"}, 1, "", "c.pem"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inTempDir(t, tt.skaldToml)
			if err := os.WriteFile("other.toml", []byte(other), 0o600); err != nil {
				t.Fatal(err)
			}
			check(t, runIn(memory.New(), "", tt.args...), tt.code, tt.stdout, tt.stderr)
		})
	}
}

func TestConfigCheckSummary(t *testing.T) {
	inTempDir(t, `domains = ["example.org", "localhost"]
data_dir = "/var/lib/skald"
admins = ["root@example.org", "Alice@localhost"]
[c2s]
starttls_address = "127.0.0.1:5222"
require_tls = false
direct_tls_address = ""
[mam]
default = "roster"
`)
	want := `skald.toml: OK
  domains:   example.org, localhost
  data_dir:  /var/lib/skald
  storage:   sqlite /var/lib/skald/skald.db
  c2s:       STARTTLS 127.0.0.1:5222 (TLS optional)
  tls:       self-signed certificate generated in /var/lib/skald
  admins:    root@example.org, alice@localhost
  modules:   [mam] (not checked by this build)
`
	r := runIn(nil, "", "config", "check")
	if r.code != 0 || r.stdout != want {
		t.Errorf("exit %d, stdout:\n%s\nstderr: %s\nwant stdout:\n%s", r.code, r.stdout, r.stderr, want)
	}

	// With the server's check installed, module sections are checked too.
	defer func(f func(*config.Config) error) { checkConfigFunc = f }(checkConfigFunc)
	checkConfigFunc = func(cfg *config.Config) error {
		var mam struct {
			Default string `toml:"default"`
		}
		if err := cfg.DecodeSection("mam", &mam); err != nil {
			return err
		}
		return cfg.CheckAllSectionsClaimed(nil)
	}
	check(t, runIn(nil, "", "config", "check"), 0, "  modules:   [mam]\n", "")
	if err := os.WriteFile("skald.toml", []byte("[mam]\ndefualt = 1\n[mamm]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	check(t, runIn(nil, "", "config", "check"), 1, "", `skald.toml:2: unknown key "defualt" in [mam]`)
}

func TestServe(t *testing.T) {
	inTempDir(t, "domains = [\"example.org\"]\nlog_level = \"debug\"\n")
	defer func(f func(context.Context, *config.Config, *slog.Logger) error) { serveFunc = f }(serveFunc)

	var got *config.Config
	var logged bool
	serveFunc = func(ctx context.Context, cfg *config.Config, log *slog.Logger) error {
		got = cfg
		logged = log.Enabled(ctx, slog.LevelDebug)
		return nil
	}
	for _, args := range [][]string{{}, {"serve"}, {"-c", "skald.toml", "serve"}} {
		got = nil
		check(t, runIn(nil, "", args...), 0, "", "")
		if got == nil || got.Domains[0] != "example.org" || !logged {
			t.Errorf("%v: serve got config %v, debug logging %v", args, got, logged)
		}
	}

	serveFunc = func(context.Context, *config.Config, *slog.Logger) error { return errors.New("port in use") }
	check(t, runIn(nil, "", "serve"), 1, "", "skald serve: port in use")
	serveFunc = nil
	check(t, runIn(nil, "", "serve"), 1, "", "this build has no server")
}

// TestRunCLI checks the entry point main uses.
func TestRunCLI(t *testing.T) {
	inTempDir(t, "")
	var out, errOut bytes.Buffer
	if code := runCLI([]string{"config", "check"}, strings.NewReader(""), &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	if code := runCLI([]string{"user", "add", "a@localhost"}, strings.NewReader("pw\n"), &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	if _, err := os.Stat(filepath.Join("skald-data", "skald.db")); err != nil {
		t.Errorf("zero-config database: %v", err)
	}
}
