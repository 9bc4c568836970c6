package s2s

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"net"
	"sync"
	"time"

	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/jid"
	"github.com/skald-xmpp/skald/stanza"
	"github.com/skald-xmpp/skald/stream"
)

// inStream is an incoming stream, as the receiving entity (RFC 6120
// §4.2). Its goroutine (run) reads and answers; Shutdown may write the
// stream's end concurrently, hence wmu, which also guards replacing nc
// by its TLS connection (only run does that, and run alone reads nc
// without the lock).
type inStream struct {
	s  *Server
	ip string

	nc        net.Conn
	rd        *xml.Reader
	id        string
	local     string // the header's 'to': a domain we serve
	peer      string // the header's 'from', "" if absent
	encrypted bool
	saslDone  bool
	// authed are the (receiving, originating) domain pairs verified on
	// this stream (by dialback or SASL EXTERNAL): XEP-0220 §2 verifies
	// one originating domain for one receiving domain, so a stanza
	// passes only from a verified domain to the domain it was verified
	// for.
	authed map[pair]bool
	// dialbacks and dialbackErrors count the db:result requests on this
	// stream and those whose verification got no answer: each costs a
	// connection to the claimed domain's server, so a peer gets a few.
	dialbacks, dialbackErrors int
	// saslFailures counts refused SASL attempts (RFC 6120 §6.4.5).
	saslFailures int
	// accepted is when the connection came: a stream must verify a
	// domain within unauthenticatedLimit of it, whatever it sends.
	accepted time.Time

	wmu    sync.Mutex
	closed bool
}

func (in *inStream) run() {
	in.accepted = time.Now()
	defer in.s.removeIn(in)
	defer in.nc.Close()
	err := in.serve()
	var se *stream.Error
	if errors.As(err, &se) {
		in.write(se.Bytes(), []byte(stream.Close))
		return
	}
	in.write([]byte(stream.Close))
}

// write writes to the peer unless the stream is closed.
func (in *inStream) write(b ...[]byte) error {
	in.wmu.Lock()
	defer in.wmu.Unlock()
	if in.closed {
		return net.ErrClosed
	}
	return writeAll(in.nc, in.s.cfg.ConnectTimeout, b...)
}

// close ends the stream from Shutdown: the end tag, then the socket,
// which ends run's read.
func (in *inStream) close() {
	in.wmu.Lock()
	nc := in.nc
	if !in.closed {
		writeAll(nc, time.Second, []byte(stream.Close))
		in.closed = true
	}
	in.wmu.Unlock()
	nc.Close()
}

func (in *inStream) limits() xml.Limits {
	return xml.Limits{MaxStanzaBytes: int64(in.s.cfg.MaxStanzaBytes), MaxDepth: 32, MaxAttrs: 64}
}

// open reads the initiating server's header and answers with ours and
// the features (RFC 6120 §4.3). A header error is a stream error sent
// after our own header (§4.9.1.1).
func (in *inStream) open() error {
	s := in.s
	in.rd = xml.NewReader(in.nc, in.limits(), 4096)
	in.nc.SetReadDeadline(time.Now().Add(s.cfg.ConnectTimeout))
	root, ns, err := in.rd.ReadStreamStart()
	if err != nil {
		if se := stream.FromReadError(err); se != nil {
			in.write(header("", "", newStreamID()))
			return se
		}
		return err
	}
	// RFC 7622 §3.2: compare domains in their normalised form, so that
	// O.TEST in the header and o.test in stanzas are one domain.
	to, toOK := plainDomain(root.Attr("to"))
	from, fromOK := plainDomain(root.Attr("from"))
	in.id = newStreamID()
	if in.local == "" && toOK {
		in.local = to
	}
	if err := in.write(header(in.local, from, in.id)); err != nil {
		return err
	}
	switch {
	case !root.Is(stream.NS, "stream"):
		return stream.New(stream.InvalidNamespace, "")
	case ns != stream.NSServer:
		return stream.New(stream.InvalidNamespace, "this is a server-to-server port")
	case !stream.VersionAtLeast1(root.Attr("version")):
		// RFC 6120 §4.7.5: a higher version (1.1, 2.0) is answered with
		// ours, 1.0; only one below it, or none (0.9), is unsupported.
		return stream.New(stream.UnsupportedVersion, "")
	case !toOK || to == "" || !s.r.IsHosted(to) || to != in.local:
		// §4.9.3.6; a 'to' with a localpart or resource is no host.
		return stream.New(stream.HostUnknown, "")
	case !fromOK:
		// §4.7.1: a server stream's 'from' is a domain; anything else
		// is no domain the peer could be authorized for (§4.9.3.9).
		return stream.New(stream.InvalidFrom, "")
	case from != "" && s.r.IsHosted(from):
		return stream.New(stream.InvalidFrom, "")
	}
	in.peer = from
	return in.write(in.features())
}

// features lists what the peer may do next: STARTTLS first (required
// with require_encryption, when dialback is not offered before it), then
// SASL EXTERNAL when its certificate is valid for its domain, and
// dialback (XEP-0220 §2.1; <errors/>: we understand type='error').
func (in *inStream) features() []byte {
	var fs []*xml.Element
	if !in.encrypted && in.s.tls != nil {
		tlsEl := xml.New(stream.NSTLS, "starttls")
		if in.s.cfg.RequireEncryption {
			tlsEl.Append(xml.New(stream.NSTLS, "required"))
		}
		fs = append(fs, tlsEl)
	}
	if in.encrypted && !in.saslDone && in.peer != "" && in.peerCertValid(in.peer) {
		m := xml.New(stream.NSSASL, "mechanisms")
		m.Append(xml.New(stream.NSSASL, "mechanism").AppendText("EXTERNAL"))
		fs = append(fs, m)
	}
	if in.encrypted || !in.s.cfg.RequireEncryption {
		fs = append(fs, xml.New(nsDialbackFeature, "dialback").Append(xml.New(nsDialbackErrors, "errors")))
	}
	return stream.Features(stream.NSServer, fs)
}

func (in *inStream) peerCertValid(domain string) bool {
	tc, ok := in.nc.(*tls.Conn)
	if !ok {
		return false
	}
	return in.s.certValidFor(tc.ConnectionState().PeerCertificates, domain, usageInitiating)
}

// serve runs the stream until it ends; a *stream.Error is sent by run.
func (in *inStream) serve() error {
	s := in.s
	if err := in.open(); err != nil {
		return err
	}
	for {
		// A stream that has verified no domain yet gets until
		// unauthenticatedLimit after its connection to do so, however
		// busy it keeps us (a db:verify before each read deadline must
		// not keep it open); then idle_timeout between stanzas.
		wait := s.cfg.IdleTimeout
		if len(in.authed) == 0 {
			wait = time.Until(in.accepted.Add(s.unauthenticatedLimit()))
		}
		el, err := readElement(in.rd, in.nc, wait)
		if err != nil {
			if se := stream.FromReadError(err); se != nil {
				return se
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				return stream.New(stream.ConnectionTimeout, "")
			}
			return err
		}
		switch {
		case el.Is(stream.NSTLS, "starttls"):
			err = in.startTLS()
		case el.Is(stream.NSSASL, "auth"):
			err = in.saslExternal(el)
		case el.Is(nsDialback, "result"):
			err = in.dialbackResult(el)
		case el.Is(nsDialback, "verify"):
			err = in.dialbackVerify(el)
		case stanza.IsStanza(el) && el.Space == stream.NSServer:
			err = in.stanza(el)
		default:
			err = stream.New(stream.UnsupportedStanzaType, "")
		}
		if err != nil {
			return err
		}
	}
}

// startTLS upgrades the connection (RFC 6120 §5.4.3.3) and restarts the
// stream. A client certificate is asked for, not required: it allows
// SASL EXTERNAL; without one, dialback remains.
func (in *inStream) startTLS() error {
	if in.encrypted || in.s.tls == nil {
		return stream.New(stream.PolicyViolation, "")
	}
	if err := in.write([]byte(`<proceed xmlns="` + stream.NSTLS + `"/>`)); err != nil {
		return err
	}
	cfg := in.s.tls.Clone()
	cfg.ClientAuth = tls.RequestClientCert
	cfg.NextProtos = nil
	tc := tls.Server(in.nc, cfg)
	tc.SetDeadline(time.Now().Add(in.s.cfg.ConnectTimeout))
	if err := tc.Handshake(); err != nil {
		return err
	}
	tc.SetDeadline(time.Time{})
	in.wmu.Lock()
	in.nc = tc
	in.wmu.Unlock()
	in.encrypted = true
	// RFC 6120 §5.4.3.3: what was learnt before TLS is discarded, so a
	// domain verified by dialback in the clear must be verified again.
	in.authed = make(map[pair]bool)
	return in.open()
}

// maxSASLFailures is how many refused SASL attempts an incoming stream
// may make; EXTERNAL fails the same way each time, so few are needed.
const maxSASLFailures = 3

// unauthenticatedLimit bounds how long an incoming stream may stay
// without a verified domain: TLS and one dialback verification may each
// take connect_timeout.
func (s *Server) unauthenticatedLimit() time.Duration { return 2 * s.cfg.ConnectTimeout }

// saslExternal authenticates the header's 'from' domain with its
// certificate (RFC 6120 §6.4, XEP-0178): the authorization identity, if
// any, must be that domain.
func (in *inStream) saslExternal(el *xml.Element) error {
	fail := func(cond string) error {
		if err := in.write([]byte(`<failure xmlns="` + stream.NSSASL + `"><` + cond + `/></failure>`)); err != nil {
			return err
		}
		// RFC 6120 §6.4.5: a reasonable number of retries (2 to 5),
		// then the stream ends, as c2s does.
		if in.saslFailures++; in.saslFailures >= maxSASLFailures {
			return stream.New(stream.PolicyViolation, "too many failed authentication attempts")
		}
		return nil
	}
	if in.saslDone || !in.encrypted {
		return stream.New(stream.PolicyViolation, "")
	}
	if el.Attr("mechanism") != "EXTERNAL" {
		return fail("invalid-mechanism")
	}
	if t := el.Text(); t != "" && t != "=" {
		authz, err := base64.StdEncoding.DecodeString(t)
		if err != nil {
			return fail("incorrect-encoding")
		}
		if string(authz) != in.peer {
			return fail("invalid-authzid")
		}
	}
	if in.peer == "" || !in.peerCertValid(in.peer) {
		return fail("not-authorized")
	}
	if err := in.write([]byte(`<success xmlns="` + stream.NSSASL + `"/>`)); err != nil {
		return err
	}
	in.s.counters.saslExternal.Inc()
	in.saslDone = true
	in.authed[pair{local: in.local, remote: in.peer}] = true
	in.s.peerAlive(in.peer)
	return in.open()
}

// maxDialbacks caps the db:result requests of one incoming stream (a
// few receiving domains of ours for the one originating domain), and
// maxDialbackErrors the verifications without an answer before the
// stream ends.
const (
	maxDialbacks      = 10
	maxDialbackErrors = 3
)

// dialbackResult is the receiving server's side of XEP-0220 §2.1-2.4: the
// originating server claims a domain with a key, which we verify with that
// domain's authoritative server before accepting stanzas from it.
func (in *inStream) dialbackResult(el *xml.Element) error {
	s := in.s
	key := el.Text()
	if el.Attr("from") == "" || el.Attr("to") == "" || key == "" {
		return stream.New(stream.BadFormat, "")
	}
	if s.cfg.RequireEncryption && !in.encrypted {
		return stream.New(stream.PolicyViolation, "TLS is required")
	}
	from, fromOK := plainDomain(el.Attr("from"))
	to, toOK := plainDomain(el.Attr("to"))
	if !toOK || !s.r.IsHosted(to) {
		return stream.New(stream.HostUnknown, "")
	}
	if !fromOK {
		return stream.New(stream.InvalidFrom, "")
	}
	if in.peer != "" && from != in.peer {
		return stream.New(stream.InvalidFrom, "")
	}
	if in.dialbacks++; in.dialbacks > maxDialbacks {
		// RFC 6120 §4.9.3.15: the peer breaks a local policy.
		return stream.New(stream.PolicyViolation, "too many dialback requests")
	}
	if s.cfg.RequireValidCertificates && !in.peerCertValid(from) {
		// Dialback alone does not authenticate under
		// require_valid_certificates; the stream may go on and try
		// another domain (XEP-0220 §2.4: type='error').
		return in.write(dbError(to, from, "policy-violation"))
	}
	if s.r.IsHosted(from) {
		// A peer claiming a domain we serve, as in the header (RFC 6120
		// §4.9.3.9): never verified, and never a connection to ourselves.
		return stream.New(stream.InvalidFrom, "")
	}
	ctx, cancel := context.WithTimeout(s.ctx, s.cfg.ConnectTimeout)
	valid, err := s.verifyKey(ctx, to, from, in.id, key)
	cancel()
	typ := "invalid"
	switch {
	case err != nil:
		// XEP-0220 §2.4: no answer from the authoritative server.
		s.log.Info("s2s: dialback verification failed", "domain", from, "err", err)
		if err := in.write(dbError(to, from, "remote-connection-failed")); err != nil {
			return err
		}
		if in.dialbackErrors++; in.dialbackErrors >= maxDialbackErrors {
			// RFC 6120 §4.9.3.16: we cannot reach the server needed
			// to authenticate the peer; retrying on this stream is
			// not worth more connections.
			return stream.New(stream.RemoteConnectionFailed, "")
		}
		return nil
	case valid:
		typ = "valid"
		s.counters.dialbackValid.Inc()
		in.authed[pair{local: to, remote: from}] = true
		s.peerAlive(from)
	default:
		s.counters.dialbackInvalid.Inc()
	}
	if err := in.write(dbElement("result", to, from, "", typ, "")); err != nil {
		return err
	}
	if !valid {
		// XEP-0220 §2.4: an invalid key ends the stream.
		return stream.New(stream.NotAuthorized, "")
	}
	return nil
}

// dialbackVerify is the authoritative server's side (XEP-0220 §2.3): a
// receiving server asks whether a key for a stream id is ours.
func (in *inStream) dialbackVerify(el *xml.Element) error {
	s := in.s
	id, key := el.Attr("id"), el.Text()
	if el.Attr("from") == "" || el.Attr("to") == "" || id == "" {
		return stream.New(stream.BadFormat, "")
	}
	from, fromOK := plainDomain(el.Attr("from"))
	to, toOK := plainDomain(el.Attr("to"))
	if !toOK || !s.r.IsHosted(to) {
		return stream.New(stream.HostUnknown, "")
	}
	if !fromOK {
		return stream.New(stream.InvalidFrom, "")
	}
	typ := "invalid"
	if keyEqual(key, DialbackKey(s.secret, from, to, id)) {
		typ = "valid"
	}
	return in.write(dbElement("verify", to, from, id, typ, ""))
}

// stanza hands a stanza to the router once its 'from' domain is verified
// on this stream for its 'to' domain (RFC 6120 §4.9.3.12 not-authorized
// before any, §4.9.3.9 invalid-from for a pair not verified, §4.9.3.7
// improper-addressing for a 'from' or 'to' that is missing or no JID at
// all, §4.9.3.6 host-unknown for a 'to' we do not serve).
func (in *inStream) stanza(el *xml.Element) error {
	if len(in.authed) == 0 {
		return stream.New(stream.NotAuthorized, "")
	}
	from, err := jid.Parse(el.Attr("from"))
	if err != nil {
		return stream.New(stream.ImproperAddressing, "")
	}
	to, err := jid.Parse(el.Attr("to"))
	if err != nil {
		return stream.New(stream.ImproperAddressing, "")
	}
	if !in.s.r.IsHosted(to.Domain()) {
		return stream.New(stream.HostUnknown, "")
	}
	if !in.authed[pair{local: to.Domain(), remote: from.Domain()}] {
		return stream.New(stream.InvalidFrom, "")
	}
	in.s.counters.stanzasIn.Inc()
	toClientNS(el)
	return in.s.r.HandleFromRemote(in.s.ctx, from.Domain(), el)
}

// plainDomain normalises a domain name as jid does (RFC 7622 §3.2) and
// reports whether s is one: no localpart, no resource. "" is "", true.
func plainDomain(s string) (string, bool) {
	if s == "" {
		return "", true
	}
	j, err := jid.Parse(s)
	if err != nil || j.Local() != "" || j.IsFull() {
		return "", false
	}
	return j.Domain(), true
}
