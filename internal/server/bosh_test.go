package server_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/skald-xmpp/skald/bosh"
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
	for name, want := range map[string]float64{"skald_bosh_sessions_created_total": 1, "skald_bosh_sessions": 0} {
		if v, ok := s.Metrics.Value(name); !ok || v != want {
			t.Errorf("%s = %v (%v), want %v", name, v, ok, want)
		}
	}
	_ = time.Second
}

// rawBOSH is a session driven request by request, with explicit rids.
type rawBOSH struct {
	t      *testing.T
	url    string
	client *http.Client
	sid    string
	rid    uint64
}

// createBOSH posts a session creation request with the given attributes
// (besides rid, xmlns) and returns the session and the response.
func createBOSH(t *testing.T, url, attrs string) (*rawBOSH, *xml.Element, string) {
	t.Helper()
	r := &rawBOSH{t: t, url: url, client: xmpptest.NewBOSHClient(), rid: 73542}
	status, body, raw, err := xmpptest.PostBOSH(r.client, url, fmt.Sprintf(`<body rid='%d' %s xmlns='%s' xmlns:xmpp='%s'/>`, r.rid, attrs, xmpptest.NSHTTPBind, xmpptest.NSXBOSH))
	if err != nil || status != http.StatusOK || body == nil || body.Attr("sid") == "" {
		t.Fatalf("creation: %d %q %v", status, raw, err)
	}
	r.sid = body.Attr("sid")
	return r, body, raw
}

// postRID posts a request of the session with the given rid.
func (r *rawBOSH) postRID(rid uint64, attrs, payload string) (int, *xml.Element, string) {
	r.t.Helper()
	status, body, raw, err := xmpptest.PostBOSH(r.client, r.url, fmt.Sprintf(`<body rid='%d' sid='%s' xmlns='%s' xmlns:xmpp='%s' %s>%s</body>`, rid, r.sid, xmpptest.NSHTTPBind, xmpptest.NSXBOSH, attrs, payload))
	if err != nil {
		r.t.Fatalf("rid %d: %v", rid, err)
	}
	return status, body, raw
}

// post posts the next request.
func (r *rawBOSH) post(attrs, payload string) (int, *xml.Element, string) {
	r.t.Helper()
	r.rid++
	return r.postRID(r.rid, attrs, payload)
}

func isTerminate(body *xml.Element, condition string) bool {
	return body != nil && body.Is(xmpptest.NSHTTPBind, "body") && body.Attr("type") == "terminate" && body.Attr("condition") == condition
}

const boshCreate = `to='localhost' ver='1.6' wait='5' hold='1' xmpp:version='1.0'`

// TestBOSHErrors: XEP-0124's terminal binding conditions (§17.2), as
// a body of type='terminate' with HTTP 200, but for a request that does
// not parse (we cannot tell its version: 400 too) and for a legacy client
// (no 'ver', §17.1: the HTTP codes).
func TestBOSHErrors(t *testing.T) {
	_, url := startBOSHServer(t, "")
	client := xmpptest.NewBOSHClient()
	raw := func(body string) (int, *xml.Element, string) {
		status, el, s, err := xmpptest.PostBOSH(client, url, body)
		if err != nil {
			t.Fatal(err)
		}
		return status, el, s
	}
	const ns = "xmlns='" + xmpptest.NSHTTPBind + "'"
	for _, tt := range []struct {
		name, body string
		status     int
		condition  string
	}{
		{"not XML", "hello", 400, "bad-request"},
		{"another root", "<body rid='1' to='localhost' xmlns='jabber:client'/>", 400, "bad-request"},
		{"no rid", "<body to='localhost' ver='1.6' " + ns + "/>", 400, "bad-request"},
		{"rid beyond 2^53-1", "<body rid='9007199254740992' to='localhost' ver='1.6' " + ns + "/>", 400, "bad-request"},
		{"text in the wrapper", "<body rid='5' to='localhost' ver='1.6' " + ns + ">hi</body>", 400, "bad-request"},
		{"a second root", "<body rid='5' to='localhost' ver='1.6' " + ns + "/><body/>", 400, "bad-request"},
		{"no to", "<body rid='5' ver='1.6' wait='5' hold='1' " + ns + "/>", 200, "improper-addressing"},
		{"unknown domain", "<body rid='5' to='example.org' ver='1.6' wait='5' hold='1' " + ns + "/>", 200, "host-unknown"},
		{"unknown sid", "<body rid='5' sid='nosuchsession' " + ns + "/>", 200, "item-not-found"},
		{"payload in the creation request", "<body rid='5' to='localhost' ver='1.6' " + ns + "><presence xmlns='jabber:client'/></body>", 200, "bad-request"},
	} {
		status, el, s := raw(tt.body)
		if status != tt.status || !isTerminate(el, tt.condition) {
			t.Errorf("%s: %d %q, want %d and %s", tt.name, status, s, tt.status, tt.condition)
		}
	}

	t.Run("rid beyond the window", func(t *testing.T) {
		r, _, _ := createBOSH(t, url, boshCreate)
		// hold 1: requests 2, so the window ends at rid+2.
		if status, el, s := r.postRID(r.rid+3, "", ""); status != 200 || !isTerminate(el, "item-not-found") {
			t.Fatalf("%d %q", status, s)
		}
		// The session is gone.
		if _, el, s := r.postRID(r.rid+1, "", ""); !isTerminate(el, "item-not-found") {
			t.Fatalf("after the error: %q", s)
		}
	})
	t.Run("legacy client gets HTTP codes", func(t *testing.T) {
		r, _, _ := createBOSH(t, url, `to='localhost' wait='5' hold='1'`)
		if status, el, s := r.postRID(r.rid+5, "", ""); status != 404 || !isTerminate(el, "item-not-found") {
			t.Fatalf("%d %q", status, s)
		}
	})
	t.Run("rid already answered and no longer cached", func(t *testing.T) {
		r, _, _ := createBOSH(t, url, `to='localhost' ver='1.6' wait='1' hold='1'`)
		for range 3 {
			r.post("", "") // each answered empty after 1 s
		}
		if _, el, s := r.postRID(r.rid-2, "", ""); !isTerminate(el, "item-not-found") {
			t.Fatalf("%q", s)
		}
	})
	t.Run("restart before authentication", func(t *testing.T) {
		r, _, _ := createBOSH(t, url, boshCreate)
		if _, el, s := r.post(`to='localhost' xmpp:restart='true'`, ""); !isTerminate(el, "policy-violation") {
			t.Fatalf("%q", s)
		}
	})
	t.Run("restart with a payload", func(t *testing.T) {
		r, _, _ := createBOSH(t, url, boshCreate)
		if _, el, s := r.post(`xmpp:restart='true'`, `<presence xmlns='jabber:client'/>`); !isTerminate(el, "bad-request") {
			t.Fatalf("%q", s)
		}
	})
	t.Run("too many simultaneous requests", func(t *testing.T) {
		// §11: hold 1 allows 2 requests; rid+1 is held, rid+3 waits
		// for rid+2, which is the third unanswered one.
		r, _, _ := createBOSH(t, url, boshCreate)
		done := make(chan *xml.Element, 2)
		rid := r.rid
		go func() { _, el, _ := r.postRID(rid+1, "", ""); done <- el }()
		time.Sleep(200 * time.Millisecond)
		go func() { _, el, _ := r.postRID(rid+3, "", ""); done <- el }()
		time.Sleep(200 * time.Millisecond)
		if _, el, s := r.postRID(r.rid+2, "", ""); !isTerminate(el, "policy-violation") {
			t.Fatalf("%q", s)
		}
		for range 2 {
			if el := <-done; el == nil || el.Attr("type") == "error" {
				t.Fatalf("the others: %s", el)
			}
		}
	})
	t.Run("unsupported element ends the stream: remote-stream-error", func(t *testing.T) {
		r, _, _ := createBOSH(t, url, boshCreate)
		_, el, s := r.post("", `<foo xmlns='urn:example:foo'/>`)
		if !isTerminate(el, "remote-stream-error") {
			t.Fatalf("%q", s)
		}
		se := el.Child("http://etherx.jabber.org/streams", "error")
		if se == nil || se.FirstElement() == nil || se.FirstElement().Space != nsStreamError {
			t.Fatalf("no stream error in %q", s)
		}
	})
}

// TestBOSHRepeatedRID: a request repeated after a broken connection gets
// the response it had (§14.3), byte for byte; a repeat of the request
// still held makes the first one get a recoverable error.
func TestBOSHRepeatedRID(t *testing.T) {
	_, url := startBOSHServer(t, "")
	r, created, _ := createBOSH(t, url, boshCreate)
	if created.Attr("ack") != strconv.FormatUint(r.rid, 10) {
		t.Fatalf("creation response ack: %s", created)
	}
	// The first SCRAM message: the response holds the server's
	// challenge, with its random nonce.
	auth := `<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='SCRAM-SHA-256'>` + base64.StdEncoding.EncodeToString([]byte("n,,n=alice,r=abcdefghijkl")) + `</auth>`
	_, el, first := r.post("", auth)
	if el.Child("urn:ietf:params:xml:ns:xmpp-sasl", "challenge") == nil {
		t.Fatalf("challenge: %q", first)
	}
	_, _, again := r.postRID(r.rid, "", auth)
	if again != first {
		t.Fatalf("repeated rid %d: got %q, want %q", r.rid, again, first)
	}

	// A held request repeated: the first copy gets type='error', the
	// second is held in its place.
	r.rid++
	rid := r.rid
	held := make(chan string, 1)
	go func() { _, _, s := r.postRID(rid, "", ""); held <- s }()
	time.Sleep(300 * time.Millisecond)
	second := make(chan *xml.Element, 1)
	go func() { _, el, _ := r.postRID(rid, "", ""); second <- el }()
	select {
	case s := <-held:
		if el, _ := xmpptest.ParseBOSHBody([]byte(s)); el == nil || el.Attr("type") != "error" {
			t.Fatalf("the replaced request got %q", s)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("the replaced request was not answered")
	}
	if el := <-second; el == nil || el.Attr("type") != "" {
		t.Fatalf("the repeat got %s", el)
	}
}

// TestBOSHLongPoll: a held request is answered as soon as something
// arrives for the client, not after 'wait'; with nothing to send it is
// answered empty after 'wait'.
func TestBOSHLongPoll(t *testing.T) {
	s, url := startBOSHServer(t, "")
	alice := xmpptest.DialBOSH(t, url, "localhost") // wait 10 s
	alice.Login("alice", "pw-alice", "web")
	bob := login(t, s, "bob", "desk")
	time.Sleep(200 * time.Millisecond) // alice's poll is held by now
	start := time.Now()
	bob.Send(`<message to='alice@localhost/web' type='chat' id='lp1'><body>wake up</body></message>`)
	m := alice.Expect(func(e *xml.Element) bool { return e.Local == "message" })
	if m.ChildText("jabber:client", "body") != "wake up" {
		t.Fatalf("alice got %s", m)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("the held request was answered after %v: not when the message came", d)
	}

	r, _, _ := createBOSH(t, url, `to='localhost' ver='1.6' wait='1' hold='1'`)
	start = time.Now()
	_, el, raw := r.post("", "")
	if d := time.Since(start); d < 900*time.Millisecond || d > 4*time.Second || el == nil || len(el.Elements()) != 0 || el.Attr("type") != "" {
		t.Fatalf("empty request answered after %v with %q, want an empty body after wait='1'", d, raw)
	}
}

// TestBOSHInactivity: a session with no request waiting for longer than
// 'inactivity' ends (§10): its sid is unknown and its resource gone.
func TestBOSHInactivity(t *testing.T) {
	s, url := startBOSHServer(t, `max_inactivity = "5s"`)
	alice := xmpptest.DialBOSHWait(t, url, "localhost", 1)
	if alice.Created.Attr("inactivity") != "5" {
		t.Fatalf("inactivity: %s", alice.Created)
	}
	alice.Login("alice", "pw-alice", "web")
	bob := login(t, s, "bob", "desk")
	ping := func(id string) *xml.Element {
		bob.Sendf(`<iq to='alice@localhost/web' type='get' id='%s'><ping xmlns='urn:xmpp:ping'/></iq>`, id)
		return bob.Expect(isID(id))
	}
	// While it polls the session lives, past 'inactivity'.
	go func() {
		for {
			el, err := alice.TryNext()
			if err != nil {
				return
			}
			if el.Local == "iq" && el.Attr("type") == "get" {
				alice.Sendf(`<iq xmlns='jabber:client' to='%s' id='%s' type='result'/>`, el.Attr("from"), el.Attr("id"))
			}
		}
	}()
	time.Sleep(6 * time.Second)
	if el := ping("p1"); el.Attr("type") != "result" {
		t.Fatalf("ping of a polling session: %s", el)
	}
	alice.StopPolling()
	// Asking the session would count as a request: the table tells.
	deadline := time.Now().Add(15 * time.Second)
	for s.BOSH.Sessions() != 0 {
		if time.Now().After(deadline) {
			t.Fatal("the session outlived its inactivity timeout")
		}
		time.Sleep(200 * time.Millisecond)
	}
	if status, body, raw, err := xmpptest.PostBOSH(xmpptest.NewBOSHClient(), url, fmt.Sprintf(`<body rid='1' sid='%s' xmlns='%s'/>`, alice.SID, xmpptest.NSHTTPBind)); err != nil || status != 200 || !isTerminate(body, "item-not-found") {
		t.Fatalf("request of the ended session: %d %q %v", status, raw, err)
	}
	if el := ping("p2"); el.Attr("type") != "error" {
		t.Fatalf("ping after the session ended: %s", el)
	}
}

// TestInteropBOSHRaw: an independent BOSH client, testdata/interop/
// bosh_raw.py, written from the XEPs' examples with Python's standard
// library only (no BOSH client library is packaged in Debian or usable
// from Go modules here, and slixmpp does not speak BOSH), logs two users
// in and has them chat, query their archive and end their sessions.
func TestInteropBOSHRaw(t *testing.T) {
	if _, err := exec.LookPath(interopPython); err != nil {
		t.Skipf("no %s", interopPython)
	}
	t.Parallel()
	_, url := startBOSHServer(t, "")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, interopPython, "-u", filepath.Join("testdata", "interop", "bosh_raw.py"))
	cmd.Env = interopEnv("SKALD_BOSH_URL="+url, "SKALD_DOMAIN=localhost", "PYTHONDONTWRITEBYTECODE=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("bosh_raw.py: %v; output:\n%s", err, out)
	}
	if !strings.Contains(string(out), "bosh_raw: ok") {
		t.Fatalf("bosh_raw.py did not finish:\n%s", out)
	}
}

// TestBOSHHostMeta: XEP-0156: the WebSocket listener's documents announce
// BOSH too; without WebSocket the BOSH listener serves them.
func TestBOSHHostMeta(t *testing.T) {
	links := func(t *testing.T, base string) map[string]string {
		t.Helper()
		resp, err := http.Get(base + "/.well-known/host-meta.json")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var doc struct {
			Links []struct{ Rel, Href string } `json:"links"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil || resp.StatusCode != 200 {
			t.Fatalf("host-meta.json: %s %v", resp.Status, err)
		}
		m := map[string]string{}
		for _, l := range doc.Links {
			m[l.Rel] = l.Href
		}
		resp, err = http.Get(base + "/.well-known/host-meta")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		for rel, href := range m {
			if !strings.Contains(string(b), "rel='"+rel+"' href='"+href+"'") {
				t.Fatalf("host-meta lacks %s %s: %s", rel, href, b)
			}
		}
		return m
	}
	t.Run("bosh only", func(t *testing.T) {
		_, url := startBOSHServer(t, "")
		base := strings.TrimSuffix(url, "/http-bind")
		if got := links(t, base); len(got) != 1 || got["urn:xmpp:alt-connections:xbosh"] != url {
			t.Fatalf("links %v, want bosh %s", got, url)
		}
	})
	t.Run("websocket and bosh", func(t *testing.T) {
		cfg := loadConfigFile(t, "[websocket]\naddress = \"127.0.0.1:0\"\ntls = false\n[bosh]\naddress = \"127.0.0.1:0\"\ntls = false\n")
		s := startServerConfig(t, cfg, nil, nil)
		got := links(t, "http://"+s.WebSocketAddr())
		if got["urn:xmpp:alt-connections:websocket"] != "ws://"+s.WebSocketAddr()+"/xmpp-websocket" || got["urn:xmpp:alt-connections:xbosh"] != "http://"+s.BOSHAddr()+"/http-bind" {
			t.Fatalf("links %v", got)
		}
		resp, err := http.Get("http://" + s.BOSHAddr() + "/.well-known/host-meta")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Fatalf("BOSH listener's host-meta beside WebSocket's: %s", resp.Status)
		}
	})
}

// TestBOSHCORS: a browser page on an allowed origin may use the endpoint
// (preflight and response headers); others are refused.
func TestBOSHCORS(t *testing.T) {
	_, url := startBOSHServer(t, `origins = ["https://chat.example.com", "*.example.org"]`)
	do := func(method, origin string) *http.Response {
		req, _ := http.NewRequest(method, url, strings.NewReader(`<body rid='1' sid='none' xmlns='`+xmpptest.NSHTTPBind+`'/>`))
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	for _, origin := range []string{"https://chat.example.com", "https://web.example.org"} {
		resp := do(http.MethodOptions, origin)
		if resp.StatusCode != http.StatusNoContent || resp.Header.Get("Access-Control-Allow-Origin") != origin || !strings.Contains(resp.Header.Get("Access-Control-Allow-Methods"), "POST") || !strings.Contains(resp.Header.Get("Access-Control-Allow-Headers"), "Content-Type") {
			t.Fatalf("preflight from %s: %s %v", origin, resp.Status, resp.Header)
		}
		if resp := do(http.MethodPost, origin); resp.StatusCode != 200 || resp.Header.Get("Access-Control-Allow-Origin") != origin || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/xml; charset=utf-8") {
			t.Fatalf("POST from %s: %s %v", origin, resp.Status, resp.Header)
		}
	}
	for _, origin := range []string{"http://chat.example.com", "https://evil.example.net", "null"} {
		if resp := do(http.MethodPost, origin); resp.StatusCode != http.StatusForbidden || resp.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Fatalf("POST from %s: %s %v", origin, resp.Status, resp.Header)
		}
	}
	if resp, err := http.Get(url); err != nil || resp.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("GET: %v %v", resp, err)
	}
}

// TestBOSHMaxSessions: sessions beyond max_sessions are refused; one
// ending makes room.
func TestBOSHMaxSessions(t *testing.T) {
	_, url := startBOSHServer(t, "max_sessions = 1")
	r, _, _ := createBOSH(t, url, boshCreate)
	status, body, raw, err := xmpptest.PostBOSH(xmpptest.NewBOSHClient(), url, fmt.Sprintf(`<body rid='5' %s xmlns='%s' xmlns:xmpp='%s'/>`, boshCreate, xmpptest.NSHTTPBind, xmpptest.NSXBOSH))
	if err != nil || status != 200 || !isTerminate(body, "undefined-condition") {
		t.Fatalf("second session: %d %q %v", status, raw, err)
	}
	if _, el, s := r.post("type='terminate'", ""); el.Attr("type") != "terminate" {
		t.Fatalf("terminate: %q", s)
	}
	createBOSH(t, url, boshCreate)
}

// TestBOSHOverTLS: https served with the server's certificate counts as
// encrypted: secure='true', PLAIN is offered, SCRAM -PLUS binds to that
// TLS.
func TestBOSHOverTLS(t *testing.T) {
	cfg := loadConfigFile(t, "[bosh]\naddress = \"127.0.0.1:0\"\ntls = true\n")
	s := startServerConfig(t, cfg, nil, nil)
	c := xmpptest.DialBOSH(t, "https://"+s.BOSHAddr()+"/http-bind", "localhost")
	mechs := strings.Join(mechanisms(c.Features), " ")
	if c.Created.Attr("secure") != "true" || !strings.Contains(mechs, "PLAIN") || !strings.Contains(mechs, "SCRAM-SHA-256-PLUS") {
		t.Fatalf("over https: secure=%q mechanisms %s", c.Created.Attr("secure"), mechs)
	}
	c.Login("alice", "pw-alice", "tls")
}

// TestBOSHShutdown: a server shutting down ends the sessions; the client
// waiting gets the stream error as remote-stream-error (system-shutdown).
func TestBOSHShutdown(t *testing.T) {
	s, url := startBOSHServer(t, "")
	alice := xmpptest.DialBOSH(t, url, "localhost")
	alice.Login("alice", "pw-alice", "web")
	time.Sleep(100 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	go s.Shutdown(ctx)
	end := alice.ExpectTerminate()
	se := end.Child("http://etherx.jabber.org/streams", "error")
	if end.Attr("condition") != "remote-stream-error" || se == nil || !se.FirstElement().Is(nsStreamError, "system-shutdown") {
		t.Fatalf("at shutdown: %s", end)
	}
}

// TestBOSHStreamResumption: XEP-0198 over BOSH: a session that ran into
// its inactivity timeout ended its stream as a broken connection, so the
// client resumes it in a new BOSH session and gets what arrived meanwhile.
func TestBOSHStreamResumption(t *testing.T) {
	s, url := startBOSHServer(t, `max_inactivity = "5s"`)
	const nsSM = "urn:xmpp:sm:3"
	first := xmpptest.DialBOSHWait(t, url, "localhost", 1)
	first.Login("alice", "pw-alice", "web")
	first.Send(`<enable xmlns='urn:xmpp:sm:3' resume='true'/>`)
	enabled := first.Expect(func(e *xml.Element) bool { return e.Space == nsSM })
	if !enabled.Is(nsSM, "enabled") || enabled.Attr("id") == "" {
		t.Fatalf("got %s, want <enabled/>", enabled)
	}
	first.StopPolling()
	deadline := time.Now().Add(15 * time.Second)
	for s.BOSH.Sessions() != 0 { // wait 1 s, inactivity 5 s, the sweep
		if time.Now().After(deadline) {
			t.Fatal("the session outlived its inactivity timeout")
		}
		time.Sleep(200 * time.Millisecond)
	}

	bob := login(t, s, "bob", "desk")
	bob.Send(`<message to='alice@localhost/web' type='chat' id='while-away'><body>while you were away</body></message>`)

	second := xmpptest.DialBOSH(t, url, "localhost")
	if err := second.TrySCRAMWith(xmpptest.SCRAM{}, "alice", "pw-alice"); err != nil {
		t.Fatal(err)
	}
	second.Restart()
	second.Sendf(`<resume xmlns='urn:xmpp:sm:3' previd='%s' h='0'/>`, enabled.Attr("id"))
	if el := second.Next(); !el.Is(nsSM, "resumed") {
		t.Fatalf("got %s, want <resumed/>", el)
	}
	second.Expect(func(e *xml.Element) bool {
		return e.Is("jabber:client", "message") && e.ChildText("jabber:client", "body") == "while you were away"
	})
}

// TestBOSHConfig: skald.example.toml's commented [bosh] section is the
// defaults (with its example address and url), BOSH is off by default,
// and mistakes are errors naming the option.
func TestBOSHConfig(t *testing.T) {
	example, err := os.ReadFile("../../skald.example.toml")
	if err != nil {
		t.Fatal(err)
	}
	_, tail, _ := strings.Cut(string(example), "# [bosh]\n")
	var lines []string
	for _, l := range strings.Split("# [bosh]\n"+tail, "\n") {
		if strings.HasPrefix(l, "# [") && !strings.HasPrefix(l, "# [bosh") && len(lines) > 0 {
			break
		}
		if strings.HasPrefix(l, "# [") || strings.Contains(l, " = ") {
			lines = append(lines, strings.TrimPrefix(l, "# "))
		}
	}
	want := bosh.DefaultConfig()
	want.Address = ":5280"
	want.URL = "https://chat.example.com/http-bind"
	if m, err := loadModuleConfig(t, strings.Join(lines, "\n")); err != nil || !reflect.DeepEqual(m.BOSH, want) || len(lines) != 13 {
		t.Errorf("skald.example.toml's [bosh] %q gives %+v, %v; want %+v", lines, m.BOSH, err, want)
	}
	if m, err := loadModuleConfig(t, ""); err != nil || m.BOSH.Enabled() {
		t.Errorf("BOSH on by default: %+v, %v", m.BOSH, err)
	}
	for src, want := range map[string]string{
		"[bosh]\nadress = \":1\"\n":                  "adress",
		"[bosh]\naddress = \"5280\"\n":               "address",
		"[bosh]\naddress = \":5280\"\ntls = false\n": "behind_tls_proxy",
		"[bosh]\npath = \"http-bind\"\n":             "path",
		"[bosh]\npath = \"/.well-known/x\"\n":        "path",
		"[bosh]\norigins = [\"*\", \"a.example\"]\n": "origins",
		"[bosh]\norigins = [\"[\"]\n":                "origins",
		"[bosh]\nurl = \"ws://x/y\"\n":               "url",
		"[bosh]\nmax_wait = \"0s\"\n":                "max_wait",
		"[bosh]\nmax_wait = \"2h\"\n":                "max_wait",
		"[bosh]\nmax_hold = 0\n":                     "max_hold",
		"[bosh]\nmax_inactivity = \"1s\"\n":          "max_inactivity",
		"[bosh]\nmax_sessions = 0\n":                 "max_sessions",
		"[bosh]\nmax_sessions_per_ip = 0\n":          "max_sessions_per_ip",
		"[bosh]\nmax_connections = 0\n":              "max_connections",
		"[bosh]\nallowed_origins = [\"*\"]\n":        "allowed_origins",
	} {
		if _, err := loadModuleConfig(t, src); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want one naming %s", src, err, want)
		}
	}
}

// TestBOSHPathWithSlash: clients configured with /http-bind/ reach the
// endpoint too.
func TestBOSHPathWithSlash(t *testing.T) {
	_, url := startBOSHServer(t, "")
	c := xmpptest.DialBOSH(t, url+"/", "localhost")
	c.Login("alice", "pw-alice", "slash")
	if resp, err := http.Post(url+"/x", "text/xml", strings.NewReader("<body/>")); err != nil || resp.StatusCode != 404 {
		t.Fatalf("below the path: %v %v", resp, err)
	}
}
