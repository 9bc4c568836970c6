package server_test

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/skald-xmpp/skald/extdisco"
)

const extdiscoSection = `[extdisco]
credential_lifetime = "2h"
[[extdisco.services]]
type = "stun"
host = "stun.example.org"
port = 3478
transport = "udp"
[[extdisco.services]]
type = "turn"
host = "turn.example.org"
port = 3478
transport = "udp"
secret = "a-shared-secret-for-coturn"
`

// TestExtDiscoOverSocket: with [extdisco] services the server announces
// urn:xmpp:extdisco:2, lists them, and hands out TURN REST credentials
// that a TURN server with the same secret accepts (XEP-0215 §3); without
// services it announces nothing and answers service-unavailable.
func TestExtDiscoOverSocket(t *testing.T) {
	s := startServerConfig(t, loadConfigFile(t, extdiscoSection), nil, nil)
	alice := login(t, s, "alice", "phone")
	cond, info := ask(t, alice, "d1", `<iq type='get' id='d1' to='localhost'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`)
	if cond != "result" || !strings.Contains(info.String(), `<feature var="urn:xmpp:extdisco:2"/>`) {
		t.Fatalf("disco#info: %s", info)
	}

	cond, el := ask(t, alice, "s1", `<iq type='get' id='s1' to='localhost'><services xmlns='urn:xmpp:extdisco:2'/></iq>`)
	list := el.Child(extdisco.NS, "services")
	if cond != "result" || list == nil || len(list.Elements()) != 2 {
		t.Fatalf("services: %s", el)
	}
	if stun := list.Elements()[0]; stun.Attr("type") != "stun" || stun.Attr("port") != "3478" || stun.HasAttr("password") {
		t.Errorf("stun: %s", stun)
	}
	checkTURN(t, list.Elements()[1])

	cond, el = ask(t, alice, "s2", `<iq type='get' id='s2' to='localhost'><services xmlns='urn:xmpp:extdisco:2' type='turn'/></iq>`)
	if list := el.Child(extdisco.NS, "services"); cond != "result" || list.Attr("type") != "turn" || len(list.Elements()) != 1 {
		t.Fatalf("turn services: %s", el)
	}

	cond, el = ask(t, alice, "c1", `<iq type='get' id='c1' to='localhost'><credentials xmlns='urn:xmpp:extdisco:2'><service host='turn.example.org' type='turn'/></credentials></iq>`)
	creds := el.Child(extdisco.NS, "credentials")
	if cond != "result" || creds == nil || len(creds.Elements()) != 1 {
		t.Fatalf("credentials: %s", el)
	}
	checkTURN(t, creds.Elements()[0])

	if cond, el := ask(t, alice, "c2", `<iq type='get' id='c2' to='localhost'><credentials xmlns='urn:xmpp:extdisco:2'><service host='stun.example.org' type='stun'/></credentials></iq>`); cond != "item-not-found" {
		t.Errorf("stun credentials: %s", el)
	}

	plain := startServer(t, nil, nil)
	bob := login(t, plain, "bob", "desk")
	if _, info := ask(t, bob, "d2", `<iq type='get' id='d2' to='localhost'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`); strings.Contains(info.String(), "extdisco") {
		t.Errorf("extdisco announced without services: %s", info)
	}
	if cond, el := ask(t, bob, "s3", `<iq type='get' id='s3' to='localhost'><services xmlns='urn:xmpp:extdisco:2'/></iq>`); cond != "service-unavailable" {
		t.Errorf("services without services: %s", el)
	}
}

// checkTURN verifies a TURN service's credentials as coturn would with
// use-auth-secret: the password is the HMAC of the username, and the
// username starts with the expiry, two hours from now.
func checkTURN(t *testing.T, svc interface{ Attr(string) string }) {
	t.Helper()
	user, pass := svc.Attr("username"), svc.Attr("password")
	expiry, who, _ := strings.Cut(user, ":")
	if who != "alice@localhost" || svc.Attr("host") != "turn.example.org" || svc.Attr("restricted") != "1" {
		t.Fatalf("turn service: username %q, host %q", user, svc.Attr("host"))
	}
	mac := hmac.New(sha1.New, []byte("a-shared-secret-for-coturn"))
	mac.Write([]byte(user))
	if want := base64.StdEncoding.EncodeToString(mac.Sum(nil)); pass != want {
		t.Errorf("password %q, want %q", pass, want)
	}
	secs, err := strconv.ParseInt(expiry, 10, 64)
	if until := time.Until(time.Unix(secs, 0)); err != nil || until < 2*time.Hour-time.Minute || until > 2*time.Hour+time.Minute {
		t.Errorf("expiry %q: %v from now", expiry, until)
	}
	exp, err := time.Parse(time.RFC3339, svc.Attr("expires"))
	if err != nil || exp.Unix() != secs || !strings.HasSuffix(svc.Attr("expires"), "Z") {
		t.Errorf("expires %q for username %q", svc.Attr("expires"), user)
	}
}

// TestExtDiscoConfig: the section decodes, unknown keys in a service are
// errors, bad services are refused at load, and skald.example.toml's
// commented section, uncommented, is valid.
func TestExtDiscoConfig(t *testing.T) {
	m, err := loadModuleConfig(t, "")
	if err != nil || m.ExtDisco.Enabled() || m.ExtDisco.CredentialLifetime != 24*time.Hour {
		t.Fatalf("defaults: %+v, %v", m.ExtDisco, err)
	}
	m, err = loadModuleConfig(t, extdiscoSection)
	if err != nil || len(m.ExtDisco.Services) != 2 || m.ExtDisco.CredentialLifetime != 2*time.Hour || m.ExtDisco.Services[1].Secret == "" {
		t.Fatalf("set: %+v, %v", m.ExtDisco, err)
	}
	for _, bad := range []string{
		"[extdisco]\n[[extdisco.services]]\ntype = \"turn\"\nhost = \"turn.example.org\"\nsecrte = \"x\"\n",
		"[extdisco]\n[[extdisco.services]]\ntype = \"turn\"\nhost = \"\"\n",
		"[extdisco]\n[[extdisco.services]]\ntype = \"turn\"\nhost = \"turn.example.org\"\ntransport = \"quic\"\n",
		"[extdisco]\ncredential_lifetime = 0\n",
	} {
		if _, err := loadModuleConfig(t, bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if _, err := loadModuleConfig(t, "[extdisco]\n[[extdisco.services]]\ntype = \"turn\"\nhost = \"turn.example.org\"\nsecrte = \"x\"\n"); err == nil || !strings.Contains(err.Error(), "secrte") {
		t.Errorf("unknown key: %v", err)
	}

	example, err := os.ReadFile("../../skald.example.toml")
	if err != nil {
		t.Fatal(err)
	}
	_, tail, _ := strings.Cut(string(example), "# [extdisco]\n")
	var lines []string
	for _, l := range strings.Split(tail, "\n") {
		if !strings.HasPrefix(l, "# ") || strings.HasPrefix(l, "# [") && !strings.HasPrefix(l, "# [[extdisco") {
			break
		}
		if l = strings.TrimPrefix(l, "# "); strings.Contains(l, " = ") || strings.HasPrefix(l, "[[") {
			lines = append(lines, l)
		}
	}
	m, err = loadModuleConfig(t, "[extdisco]\n"+strings.Join(lines, "\n"))
	if err != nil || len(m.ExtDisco.Services) != 2 || m.ExtDisco.CredentialLifetime != 24*time.Hour {
		t.Errorf("skald.example.toml's [extdisco] %q gives %+v, %v", lines, m.ExtDisco, err)
	}
}
