package xmpptest

import (
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/skald-xmpp/skald/internal/xml"
)

// NSHTTPBind is XEP-0124's namespace of <body/>; NSXBOSH XEP-0206's.
const (
	NSHTTPBind = "http://jabber.org/protocol/httpbind"
	NSXBOSH    = "urn:xmpp:xbosh"
)

// BOSHConn is a raw XMPP over BOSH (XEP-0124, XEP-0206) test client
// that behaves as browser clients do: it always keeps one request
// waiting at the server (an empty one when it has nothing to send), sends
// each payload in a request of its own, and reads the payloads of the
// responses in rid order. Every response is parsed as a document, so a
// stanza without its namespace declaration shows as an element in the
// wrapper's namespace.
type BOSHConn struct {
	T       testing.TB
	URL     string
	Domain  string
	HTTP    *http.Client
	Timeout time.Duration
	// SID is the session id; Created the session creation response;
	// Features the last <stream:features/>.
	SID      string
	Created  *xml.Element
	Features *xml.Element

	mu          sync.Mutex
	rid         uint64
	outstanding int
	results     map[uint64]*xml.Element
	deliver     uint64 // the rid whose response is read next
	elements    chan *xml.Element
	terminated  chan *xml.Element // the terminal body, once
	ended       bool
	errs        chan error
}

// NewBOSHClient returns an HTTP client that trusts any certificate.
func NewBOSHClient() *http.Client {
	return &http.Client{Timeout: 90 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, MaxIdleConnsPerHost: 4}}
}

// PostBOSH posts body as it is and returns the HTTP status and the
// parsed response <body/> (nil if it does not parse).
func PostBOSH(client *http.Client, url, body string) (int, *xml.Element, string, error) {
	resp, err := client.Post(url, "text/xml; charset=utf-8", strings.NewReader(body))
	if err != nil {
		return 0, nil, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, nil, "", err
	}
	el, _ := ParseBOSHBody(b)
	return resp.StatusCode, el, string(b), nil
}

// ParseBOSHBody parses a response: the <body/> wrapper with its children.
func ParseBOSHBody(b []byte) (*xml.Element, error) {
	rd := xml.NewReader(bytes.NewReader(b), xml.Limits{MaxStanzaBytes: 16 << 20, MaxDepth: 64, MaxAttrs: 256}, 0)
	root, _, err := rd.ReadStreamStart()
	if err != nil {
		return nil, err
	}
	for {
		el, err := rd.Next()
		if errors.Is(err, xml.ErrStreamEnd) {
			return root, nil
		}
		if err != nil {
			return nil, err
		}
		root.Append(el)
	}
}

// DialBOSH creates a session with domain (wait 10 s, hold 1) and reads
// the stream features from the creation response.
func DialBOSH(t testing.TB, url, domain string) *BOSHConn {
	t.Helper()
	return DialBOSHWait(t, url, domain, 10)
}

// DialBOSHWait is DialBOSH asking for the given 'wait' in seconds.
func DialBOSHWait(t testing.TB, url, domain string, wait int) *BOSHConn {
	t.Helper()
	c := &BOSHConn{T: t, URL: url, Domain: domain, HTTP: NewBOSHClient(), Timeout: 15 * time.Second,
		rid: 1000 + uint64(time.Now().UnixNano()%100000), results: map[uint64]*xml.Element{},
		elements: make(chan *xml.Element, 1000), terminated: make(chan *xml.Element, 1), errs: make(chan error, 100)}
	c.deliver = c.rid + 1
	status, body, raw, err := PostBOSH(c.HTTP, url, fmt.Sprintf(`<body content='text/xml; charset=utf-8' hold='1' rid='%d' to='%s' ver='1.6' wait='%d' xml:lang='en' xmpp:version='1.0' xmlns='%s' xmlns:xmpp='%s'/>`, c.rid, domain, wait, NSHTTPBind, NSXBOSH))
	if err != nil || status != 200 || body == nil || !body.Is(NSHTTPBind, "body") || body.Attr("sid") == "" {
		t.Fatalf("session creation: %d %q %v", status, raw, err)
	}
	c.Created, c.SID = body, body.Attr("sid")
	c.Features = body.Child("http://etherx.jabber.org/streams", "features")
	if c.Features == nil {
		t.Fatalf("no stream features in the creation response: %s", raw)
	}
	t.Cleanup(func() {
		c.mu.Lock()
		c.ended = true
		c.mu.Unlock()
	})
	c.poll()
	return c
}

// NextRID returns the rid the next request gets, and reserves it.
func (c *BOSHConn) NextRID() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.rid++
	return c.rid
}

// poll keeps one request waiting when none is.
func (c *BOSHConn) poll() {
	c.mu.Lock()
	idle := c.outstanding == 0 && !c.ended
	c.mu.Unlock()
	if idle {
		c.send("", "")
	}
}

// send posts a request with the given extra attributes and payload.
func (c *BOSHConn) send(attrs, payload string) {
	c.mu.Lock()
	c.rid++
	rid := c.rid
	c.outstanding++
	c.mu.Unlock()
	body := fmt.Sprintf(`<body rid='%d' sid='%s' xmlns='%s'%s>%s</body>`, rid, c.SID, NSHTTPBind, attrs, payload)
	go func() {
		status, el, raw, err := PostBOSH(c.HTTP, c.URL, body)
		if err == nil && (status != 200 || el == nil) {
			err = fmt.Errorf("rid %d: HTTP %d %q", rid, status, raw)
		}
		if err != nil {
			c.errs <- err
			el = xml.New(NSHTTPBind, "body", "type", "terminate", "condition", "client-error")
		}
		c.mu.Lock()
		c.outstanding--
		c.results[rid] = el
		for {
			r := c.results[c.deliver]
			if r == nil {
				break
			}
			delete(c.results, c.deliver)
			c.deliver++
			for _, e := range r.Elements() {
				c.elements <- e
			}
			if r.Attr("type") == "terminate" && !c.ended {
				c.ended = true
				c.terminated <- r
			}
		}
		c.mu.Unlock()
		c.poll()
	}()
}

// Send sends payload (raw XML) in a request of its own.
func (c *BOSHConn) Send(payload string) { c.send("", payload) }

// Sendf sends a payload built with fmt.Sprintf.
func (c *BOSHConn) Sendf(format string, args ...any) { c.Send(fmt.Sprintf(format, args...)) }

// SendWith sends a request with extra attributes on its <body/>.
func (c *BOSHConn) SendWith(attrs, payload string) { c.send(" "+attrs, payload) }

// TryNext returns the next payload element of the responses.
func (c *BOSHConn) TryNext() (*xml.Element, error) {
	select {
	case el := <-c.elements:
		return el, nil
	case err := <-c.errs:
		return nil, err
	case <-time.After(c.Timeout):
		return nil, errors.New("timed out waiting for a payload")
	}
}

// Next is TryNext, failing the test on error.
func (c *BOSHConn) Next() *xml.Element {
	c.T.Helper()
	el, err := c.TryNext()
	if err != nil {
		c.T.Fatal(err)
	}
	return el
}

// Expect reads payloads until one satisfies match.
func (c *BOSHConn) Expect(match func(*xml.Element) bool) *xml.Element {
	c.T.Helper()
	for {
		if el := c.Next(); match(el) {
			return el
		}
	}
}

// ExpectTerminate waits for the session's terminal body.
func (c *BOSHConn) ExpectTerminate() *xml.Element {
	c.T.Helper()
	select {
	case b := <-c.terminated:
		return b
	case <-time.After(c.Timeout):
		c.T.Fatal("timed out waiting for type='terminate'")
		return nil
	}
}

// TrySCRAMWith runs a SCRAM exchange (see SCRAM).
func (c *BOSHConn) TrySCRAMWith(opt SCRAM, user, password string) error {
	return trySCRAM(c, opt, user, password)
}

// Restart asks for a new stream after authentication (XEP-0206 §5) and
// reads its features.
func (c *BOSHConn) Restart() {
	c.T.Helper()
	c.SendWith(fmt.Sprintf(`to='%s' xml:lang='en' xmpp:restart='true' xmlns:xmpp='%s'`, c.Domain, NSXBOSH), "")
	c.Features = c.Next()
	if !c.Features.Is("http://etherx.jabber.org/streams", "features") {
		c.T.Fatalf("expected stream features after the restart, got %s", c.Features)
	}
}

// Bind binds a resource and returns the full JID.
func (c *BOSHConn) Bind(resource string) string {
	c.T.Helper()
	c.Sendf(`<iq xmlns='jabber:client' type='set' id='bind1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>%s</resource></bind></iq>`, resource)
	el := c.Next()
	j := el.Child("urn:ietf:params:xml:ns:xmpp-bind", "bind").ChildText("urn:ietf:params:xml:ns:xmpp-bind", "jid")
	if !el.Is("jabber:client", "iq") || el.Attr("type") != "result" || j == "" {
		c.T.Fatalf("bind failed: %s", el)
	}
	return j
}

// Login authenticates with SCRAM-SHA-256, restarts the stream and binds
// resource.
func (c *BOSHConn) Login(user, password, resource string) string {
	c.T.Helper()
	if err := c.TrySCRAMWith(SCRAM{}, user, password); err != nil {
		c.T.Fatal(err)
	}
	c.Restart()
	return c.Bind(resource)
}

// StopPolling stops keeping a request waiting, as a client that went
// away would: the session then runs into its inactivity timeout.
func (c *BOSHConn) StopPolling() {
	c.mu.Lock()
	c.ended = true
	c.mu.Unlock()
}

// Terminate ends the session with type='terminate' and payload.
func (c *BOSHConn) Terminate(payload string) {
	c.send(" type='terminate'", payload)
}
