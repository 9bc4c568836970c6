package server_test

import (
	"bytes"
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestInteropBinaryWithCLIAccounts is the newcomer's path with an
// independent client: the real skald binary, accounts made with
// "skald user add" (password on stdin), the server started on the embedded
// defaults (only the ports moved), and slixmpp logging in and chatting.
func TestInteropBinaryWithCLIAccounts(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	requireSlixmpp(t)
	dir := t.TempDir()
	bin := filepath.Join(dir, "skald")
	if out, err := exec.Command("go", "build", "-o", bin, "../../cmd/skald").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	free := func() string {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		return l.Addr().String()
	}
	addr, tlsAddr := free(), free()
	os.WriteFile(filepath.Join(dir, "skald.toml"),
		[]byte("[c2s]\nstarttls_address = \""+addr+"\"\ndirect_tls_address = \""+tlsAddr+"\"\n"), 0o600)
	for _, u := range []string{"alice", "bob", "carol"} {
		cmd := exec.Command(bin, "user", "add", u+"@localhost")
		cmd.Dir = dir
		cmd.Stdin = strings.NewReader("pw-" + u + "\n")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("user add %s: %v\n%s", u, err, out)
		}
	}
	var logs bytes.Buffer
	srv := exec.Command(bin)
	srv.Dir = dir
	srv.Stdout, srv.Stderr = &logs, &logs
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		srv.Process.Signal(syscall.SIGTERM)
		srv.Wait()
	}()
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("server did not listen:\n%s", logs.String())
		}
	}
	scripts, _ := filepath.Abs(filepath.Join("testdata", "interop"))
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, interopPython, "-u", filepath.Join(scripts, "login_chat.py"))
	cmd.Dir = scripts
	cmd.Env = interopEnv("SKALD_ADDR="+addr, "SKALD_TLS_ADDR="+tlsAddr, "SKALD_DOMAIN=localhost", "PYTHONDONTWRITEBYTECODE=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("login_chat.py against the binary: %v\n%s\nserver log:\n%s", err, out, logs.String())
	}
}
