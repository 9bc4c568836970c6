package main

import (
	"bytes"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/internal/xmpptest"
)

// freePort returns a loopback address that was free a moment ago.
func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// TestBinaryNewcomerPath runs the real binary as a newcomer would: accounts
// made with the CLI (password on stdin), the server started on the embedded
// defaults (SQLite, self-signed certificate generated on first start; only
// the ports are moved so the test cannot collide), two clients chatting over
// STARTTLS, then SIGTERM: every stream gets system-shutdown and the process
// exits 0. A second start reuses the certificate and keeps the accounts.
func TestBinaryNewcomerPath(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	dir := t.TempDir()
	bin := buildSkald(t, dir)
	addr, tlsAddr := freePort(t), freePort(t)
	cfgFile := filepath.Join(dir, "skald.toml")
	os.WriteFile(cfgFile, []byte("[c2s]\nstarttls_address = \""+addr+"\"\ndirect_tls_address = \""+tlsAddr+"\"\n"), 0o600)

	run := func(stdin string, args ...string) string {
		t.Helper()
		cmd := exec.Command(bin, args...)
		cmd.Dir = dir
		cmd.Stdin = strings.NewReader(stdin)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("skald %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	run("pw-alice\n", "user", "add", "alice@localhost")
	run("pw-bob\n", "user", "add", "bob@localhost")
	if out := run("", "user", "list"); !strings.Contains(out, "alice@localhost") || !strings.Contains(out, "bob@localhost") {
		t.Fatalf("user list: %s", out)
	}

	start := func() (*exec.Cmd, *bytes.Buffer) {
		t.Helper()
		var logs bytes.Buffer
		srv := exec.Command(bin)
		srv.Dir = dir
		srv.Stdout, srv.Stderr = &logs, &logs
		if err := srv.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { srv.Process.Kill() })
		deadline := time.Now().Add(20 * time.Second)
		for {
			c, err := net.Dial("tcp", addr)
			if err == nil {
				c.Close()
				return srv, &logs
			}
			if time.Now().After(deadline) {
				t.Fatalf("server did not listen: %v\n%s", err, logs.String())
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	srv, logs := start()
	for _, f := range []string{"skald-data/skald.db", "skald-data/selfsigned-cert.pem", "skald-data/selfsigned-key.pem"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("first start did not create %s: %v", f, err)
		}
	}

	alice := xmpptest.Dial(t, addr)
	alice.Login("localhost", "alice", "pw-alice", "laptop")
	bob := xmpptest.Dial(t, addr)
	bob.Login("localhost", "bob", "pw-bob", "phone")
	alice.Send(`<message to='bob@localhost/phone' type='chat' id='m1'><body>hi bob</body></message>`)
	got := bob.Expect(func(e *xml.Element) bool { return e.Local == "message" })
	if got.ChildText("", "body") != "hi bob" || got.Attr("from") != "alice@localhost/laptop" {
		t.Fatalf("bob got %s", got)
	}

	srv.Process.Signal(syscall.SIGTERM)
	if cond := alice.ExpectStreamError(); cond != "system-shutdown" {
		t.Fatalf("on SIGTERM alice got %q", cond)
	}
	if err := srv.Wait(); err != nil {
		t.Fatalf("server exit: %v\n%s", err, logs.String())
	}
	if strings.Contains(logs.String(), "hi bob") {
		t.Fatalf("message body in info-level logs:\n%s", logs.String())
	}

	// Second start: same certificate, same accounts, archive kept.
	certBefore, _ := os.ReadFile(filepath.Join(dir, "skald-data/selfsigned-cert.pem"))
	start()
	certAfter, _ := os.ReadFile(filepath.Join(dir, "skald-data/selfsigned-cert.pem"))
	if !bytes.Equal(certBefore, certAfter) {
		t.Fatal("the self-signed certificate was regenerated on restart")
	}
	bob = xmpptest.Dial(t, addr)
	bob.Login("localhost", "bob", "pw-bob", "phone")
	bob.Send(`<iq type='set' id='q1'><query xmlns='urn:xmpp:mam:2'/></iq>`)
	res := bob.Expect(func(e *xml.Element) bool { return e.Child("urn:xmpp:mam:2", "result") != nil })
	fwd := res.Child("urn:xmpp:mam:2", "result").Child("urn:xmpp:forward:0", "forwarded")
	if fwd.Child("jabber:client", "message").ChildText("", "body") != "hi bob" {
		t.Fatalf("archive after restart: %s", res)
	}
}
