package server_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/skald-xmpp/skald/internal/certs"
	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/internal/xmpptest"
)

// TestProsodyFederation federates Skald (s.test) with Debian's Prosody
// (p.test) on loopback: each finds the other by a static route (Skald's
// [s2s.routes]; for Prosody, testdata/prosody/mod_skald_test_routes.lua),
// both have self-signed certificates, so the streams are authenticated by
// dialback over STARTTLS, each server connecting back to the other to
// verify keys. paula@p.test and alice@s.test exchange messages both ways.
// Without prosody it skips, unless SKALD_REQUIRE_INTEROP=1 (CI).
func TestProsodyFederation(t *testing.T) {
	if _, err := exec.LookPath("prosody"); err != nil {
		if os.Getenv("SKALD_REQUIRE_INTEROP") != "" {
			t.Fatal("prosody not installed (apt-get install prosody)")
		}
		t.Skip("prosody not installed")
	}
	dir := t.TempDir()
	c2sPort, s2sPort := freePort(t), freePort(t)
	res := &fakeSRV{ports: map[string]int{}}
	skald := startFederated(t, "s.test", res, fmt.Sprintf("[s2s.routes]\n\"p.test\" = \"127.0.0.1:%d\"\n", s2sPort), "alice")
	_, skaldPort, _ := net.SplitHostPort(skald.S2SAddr())

	certFile, keyFile, err := certs.EnsureSelfSigned(dir, []string{"p.test"})
	if err != nil {
		t.Fatal(err)
	}
	modules, err := filepath.Abs("testdata/prosody")
	if err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "prosody.cfg.lua")
	src := fmt.Sprintf(`run_as_root = true
pidfile = %[1]q
data_path = %[2]q
log = { debug = %[3]q }
plugin_paths = { %[4]q }
interfaces = { "127.0.0.1" }
c2s_ports = { %[5]d }
c2s_direct_tls_ports = { }
s2s_ports = { %[6]d }
http_ports = { }
https_ports = { }
modules_enabled = { "saslauth"; "tls"; "dialback"; "roster"; "disco"; "ping"; "skald_test_routes" }
modules_disabled = { "posix"; "limits" }
skald_test_routes = { ["s.test"] = %[7]s }
certificates = %[8]q
ssl = { certificate = %[9]q; key = %[10]q }
c2s_require_encryption = true
s2s_require_encryption = true
s2s_secure_auth = false
authentication = "internal_hashed"
password_hash = "SHA-256"
storage = "internal"
VirtualHost "p.test"
`, filepath.Join(dir, "prosody.pid"), filepath.Join(dir, "data"), filepath.Join(dir, "prosody.log"),
		modules, c2sPort, s2sPort, skaldPort, dir, certFile, keyFile)
	if err := os.MkdirAll(filepath.Join(dir, "data"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cfg, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("prosodyctl", "--config", cfg, "register", "paula", "p.test", "pw-paula").CombinedOutput(); err != nil {
		t.Fatalf("prosodyctl register: %v\n%s", err, out)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, "prosody", "--config", cfg, "-F")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		cmd.Wait()
		if t.Failed() {
			if b, err := os.ReadFile(filepath.Join(dir, "prosody.log")); err == nil {
				t.Logf("prosody log:\n%s", b)
			}
		}
	})
	waitPort(t, c2sPort)
	waitPort(t, s2sPort)

	paula := xmpptest.Dial(t, "127.0.0.1:"+strconv.Itoa(c2sPort))
	paula.Timeout = 20 * time.Second
	paula.Login("p.test", "paula", "pw-paula", "cli")
	paula.Send(`<presence/>`)
	alice := skald.login(t, "alice", "phone")
	alice.Send(`<presence/>`)

	paula.Send(`<message to='alice@s.test/phone' type='chat' id='p1'><body>hello from prosody</body></message>`)
	m := expectStanza(alice, "message", "chat", "paula@p.test")
	if m.ChildText("jabber:client", "body") != "hello from prosody" {
		t.Fatalf("alice got %s", m)
	}
	alice.Send(`<message to='paula@p.test/cli' type='chat' id='s1'><body>hello from skald</body></message>`)
	m = paula.Expect(func(el *xml.Element) bool { return el.Local == "message" })
	if m.Attr("type") != "chat" || m.ChildText("jabber:client", "body") != "hello from skald" || m.Attr("from") != "alice@s.test/phone" {
		t.Fatalf("paula got %s", m)
	}
	// alice's archive holds the exchange.
	if bodies := archivedBodies(t, alice); len(bodies) != 2 || bodies[0] != "hello from prosody" || bodies[1] != "hello from skald" {
		t.Fatalf("alice's archive holds %q", bodies)
	}
	// Prosody's stream to Skald was verified by dialback (Skald asked
	// Prosody), and Skald's own stream to Prosody was accepted.
	for name, min := range map[string]float64{
		"skald_s2s_dialback_valid_total":   1,
		"skald_s2s_stanzas_received_total": 1,
		"skald_s2s_stanzas_sent_total":     1,
	} {
		// The writer counts a stanza after its write returns, which may
		// be after paula has read it: wait a little for the count.
		v, _ := skald.Metrics.Value(name)
		for deadline := time.Now().Add(2 * time.Second); v < min && time.Now().Before(deadline); {
			time.Sleep(10 * time.Millisecond)
			v, _ = skald.Metrics.Value(name)
		}
		if v < min {
			t.Errorf("%s = %v, want at least %v", name, v, min)
		}
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func waitPort(t *testing.T, port int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), time.Second)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("port %d: %v", port, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
