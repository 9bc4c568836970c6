package server_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/skald-xmpp/skald/config"
	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/internal/xmpptest"
)

// startBOSHServer runs a server whose [bosh] section is address =
// "127.0.0.1:0", tls = false and the given lines, and returns it with the
// BOSH endpoint's URL.
func startBOSHServer(t *testing.T, section string, tweak ...func(*config.Config)) (*testServer, string) {
	t.Helper()
	cfg := loadConfigFile(t, "[bosh]\naddress = \"127.0.0.1:0\"\ntls = false\n"+section+"\n")
	var tw func(*config.Config)
	if len(tweak) > 0 {
		tw = tweak[0]
	}
	s := startServerConfig(t, cfg, nil, tw)
	return s, "http://" + s.BOSHAddr() + "/http-bind"
}

// TestBOSHSession walks a web client's path over BOSH: session creation
// with the stream features in its response, SCRAM, the xmpp:restart
// request, bind, a chat with a TCP client both ways, a MAM query, and
// type='terminate'. Every stanza in a response must declare jabber:client
// (XEP-0206 §2): the client reads it in the wrapper's namespace otherwise.
func TestBOSHSession(t *testing.T) {
	s, url := startBOSHServer(t, "")
	alice := xmpptest.DialBOSH(t, url, "localhost")
	cr := alice.Created
	for name, want := range map[string]string{"wait": "10", "hold": "1", "requests": "2", "inactivity": "60", "polling": "2", "ver": "1.6", "from": "localhost", "secure": "false"} {
		if got := cr.Attr(name); got != want {
			t.Errorf("creation response %s=%q, want %q: %s", name, got, want, cr)
		}
	}
	if len(alice.SID) < 20 {
		t.Errorf("sid %q: too short to be unguessable", alice.SID)
	}
	var version, restartLogic string
	for _, a := range cr.Attrs {
		if a.Space == xmpptest.NSXBOSH && a.Local == "version" {
			version = a.Value
		}
		if a.Space == xmpptest.NSXBOSH && a.Local == "restartlogic" {
			restartLogic = a.Value
		}
	}
	if version != "1.0" || restartLogic != "true" {
		t.Errorf("xmpp:version %q xmpp:restartlogic %q: %s", version, restartLogic, cr)
	}
	mechs := strings.Join(mechanisms(alice.Features), " ")
	if !strings.Contains(mechs, "SCRAM-SHA-256") || strings.Contains(mechs, "PLAIN") {
		t.Fatalf("mechanisms over plain loopback http: %s", mechs)
	}
	if alice.Features.Child("urn:ietf:params:xml:ns:xmpp-tls", "starttls") != nil {
		t.Fatalf("STARTTLS offered over BOSH: %s", alice.Features)
	}
	if err := alice.TrySCRAMWith(xmpptest.SCRAM{}, "alice", "pw-alice"); err != nil {
		t.Fatal(err)
	}
	alice.Restart()
	if alice.Features.Child("urn:ietf:params:xml:ns:xmpp-bind", "bind") == nil {
		t.Fatalf("features after the restart: %s", alice.Features)
	}
	if j := alice.Bind("web"); j != "alice@localhost/web" {
		t.Fatalf("bound %s", j)
	}

	bob := login(t, s, "bob", "desk")
	// A stanza written without its namespace, as many BOSH clients do,
	// is a jabber:client stanza (XEP-0206 §2).
	alice.Send(`<message to='bob@localhost/desk' type='chat' id='m1'><body>hello over bosh</body></message>`)
	got := bob.Expect(isMessageWithBody("hello over bosh"))
	if got.Attr("from") != "alice@localhost/web" {
		t.Fatalf("bob got %s", got)
	}
	bob.Send(`<message to='alice@localhost/web' type='chat' id='m2'><body>hello back</body></message>`)
	back := alice.Expect(func(e *xml.Element) bool { return e.Local == "message" })
	if !back.Is("jabber:client", "message") || back.ChildText("jabber:client", "body") != "hello back" || back.Attr("from") != "bob@localhost/desk" {
		t.Fatalf("alice got %s", back)
	}

	alice.Send(`<iq xmlns='jabber:client' type='set' id='q1'><query xmlns='urn:xmpp:mam:2' queryid='q1'/></iq>`)
	var bodies []string
	for {
		el := alice.Next()
		if r := el.Child(nsMAM, "result"); el.Is("jabber:client", "message") && r != nil {
			msg := r.Child("urn:xmpp:forward:0", "forwarded").Child("jabber:client", "message")
			bodies = append(bodies, msg.ChildText("jabber:client", "body"))
			continue
		}
		if !el.Is("jabber:client", "iq") || el.Attr("id") != "q1" || el.Attr("type") != "result" || el.Child(nsMAM, "fin") == nil {
			t.Fatalf("MAM answer: %s", el)
		}
		break
	}
	if strings.Join(bodies, "|") != "hello over bosh|hello back" {
		t.Fatalf("archive over bosh: %q", bodies)
	}

	alice.Terminate(`<presence type='unavailable' xmlns='jabber:client'/>`)
	end := alice.ExpectTerminate()
	if end.Attr("condition") != "" {
		t.Fatalf("terminate answered with %s", end)
	}
	// The session is gone: its sid is unknown now (§14.3, item-not-found).
	status, body, raw, err := xmpptest.PostBOSH(xmpptest.NewBOSHClient(), url, fmt.Sprintf(`<body rid='%d' sid='%s' xmlns='%s'/>`, alice.NextRID(), alice.SID, xmpptest.NSHTTPBind))
	if err != nil || status != http.StatusOK || body.Attr("type") != "terminate" || body.Attr("condition") != "item-not-found" {
		t.Fatalf("after terminate: %d %q %v", status, raw, err)
	}
	_ = time.Second
}
