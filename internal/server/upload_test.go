package server_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/skald-xmpp/skald/internal/certs"
	"github.com/skald-xmpp/skald/upload"
)

const nsUpload = "urn:xmpp:http:upload:0"

// startUploadServer runs a server with the upload service on loopback
// ([upload] address = 127.0.0.1:0, plus extra lines of that section),
// from a configuration file as an operator writes it.
func startUploadServer(t *testing.T, extra string) *testServer {
	t.Helper()
	src := "[upload]\naddress = \"127.0.0.1:0\"\n" + extra
	return startServerConfig(t, loadConfigFile(t, src), nil, nil)
}

// httpsClient trusts the server's self-signed certificate only.
func httpsClient(t *testing.T, s *testServer) *http.Client {
	t.Helper()
	pem, err := os.ReadFile(filepath.Join(s.Config.DataDir, certs.SelfSignedCertFile))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		t.Fatal("no certificate in the data directory")
	}
	return &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}, Timeout: 10 * time.Second}
}

// TestUploadOverSocket: a client finds the service in the domain's
// disco#info, gets a slot over c2s, PUTs the file over https (the
// server's certificate, verified for the domain) and another user GETs
// the same bytes back.
func TestUploadOverSocket(t *testing.T) {
	s := startUploadServer(t, "max_file_size = 1000\n")
	alice := login(t, s, "alice", "phone")
	cond, info := ask(t, alice, "d1", `<iq type='get' id='d1' to='localhost'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`)
	q := info.Child("http://jabber.org/protocol/disco#info", "query")
	if cond != "result" || !strings.Contains(q.String(), `<feature var="urn:xmpp:http:upload:0"/>`) || !strings.Contains(q.String(), `<field var="max-file-size"><value>1000</value></field>`) {
		t.Fatalf("disco#info: %s", info)
	}

	data := bytes.Repeat([]byte("pixel "), 100)
	cond, reply := ask(t, alice, "u1", `<iq type='get' id='u1' to='localhost'><request xmlns='urn:xmpp:http:upload:0' filename='cat picture.jpg' size='600' content-type='image/jpeg'/></iq>`)
	if cond != "result" {
		t.Fatalf("slot: %s", reply)
	}
	slot := reply.Child(nsUpload, "slot")
	put, get := slot.Child(nsUpload, "put").Attr("url"), slot.Child(nsUpload, "get").Attr("url")
	_, port, _ := net.SplitHostPort(s.UploadAddr())
	if !strings.HasPrefix(get, "https://localhost:"+port+"/") || !strings.HasSuffix(get, "/cat%20picture.jpg") {
		t.Fatalf("get URL %s (listener %s)", get, s.UploadAddr())
	}

	client := httpsClient(t, s)
	req, _ := http.NewRequest("PUT", put, bytes.NewReader(data))
	req.Header.Set("Content-Type", "image/jpeg")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("PUT: %s", resp.Status)
	}
	resp, err = client.Get(get)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !bytes.Equal(got, data) || resp.Header.Get("Content-Type") != "image/jpeg" {
		t.Fatalf("GET: %s %q %v", resp.Status, got, resp.Header)
	}
	// The slot is used up; an altered PUT URL is refused.
	for u, want := range map[string]int{put: http.StatusConflict, strings.Replace(put, "s=600", "s=6000", 1): http.StatusForbidden} {
		req, _ := http.NewRequest("PUT", u, bytes.NewReader(data))
		req.Header.Set("Content-Type", "image/jpeg")
		if resp, err := client.Do(req); err != nil || resp.StatusCode != want {
			t.Errorf("PUT %s again: %v %v, want %d", u, resp, err, want)
		} else {
			resp.Body.Close()
		}
	}
	// The file is in the data directory, with its meta.
	if ents, _ := os.ReadDir(filepath.Join(s.Config.DataDir, "uploads")); len(ents) != 2 {
		t.Errorf("uploads directory: %v", ents)
	}

	// Over the limit announced in disco#info: §5's error.
	cond, reply = ask(t, alice, "u2", `<iq type='get' id='u2' to='localhost'><request xmlns='urn:xmpp:http:upload:0' filename='big.mp4' size='1001'/></iq>`)
	if cond != "not-acceptable" || reply.Child("", "error").Child(nsUpload, "file-too-large").ChildText(nsUpload, "max-file-size") != "1000" {
		t.Errorf("too large: %s", reply)
	}

	// Shutdown closes the upload listener.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s.Shutdown(ctx)
	if c, err := net.DialTimeout("tcp", s.UploadAddr(), time.Second); err == nil {
		c.Close()
		t.Error("upload listener still accepts after Shutdown")
	}
}

// TestUploadOffByDefault: without [upload] address nothing listens and
// nothing is advertised; a slot request is service-unavailable.
func TestUploadOffByDefault(t *testing.T) {
	s := startServer(t, nil, nil)
	if s.Upload != nil || s.UploadAddr() != "" {
		t.Fatal("upload enabled by default")
	}
	alice := login(t, s, "alice", "a")
	_, info := ask(t, alice, "d1", `<iq type='get' id='d1' to='localhost'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`)
	if strings.Contains(info.String(), nsUpload) {
		t.Errorf("disco#info advertises upload: %s", info)
	}
	if cond, reply := ask(t, alice, "u1", `<iq type='get' id='u1' to='localhost'><request xmlns='urn:xmpp:http:upload:0' filename='a' size='1'/></iq>`); cond != "service-unavailable" {
		t.Errorf("slot request: %s", reply)
	}
}

// TestUploadConfig: the [upload] section decodes over its defaults,
// skald.example.toml's commented section is the defaults, and mistakes
// are errors naming the option.
func TestUploadConfig(t *testing.T) {
	m, err := loadModuleConfig(t, "[upload]\naddress = \":5443\"\npublic_url = \"https://files.example.org/x\"\nmax_file_size = 5\nquota_per_user = 50\nexpires_after = \"30d\"\ntls = false\nslots_per_minute = 0\nmax_connections = 7\n")
	if err != nil {
		t.Fatal(err)
	}
	if u := m.Upload; u.Address != ":5443" || u.PublicURL != "https://files.example.org/x" || u.MaxFileSize != 5 || u.QuotaPerUser != 50 || u.ExpiresAfter != "30d" || u.TLS || u.SlotsPerMinute != 0 || u.MaxConnections != 7 {
		t.Errorf("decoded %+v", u)
	}
	example, err := os.ReadFile("../../skald.example.toml")
	if err != nil {
		t.Fatal(err)
	}
	_, tail, _ := strings.Cut(string(example), "# [upload]\n")
	var lines []string
	for _, l := range strings.Split("# [upload]\n"+tail, "\n") {
		if strings.HasPrefix(l, "# [") && len(lines) > 0 {
			break
		}
		if strings.HasPrefix(l, "# [") || strings.Contains(l, " = ") {
			lines = append(lines, strings.TrimPrefix(l, "# "))
		}
	}
	if m, err := loadModuleConfig(t, strings.Join(lines, "\n")); err != nil || m.Upload != upload.DefaultConfig() || len(lines) != 10 {
		t.Errorf("skald.example.toml's [upload] %q gives %+v, %v; want the defaults", lines, m.Upload, err)
	}
	for src, want := range map[string]string{
		"[upload]\nadress = \":1\"\n":          "adress",
		"[upload]\nmax_file_size = 0\n":        "max_file_size",
		"[upload]\nexpires_after = \"soon\"\n": "expires_after",
		"[upload]\npublic_url = \"ftp://x\"\n": "public_url",
	} {
		if _, err := loadModuleConfig(t, src); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want an error naming %s", src, err, want)
		}
	}
}

// TestUploadExpiryJob: the server runs the cleanup job; a file older than
// expires_after is removed from disk and is 404.
func TestUploadExpiryJob(t *testing.T) {
	s := startUploadServer(t, "expires_after = 1\ncleanup_interval = 1\n")
	alice := login(t, s, "alice", "phone")
	cond, reply := ask(t, alice, "u1", `<iq type='get' id='u1' to='localhost'><request xmlns='urn:xmpp:http:upload:0' filename='a.txt' size='2'/></iq>`)
	if cond != "result" {
		t.Fatalf("slot: %s", reply)
	}
	slot := reply.Child(nsUpload, "slot")
	client := httpsClient(t, s)
	req, _ := http.NewRequest("PUT", slot.Child(nsUpload, "put").Attr("url"), strings.NewReader("hi"))
	resp, err := client.Do(req)
	if err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("PUT: %v %v", resp, err)
	}
	resp.Body.Close()
	dir := filepath.Join(s.Config.DataDir, "uploads")
	deadline := time.Now().Add(10 * time.Second)
	for {
		ents, _ := os.ReadDir(dir)
		if len(ents) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("expired upload still stored: %v", ents)
		}
		time.Sleep(50 * time.Millisecond)
	}
	resp, err = client.Get(slot.Child(nsUpload, "get").Attr("url"))
	if err != nil || resp.StatusCode != http.StatusNotFound {
		t.Fatalf("GET after expiry: %v %v", resp, err)
	}
	resp.Body.Close()
}

// TestUploadConnectionCap: with [upload] max_connections = 1, one open
// connection keeps a second from being answered until it closes (the
// server wraps its upload listener in upload.LimitListener).
func TestUploadConnectionCap(t *testing.T) {
	s := startUploadServer(t, "tls = false\nmax_connections = 1\n")
	first, err := net.Dial("tcp", s.UploadAddr())
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	second, err := net.Dial("tcp", s.UploadAddr())
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	io.WriteString(second, "OPTIONS /x HTTP/1.1\r\nHost: x\r\n\r\n")
	second.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	if n, err := second.Read(make([]byte, 1)); n > 0 || !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("second connection answered over the cap: %d bytes, %v", n, err)
	}
	first.Close()
	second.SetReadDeadline(time.Now().Add(5 * time.Second))
	b := make([]byte, 12)
	if _, err := io.ReadFull(second, b); err != nil || string(b) != "HTTP/1.1 204" {
		t.Fatalf("second connection after the first closed: %q, %v", b, err)
	}
}
