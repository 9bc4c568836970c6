package s2s

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/stream"
)

// peerConn is an outgoing connection to a remote server whose stream is
// open, as the initiating entity (RFC 6120 §4.2).
type peerConn struct {
	nc        net.Conn
	rd        *xml.Reader
	id        string       // the receiving server's stream id
	features  *xml.Element // the last <stream:features/>
	encrypted bool
	certValid bool // the peer's certificate is valid for its domain
}

// errNotFound and errTimeout classify why a remote domain cannot be
// reached: stanzas bounce with remote-server-not-found for a domain that
// does not resolve (RFC 6120 §8.3.3.15) and remote-server-timeout for one
// that resolved but could not be reached or authenticated (§8.3.3.16).
var (
	errNotFound = errors.New("s2s: remote server not found")
	errTimeout  = errors.New("s2s: remote server timeout")
)

// connect opens a stream from local to remote, with TLS when the peer
// offers it (required with require_encryption), trying each resolved
// target in turn.
func (s *Server) connect(ctx context.Context, local, remote string) (*peerConn, error) {
	targets, err := resolve(ctx, s.resolver, s.cfg.Routes, remote)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errNotFound, err)
	}
	var last error
	for _, t := range targets {
		addrs, err := s.addresses(ctx, t.addr)
		if err != nil {
			last = err
			continue
		}
		for _, addr := range addrs {
			var d net.Dialer
			nc, err := d.DialContext(ctx, "tcp", addr)
			if err != nil {
				last = err
				continue
			}
			pc, err := s.open(ctx, nc, t.directTLS, local, remote)
			if err != nil {
				nc.Close()
				last = err
				continue
			}
			return pc, nil
		}
	}
	if _, ok := s.cfg.Routes[remote]; !ok && isDNSNotFound(last) {
		return nil, fmt.Errorf("%w: %v", errNotFound, last)
	}
	return nil, fmt.Errorf("%w: %v", errTimeout, last)
}

// addresses resolves a target's host (RFC 6120 §3.2.1 step 5: A/AAAA
// of the SRV target) with the server's resolver.
func (s *Server) addresses(ctx context.Context, hostport string) ([]string, error) {
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		return nil, err
	}
	if net.ParseIP(host) != nil {
		return []string{hostport}, nil
	}
	ips, err := s.resolver.LookupHost(ctx, host)
	if err != nil {
		return nil, err
	}
	if len(ips) > maxAddresses {
		ips = ips[:maxAddresses]
	}
	out := make([]string, len(ips))
	for i, ip := range ips {
		out[i] = net.JoinHostPort(ip, port)
	}
	return out, nil
}

func isDNSNotFound(err error) bool {
	var de *net.DNSError
	return errors.As(err, &de) && de.IsNotFound
}

// open negotiates the stream on nc up to TLS.
func (s *Server) open(ctx context.Context, nc net.Conn, directTLS bool, local, remote string) (*peerConn, error) {
	if dl, ok := ctx.Deadline(); ok {
		nc.SetDeadline(dl)
	}
	pc := &peerConn{nc: nc}
	if directTLS {
		if err := pc.startTLS(s, remote, []string{alpnServer}); err != nil {
			return nil, err
		}
	}
	if err := pc.restart(s, local, remote); err != nil {
		return nil, err
	}
	if !pc.encrypted {
		if pc.features.Child(stream.NSTLS, "starttls") != nil {
			if err := writeAll(pc.nc, s.cfg.ConnectTimeout, []byte(`<starttls xmlns="`+stream.NSTLS+`"/>`)); err != nil {
				return nil, err
			}
			el, err := pc.next(s)
			if err != nil {
				return nil, err
			}
			if !el.Is(stream.NSTLS, "proceed") {
				return nil, errors.New("s2s: STARTTLS refused")
			}
			if err := pc.startTLS(s, remote, nil); err != nil {
				return nil, err
			}
			if err := pc.restart(s, local, remote); err != nil {
				return nil, err
			}
		} else if s.cfg.RequireEncryption {
			return nil, errors.New("s2s: peer offers no STARTTLS and require_encryption is set")
		}
	}
	return pc, nil
}

// startTLS secures the connection. The peer's certificate is checked
// after the handshake, not during it: an invalid one (self-signed, as on
// a fresh install) still allows dialback, which authenticates through
// DNS instead (XEP-0220 §1); only SASL EXTERNAL needs it valid.
func (pc *peerConn) startTLS(s *Server, remote string, alpn []string) error {
	cfg := &tls.Config{
		ServerName:         remote,
		InsecureSkipVerify: true, // verified below, see above
		NextProtos:         alpn,
		MinVersion:         tls.VersionTLS12,
	}
	if s.tls != nil {
		// Our certificate, for the peer's SASL EXTERNAL (RFC 6120 §13.7.2).
		cfg.Certificates = s.tls.Certificates
	}
	tc := tls.Client(pc.nc, cfg)
	if err := tc.Handshake(); err != nil {
		return err
	}
	pc.nc, pc.encrypted = tc, true
	pc.certValid = s.certValidFor(tc.ConnectionState().PeerCertificates, remote, usageReceiving)
	return nil
}

// The extended key usages a peer's certificate must allow (RFC 6120
// §13.7.1.3, as deployed): serverAuth for a receiving server (the one we
// connect to), clientAuth or serverAuth for an initiating server (many
// servers present their one serverAuth certificate both ways). Never
// x509.ExtKeyUsageAny in the list: that would accept any usage, e.g. an
// e-mail signing certificate. A certificate without the extension is
// valid for every usage (RFC 5280 §4.2.1.12).
var (
	usageReceiving  = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	usageInitiating = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth, x509.ExtKeyUsageServerAuth}
)

// certValidFor reports whether a peer's certificate chain is valid for
// domain (RFC 6120 §13.7.2, RFC 6125 DNS-ID) and one of usages.
func (s *Server) certValidFor(chain []*x509.Certificate, domain string, usages []x509.ExtKeyUsage) bool {
	if len(chain) == 0 {
		return false
	}
	inter := x509.NewCertPool()
	for _, c := range chain[1:] {
		inter.AddCert(c)
	}
	_, err := chain[0].Verify(x509.VerifyOptions{
		DNSName: domain, Roots: s.roots, Intermediates: inter,
		KeyUsages: usages,
	})
	return err == nil
}

// restart sends a stream header and reads the peer's header and
// features (RFC 6120 §4.3: after TLS and SASL the stream restarts).
func (pc *peerConn) restart(s *Server, local, remote string) error {
	pc.rd = xml.NewReader(pc.nc, xml.Limits{MaxStanzaBytes: int64(s.cfg.MaxStanzaBytes), MaxDepth: 32, MaxAttrs: 64}, 4096)
	if err := writeAll(pc.nc, s.cfg.ConnectTimeout, header(local, remote, "")); err != nil {
		return err
	}
	pc.nc.SetReadDeadline(time.Now().Add(s.cfg.ConnectTimeout))
	root, ns, err := pc.rd.ReadStreamStart()
	if err != nil {
		return err
	}
	if ns != stream.NSServer || !root.Is(stream.NS, "stream") {
		return errors.New("s2s: peer's stream is not a server stream")
	}
	if pc.id = root.Attr("id"); pc.id == "" {
		return errors.New("s2s: peer's stream has no id")
	}
	el, err := pc.next(s)
	if err != nil {
		return err
	}
	if !el.Is(stream.NS, "features") {
		return errors.New("s2s: no stream features")
	}
	pc.features = el
	return nil
}

func (pc *peerConn) next(s *Server) (*xml.Element, error) {
	return readElement(pc.rd, pc.nc, s.cfg.ConnectTimeout)
}

// offersExternal reports whether the peer offers SASL EXTERNAL.
func (pc *peerConn) offersExternal() bool {
	mechs := pc.features.Child(stream.NSSASL, "mechanisms")
	if mechs == nil {
		return false
	}
	for _, m := range mechs.ChildrenNamed(stream.NSSASL, "mechanism") {
		if m.Text() == "EXTERNAL" {
			return true
		}
	}
	return false
}

// authenticate authenticates local to remote on an open stream: SASL
// EXTERNAL when the peer's certificate is valid and it offers EXTERNAL
// (RFC 6120 §13.7.2, XEP-0178), else XEP-0220 dialback.
func (s *Server) authenticate(pc *peerConn, local, remote string) error {
	if s.cfg.RequireValidCertificates && !pc.certValid {
		return errors.New("s2s: peer's certificate is not valid for its domain and require_valid_certificates is set")
	}
	if pc.certValid && pc.offersExternal() {
		// XEP-0178 §4: the authorization identity is our domain.
		authzid := base64.StdEncoding.EncodeToString([]byte(local))
		if err := writeAll(pc.nc, s.cfg.ConnectTimeout, []byte(`<auth xmlns="`+stream.NSSASL+`" mechanism="EXTERNAL">`+authzid+`</auth>`)); err != nil {
			return err
		}
		el, err := pc.next(s)
		if err != nil {
			return err
		}
		if el.Is(stream.NSSASL, "success") {
			s.counters.saslExternal.Inc()
			return pc.restart(s, local, remote)
		}
		// A peer may offer EXTERNAL for any chain it trusts and then
		// find our certificate not valid for our domain; dialback, when
		// offered too, still authenticates us (XEP-0178 §4, XEP-0220 §1).
		if pc.features.Child(nsDialbackFeature, "dialback") == nil {
			return errors.New("s2s: SASL EXTERNAL refused")
		}
	}
	if s.cfg.RequireEncryption && !pc.encrypted {
		return errors.New("s2s: unencrypted stream")
	}
	key := DialbackKey(s.secret, remote, local, pc.id)
	if err := writeAll(pc.nc, s.cfg.ConnectTimeout, dbElement("result", local, remote, "", "", key)); err != nil {
		return err
	}
	for {
		el, err := pc.next(s)
		if err != nil {
			return err
		}
		if !el.Is(nsDialback, "result") || el.Attr("from") != remote || el.Attr("to") != local {
			continue // nothing else is expected before the answer
		}
		if el.Attr("type") == "valid" {
			return nil
		}
		return fmt.Errorf("s2s: dialback %s", el.Attr("type"))
	}
}
