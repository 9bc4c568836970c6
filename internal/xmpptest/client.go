// Package xmpptest is a raw-XML client for conformance tests: it writes
// exactly the bytes a test gives it and parses what the server answers into
// elements, so tests assert on the wire, not on our own client code.
package xmpptest

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"crypto/pbkdf2"

	"github.com/skald-xmpp/skald/internal/xml"
)

// Conn is a test client connection.
type Conn struct {
	T      testing.TB
	nc     net.Conn
	rd     *xml.Reader
	Header *xml.Element // the server's last stream header
	// Features is the last <stream:features/> received.
	Features *xml.Element
	Timeout  time.Duration
	// Lang, if set, is the xml:lang of every stream header OpenStream sends.
	Lang string
	// HeaderFormat, if set, is the stream header OpenStream sends, with
	// %s for the domain (a header of another style than ours).
	HeaderFormat string
}

// Dial connects to addr (no TLS yet).
func Dial(t testing.TB, addr string) *Conn {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	c := &Conn{T: t, nc: nc, Timeout: 5 * time.Second}
	t.Cleanup(func() { nc.Close() })
	c.newReader()
	return c
}

// NewConn is a client on nc, an established connection (a net.Pipe).
func NewConn(t testing.TB, nc net.Conn) *Conn {
	c := &Conn{T: t, nc: nc, Timeout: 5 * time.Second}
	t.Cleanup(func() { nc.Close() })
	c.newReader()
	return c
}

// DialTLS connects with direct TLS (XEP-0368).
func DialTLS(t testing.TB, addr string) *Conn {
	t.Helper()
	nc, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr, &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatalf("dial tls %s: %v", addr, err)
	}
	c := &Conn{T: t, nc: nc, Timeout: 5 * time.Second}
	t.Cleanup(func() { nc.Close() })
	c.newReader()
	return c
}

func (c *Conn) newReader() {
	c.rd = xml.NewReader(c.nc, xml.Limits{MaxStanzaBytes: 16 << 20, MaxDepth: 64, MaxAttrs: 256}, 0)
}

// Raw returns the network connection.
func (c *Conn) Raw() net.Conn { return c.nc }

// Sendf writes raw XML built with fmt.Sprintf.
func (c *Conn) Sendf(format string, args ...any) {
	c.T.Helper()
	c.Send(fmt.Sprintf(format, args...))
}

// Send writes raw XML.
func (c *Conn) Send(s string) {
	c.T.Helper()
	c.nc.SetWriteDeadline(time.Now().Add(c.Timeout))
	if _, err := io.WriteString(c.nc, s); err != nil {
		c.T.Fatalf("write: %v", err)
	}
}

// OpenStream sends a stream header to domain and reads the server's header
// and features.
func (c *Conn) OpenStream(domain string) {
	c.T.Helper()
	lang := ""
	if c.Lang != "" {
		lang = fmt.Sprintf(" xml:lang='%s'", c.Lang)
	}
	if c.HeaderFormat != "" {
		c.Sendf(c.HeaderFormat, domain)
	} else {
		c.Sendf(`<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='%s'%s version='1.0'>`, domain, lang)
	}
	c.ReadHeader()
	c.Features = c.Next()
	if !c.Features.Is("http://etherx.jabber.org/streams", "features") {
		c.T.Fatalf("expected stream features, got %s", c.Features)
	}
}

// ReadHeader reads the server's stream header.
func (c *Conn) ReadHeader() {
	c.T.Helper()
	c.nc.SetReadDeadline(time.Now().Add(c.Timeout))
	h, _, err := c.rd.ReadStreamStart()
	if err != nil {
		c.T.Fatalf("reading stream header: %v", err)
	}
	c.Header = h
}

// Next reads the next top-level element; it fails the test on error.
func (c *Conn) Next() *xml.Element {
	c.T.Helper()
	el, err := c.TryNext()
	if err != nil {
		c.T.Fatalf("reading element: %v", err)
	}
	return el
}

// TryNext reads the next top-level element or returns the error
// (xml.ErrStreamEnd when the server closed its stream).
func (c *Conn) TryNext() (*xml.Element, error) {
	c.nc.SetReadDeadline(time.Now().Add(c.Timeout))
	return c.rd.Next()
}

// Expect reads elements until one satisfies match, failing after the
// timeout; skipped elements are returned too, for tests that care.
func (c *Conn) Expect(match func(*xml.Element) bool) *xml.Element {
	c.T.Helper()
	for {
		el := c.Next()
		if match(el) {
			return el
		}
	}
}

// ExpectStreamError reads until a stream error and returns its condition.
func (c *Conn) ExpectStreamError() string {
	c.T.Helper()
	for {
		el, err := c.TryNext()
		if err != nil {
			c.T.Fatalf("expected a stream error, got %v", err)
		}
		if el.Is("http://etherx.jabber.org/streams", "error") {
			if cond := el.FirstElement(); cond != nil {
				return cond.Local
			}
			return ""
		}
	}
}

// ExpectClosed checks that the server ends the stream and the connection.
func (c *Conn) ExpectClosed() {
	c.T.Helper()
	for {
		_, err := c.TryNext()
		if err == nil {
			continue
		}
		if errors.Is(err, xml.ErrStreamEnd) || errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) || strings.Contains(err.Error(), "EOF") || strings.Contains(err.Error(), "reset") {
			return
		}
		c.T.Fatalf("expected the stream to close, got %v", err)
	}
}

// StartTLS negotiates STARTTLS and opens a new stream.
func (c *Conn) StartTLS(domain string) {
	c.T.Helper()
	c.Send(`<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>`)
	if el := c.Next(); !el.Is("urn:ietf:params:xml:ns:xmpp-tls", "proceed") {
		c.T.Fatalf("expected proceed, got %s", el)
	}
	tc := tls.Client(c.nc, &tls.Config{InsecureSkipVerify: true, ServerName: domain})
	if err := tc.Handshake(); err != nil {
		c.T.Fatalf("TLS handshake: %v", err)
	}
	c.nc = tc
	c.newReader()
	c.OpenStream(domain)
}

// AuthPlain authenticates with SASL PLAIN and restarts the stream.
func (c *Conn) AuthPlain(domain, user, password string) {
	c.T.Helper()
	msg := base64.StdEncoding.EncodeToString([]byte("\x00" + user + "\x00" + password))
	c.Sendf(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>%s</auth>`, msg)
	if el := c.Next(); !el.Is("urn:ietf:params:xml:ns:xmpp-sasl", "success") {
		c.T.Fatalf("PLAIN auth failed: %s", el)
	}
	c.newReader()
	c.OpenStream(domain)
}

// AuthSCRAM authenticates with SCRAM-SHA-256 (no channel binding) and
// restarts the stream. It is a minimal independent client of RFC 5802.
func (c *Conn) AuthSCRAM(domain, user, password string) {
	c.T.Helper()
	if err := c.TrySCRAM(user, password); err != nil {
		c.T.Fatal(err)
	}
	c.newReader()
	c.OpenStream(domain)
}

// TrySCRAM runs a SCRAM-SHA-256 exchange and reports a failure as an error
// naming the SASL condition.
func (c *Conn) TrySCRAM(user, password string) error {
	return c.TrySCRAMWith(SCRAM{}, user, password)
}

// SCRAM is how TrySCRAMWith authenticates; the zero value is what
// TrySCRAM does: SCRAM-SHA-256 without channel binding.
type SCRAM struct {
	Mechanism string // default SCRAM-SHA-256; SCRAM-SHA-1(-PLUS) hashes with SHA-1, any other with SHA-256
	// GS2 is the GS2 header (RFC 5802 §7), default "n,,": "y,," claims
	// the client could bind but thinks the server cannot, "p=TYPE,,"
	// binds to Binding.
	GS2     string
	Binding []byte // channel binding data, sent after GS2 in c=
	// Pause is how long the client takes before its response, as a slow
	// client (or a user typing a password) would.
	Pause time.Duration
}

// TrySCRAMWith runs the exchange opt describes and checks the server
// signature on success; a failure is an error naming the SASL condition.
func (c *Conn) TrySCRAMWith(opt SCRAM, user, password string) error {
	return trySCRAM(c, opt, user, password)
}

// saslPeer is what a SCRAM exchange needs of a connection, over TCP
// (Conn) or WebSocket (WSConn).
type saslPeer interface {
	Sendf(format string, args ...any)
	Next() *xml.Element
}

func trySCRAM(c saslPeer, opt SCRAM, user, password string) error {
	_, err := scramExchange(c, opt, user, password, nil)
	return err
}

// sasl2Request is what a XEP-0388 <authenticate/> carries besides the
// mechanism and initial response: extra is raw XML added after them.
type sasl2Request struct{ extra string }

// scramExchange runs SCRAM over RFC 6120 SASL (v2 nil) or XEP-0388, and
// returns the server's last element.
func scramExchange(c saslPeer, opt SCRAM, user, password string, v2 *sasl2Request) (*xml.Element, error) {
	ns := "urn:ietf:params:xml:ns:xmpp-sasl"
	if v2 != nil {
		ns = nsSASL2
	}
	mech, gs2 := opt.Mechanism, opt.GS2
	if mech == "" {
		mech = "SCRAM-SHA-256"
	}
	if gs2 == "" {
		gs2 = "n,,"
	}
	var nb [12]byte
	rand.Read(nb[:])
	cnonce := hex.EncodeToString(nb[:])
	bare := "n=" + user + ",r=" + cnonce
	if v2 != nil {
		c.Sendf(`<authenticate xmlns='urn:xmpp:sasl:2' mechanism='%s'><initial-response>%s</initial-response>%s</authenticate>`,
			mech, base64.StdEncoding.EncodeToString([]byte(gs2+bare)), v2.extra)
	} else {
		c.Sendf(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='%s'>%s</auth>`,
			mech, base64.StdEncoding.EncodeToString([]byte(gs2+bare)))
	}
	el := c.Next()
	if !el.Is(ns, "challenge") {
		return el, fmt.Errorf("sasl: %s", saslCondition(el))
	}
	first, _ := base64.StdEncoding.DecodeString(el.Text())
	attrs := map[string]string{}
	for _, kv := range strings.Split(string(first), ",") {
		if len(kv) > 2 {
			attrs[kv[:1]] = kv[2:]
		}
	}
	salt, _ := base64.StdEncoding.DecodeString(attrs["s"])
	var iters int
	fmt.Sscan(attrs["i"], &iters)
	newHash, size := sha256.New, sha256.Size
	if strings.HasPrefix(mech, "SCRAM-SHA-1") {
		newHash, size = sha1.New, sha1.Size
	}
	salted, err := pbkdf2.Key(newHash, password, salt, iters, size)
	if err != nil {
		return nil, err
	}
	mac := func(key []byte, s string) []byte {
		h := hmac.New(newHash, key)
		h.Write([]byte(s))
		return h.Sum(nil)
	}
	clientKey := mac(salted, "Client Key")
	h := newHash()
	h.Write(clientKey)
	stored := h.Sum(nil)
	final := "c=" + base64.StdEncoding.EncodeToString(append([]byte(gs2), opt.Binding...)) + ",r=" + attrs["r"]
	authMsg := bare + "," + string(first) + "," + final
	sig := mac(stored, authMsg)
	proof := make([]byte, len(clientKey))
	for i := range proof {
		proof[i] = clientKey[i] ^ sig[i]
	}
	time.Sleep(opt.Pause)
	c.Sendf(`<response xmlns='%s'>%s</response>`, ns,
		base64.StdEncoding.EncodeToString([]byte(final+",p="+base64.StdEncoding.EncodeToString(proof))))
	el = c.Next()
	if !el.Is(ns, "success") {
		return el, fmt.Errorf("sasl: %s", saslCondition(el))
	}
	data := el.Text()
	if v2 != nil {
		data = el.ChildText(ns, "additional-data")
	}
	v, _ := base64.StdEncoding.DecodeString(data)
	if want := "v=" + base64.StdEncoding.EncodeToString(mac(mac(salted, "Server Key"), authMsg)); string(v) != want {
		return el, fmt.Errorf("sasl: server signature %q, want %q", v, want)
	}
	return el, nil
}

func saslCondition(el *xml.Element) string {
	if el.Is("urn:ietf:params:xml:ns:xmpp-sasl", "failure") || el.Is(nsSASL2, "failure") {
		if f := el.FirstElement(); f != nil {
			return f.Local
		}
	}
	return el.String()
}

// Bind binds a resource and returns the full JID.
func (c *Conn) Bind(resource string) string {
	c.T.Helper()
	r := ""
	if resource != "" {
		r = "<resource>" + resource + "</resource>"
	}
	c.Sendf(`<iq type='set' id='bind1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>%s</bind></iq>`, r)
	el := c.Next()
	j := el.Child("urn:ietf:params:xml:ns:xmpp-bind", "bind").ChildText("urn:ietf:params:xml:ns:xmpp-bind", "jid")
	if el.Attr("type") != "result" || j == "" {
		c.T.Fatalf("bind failed: %s", el)
	}
	return j
}

// Login does STARTTLS (if offered), PLAIN or SCRAM auth and binding.
func (c *Conn) Login(domain, user, password, resource string) string {
	c.T.Helper()
	c.OpenStream(domain)
	if c.Features.Child("urn:ietf:params:xml:ns:xmpp-tls", "starttls") != nil {
		c.StartTLS(domain)
	}
	c.AuthSCRAM(domain, user, password)
	return c.Bind(resource)
}

// Close sends the closing stream tag.
func (c *Conn) Close() {
	io.WriteString(c.nc, "</stream:stream>")
}
