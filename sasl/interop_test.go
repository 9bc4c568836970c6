package sasl

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"encoding/base64"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Interop with an independent client implementation, mellium.im/sasl v0.3.2.
//
// mellium is not a dependency of the skald module (its go.mod must not be
// edited for a test-only client), so the test compiles the small client in
// testdata/melliumclient in a throw-away module under t.TempDir(), strictly
// offline from the local module cache (GOPROXY=off), and talks to it over a
// loopback TCP or TLS connection. The test is skipped when mellium or a
// golang.org/x/crypto version is not in the module cache, or with -short.

const melliumVersion = "v0.3.2"

func buildMelliumClient(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("interop test skipped in -short mode")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go command not found")
	}
	out, err := exec.Command(goBin, "env", "GOMODCACHE").Output()
	if err != nil {
		t.Skipf("go env GOMODCACHE: %v", err)
	}
	modcache := strings.TrimSpace(string(out))
	dl := filepath.Join(modcache, "cache", "download")
	if _, err := os.Stat(filepath.Join(dl, "mellium.im", "sasl", "@v", melliumVersion+".zip")); err != nil {
		t.Skipf("mellium.im/sasl %s not in the module cache", melliumVersion)
	}
	// mellium v0.3.2 asks for golang.org/x/crypto v0.27.0; any later
	// version in the cache will do (minimal version selection).
	crypto := newestCached(filepath.Join(dl, "golang.org", "x", "crypto", "@v"), "v0.27.0")
	if crypto == "" {
		t.Skip("no golang.org/x/crypto >= v0.27.0 in the module cache")
	}

	dir := t.TempDir()
	src, err := os.ReadFile(filepath.Join("testdata", "melliumclient", "main.go"))
	if err != nil {
		t.Fatal(err)
	}
	gomod := fmt.Sprintf("module melliumclient\n\ngo 1.22\n\nrequire (\n\tmellium.im/sasl %s\n\tgolang.org/x/crypto %s\n)\n", melliumVersion, crypto)
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte(gomod), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "main.go"), src, 0o644); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "melliumclient")
	cmd := exec.Command(goBin, "build", "-o", bin, ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		"GOFLAGS=-mod=mod", "GOPROXY=off", "GOSUMDB=off", "GOWORK=off",
		"GOTOOLCHAIN=local", "GOMODCACHE="+modcache)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Skipf("cannot build the mellium client offline: %v\n%s", err, out)
	}
	return bin
}

// newestCached returns the highest vX.Y.Z >= min with a .zip in dir.
func newestCached(dir, min string) string {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return ""
	}
	parse := func(v string) (p [3]int, ok bool) {
		parts := strings.Split(strings.TrimPrefix(v, "v"), ".")
		if len(parts) != 3 {
			return p, false
		}
		for i, s := range parts {
			n, err := strconv.Atoi(s)
			if err != nil {
				return p, false
			}
			p[i] = n
		}
		return p, true
	}
	less := func(a, b [3]int) bool {
		for i := range a {
			if a[i] != b[i] {
				return a[i] < b[i]
			}
		}
		return false
	}
	lo, _ := parse(min)
	best, bestV := "", lo
	for _, e := range entries {
		v, ok := strings.CutSuffix(e.Name(), ".zip")
		if !ok {
			continue
		}
		p, ok := parse(v)
		if !ok || less(p, lo) {
			continue
		}
		if best == "" || less(bestV, p) {
			best, bestV = v, p
		}
	}
	return best
}

func TestMelliumInterop(t *testing.T) {
	bin := buildMelliumClient(t)
	ownJID := WithAuthorizer(AllowOwnBareJID("example.org", testNormalise))
	tests := []struct {
		name       string
		clientMech string // mechanism the mellium client runs
		serverMech string // mechanism selected on the wire; defaults to clientMech
		tls        string // none, 1.2, 1.3
		hideCB     bool   // server advertises no -PLUS (no bindings)
		wrongCB    bool   // server checks against other binding data (MITM)
		user, pass string
		authz      string
		remote     []string // what the client believes was advertised; default: what we advertise
		opts       []Option
		want       string // "OK" or "FAIL <condition>"
	}{
		{name: "SCRAM-SHA-1", clientMech: ScramSHA1, tls: "none", want: "OK"},
		{name: "SCRAM-SHA-256", clientMech: ScramSHA256, tls: "none", want: "OK"},
		{name: "SCRAM-SHA-256 over TLS 1.3 without cb", clientMech: ScramSHA256, tls: "1.3", want: "OK"},
		{name: "SCRAM-SHA-1-PLUS tls-exporter", clientMech: ScramSHA1Plus, tls: "1.3", want: "OK"},
		{name: "SCRAM-SHA-256-PLUS tls-exporter", clientMech: ScramSHA256Plus, tls: "1.3", want: "OK"},
		{name: "SCRAM-SHA-1-PLUS tls-unique", clientMech: ScramSHA1Plus, tls: "1.2", want: "OK"},
		{name: "SCRAM-SHA-256-PLUS tls-unique", clientMech: ScramSHA256Plus, tls: "1.2", want: "OK"},
		{name: "PLAIN", clientMech: Plain, tls: "1.3", want: "OK"},
		{name: "authzid own bare JID", clientMech: ScramSHA256, tls: "none", authz: "user@example.org", opts: []Option{ownJID}, want: "OK"},
		{name: "PLAIN authzid own bare JID", clientMech: Plain, tls: "1.2", authz: "user@example.org", opts: []Option{ownJID}, want: "OK"},
		{name: "wrong password", clientMech: ScramSHA256, tls: "none", pass: "pen", want: "FAIL not-authorized invalid-proof"},
		{name: "unknown user", clientMech: ScramSHA256, tls: "none", user: "nobody", want: "FAIL not-authorized invalid-proof"},
		{name: "PLAIN wrong password", clientMech: Plain, tls: "1.3", pass: "pen", want: "FAIL not-authorized -"},
		{name: "authzid refused", clientMech: ScramSHA1, tls: "none", authz: "alice@example.org", opts: []Option{ownJID}, want: "FAIL invalid-authzid other-error"},
		// -PLUS stripped from the advertised list by an attacker: the client
		// sends "y", the server (which did offer -PLUS) must refuse.
		{name: "downgrade detected", clientMech: ScramSHA256Plus, serverMech: ScramSHA256, tls: "1.3",
			remote: []string{ScramSHA256, ScramSHA1, Plain}, want: "FAIL not-authorized server-does-support-channel-binding"},
		{name: "y flag accepted when no -PLUS offered", clientMech: ScramSHA256Plus, serverMech: ScramSHA256, tls: "1.3",
			hideCB: true, want: "OK"},
		{name: "tls-exporter data mismatch", clientMech: ScramSHA256Plus, tls: "1.3", wrongCB: true,
			want: "FAIL not-authorized channel-bindings-dont-match"},
		{name: "tls-unique data mismatch", clientMech: ScramSHA1Plus, tls: "1.2", wrongCB: true,
			want: "FAIL not-authorized channel-bindings-dont-match"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.serverMech == "" {
				tc.serverMech = tc.clientMech
			}
			if tc.user == "" {
				tc.user = "user"
			}
			if tc.pass == "" {
				tc.pass = testPasswords["user"]
			}
			got, serverErr := runMellium(t, bin, tc.clientMech, tc.serverMech, tc.tls, tc.hideCB, tc.wrongCB, tc.user, tc.pass, tc.authz, tc.remote, tc.opts)
			if serverErr != nil {
				t.Fatalf("server side: %v", serverErr)
			}
			if got != tc.want {
				t.Errorf("client reported %q, want %q", got, tc.want)
			}
		})
	}
}

func runMellium(t *testing.T, bin, clientMech, serverMech, tlsVer string, hideCB, wrongCB bool, user, pass, authz string, remote []string, opts []Option) (string, error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()

	type result struct {
		srv Server
		err error
	}
	done := make(chan result, 1)
	go func() {
		srv, err := serveMellium(t, ln, serverMech, tlsVer, hideCB, wrongCB, opts)
		done <- result{srv, err}
	}()

	// Which mechanisms does the client believe the server offers?
	if remote == nil {
		remote = Mechanisms(tlsVer != "none", tlsVer != "none" && !hideCB)
	}
	args := []string{"-addr", ln.Addr().String(), "-tls", tlsVer, "-mech", clientMech,
		"-user", user, "-pass", pass, "-authz", authz, "-remote", strings.Join(remote, ",")}
	cmd := exec.Command(bin, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitErr := make(chan error, 1)
	go func() { waitErr <- cmd.Wait() }()
	select {
	case err = <-waitErr:
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		t.Fatal("mellium client timed out")
	}
	if ee, ok := err.(*exec.ExitError); ok && ee.ExitCode() == 2 {
		t.Fatalf("mellium client error: %s", stderr.String())
	}
	r := <-done
	if r.err == nil && strings.TrimSpace(stdout.String()) == "OK" && r.srv.Username() != testNormaliseMust(user) {
		t.Errorf("server authenticated %q", r.srv.Username())
	}
	return strings.TrimSpace(stdout.String()), r.err
}

func testNormaliseMust(u string) string {
	n, _ := testNormalise(u)
	return n
}

// serveMellium accepts one connection and runs one exchange on it.
func serveMellium(t *testing.T, ln net.Listener, mech, tlsVer string, hideCB, wrongCB bool, opts []Option) (Server, error) {
	conn, err := ln.Accept()
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(60 * time.Second))
	info := ChannelBindingInfo{}
	if tlsVer != "none" {
		v := uint16(tls.VersionTLS13)
		if tlsVer == "1.2" {
			v = tls.VersionTLS12
		}
		tc := tls.Server(conn, &tls.Config{Certificates: []tls.Certificate{testCert(t)}, MinVersion: v, MaxVersion: v})
		if err := tc.Handshake(); err != nil {
			return nil, err
		}
		cs := tc.ConnectionState()
		info = ChannelBindingInfoFor(&cs)
		if hideCB {
			info.Bindings = nil
		}
		if wrongCB {
			for i := range info.Bindings {
				info.Bindings[i].Data = bytes.Repeat([]byte{0xA5}, len(info.Bindings[i].Data))
			}
		}
		conn = tc
	}
	r := bufio.NewReader(conn)
	read := func(verb string) ([]byte, error) {
		line, err := r.ReadString('\n')
		if err != nil {
			return nil, err
		}
		arg, ok := strings.CutPrefix(strings.TrimSuffix(line, "\n"), verb+" ")
		if !ok {
			return nil, fmt.Errorf("expected %s, got %q", verb, line)
		}
		return base64.StdEncoding.DecodeString(arg)
	}
	in, err := read("AUTH")
	if err != nil {
		return nil, err
	}
	srv, err := NewServer(mech, testLookup(t), info, testNormalise, opts...)
	if err != nil {
		return nil, err
	}
	for {
		out, done, err := srv.Step(in)
		switch {
		case err != nil:
			f, ok := err.(*Failure)
			if !ok {
				return nil, err
			}
			se := f.ServerError
			if se == "" {
				se = "-"
			}
			fmt.Fprintf(conn, "FAIL %s %s\n", f.Condition, se)
			return srv, nil
		case done:
			data := "-"
			if len(out) > 0 {
				data = base64.StdEncoding.EncodeToString(out)
			}
			fmt.Fprintf(conn, "OK %s\n", data)
			return srv, nil
		}
		fmt.Fprintf(conn, "CHAL %s\n", base64.StdEncoding.EncodeToString(out))
		if in, err = read("RESP"); err != nil {
			return nil, err
		}
	}
}
