package c2s

import (
	"context"
	"encoding/base64"
	"errors"
	"net"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/jid"
	"github.com/skald-xmpp/skald/sasl"
	"github.com/skald-xmpp/skald/storage"
	"github.com/skald-xmpp/skald/stream"
)

// maxAuthAttempts is how many failed SASL exchanges one stream may have
// before it is closed (RFC 6120 §6.4.5 suggests 2 to 5).
const maxAuthAttempts = 5

// cbInfo returns the channel bindings of the connection's TLS, if any. The
// TLS state is asked for each time (twice per login) rather than kept, as
// every idle connection would keep it.
func (c *conn) cbInfo() sasl.ChannelBindingInfo {
	info := sasl.ChannelBindingInfoFor(c.transportTLS())
	if c.transport != nil && c.transport.Confidential {
		// Encrypted by a proxy: PLAIN may go, but there is no TLS here
		// to bind to (info.Bindings stays as the state under it gives).
		info.TLS = true
	}
	return info
}

// saslInfo is what the SASL layer is told of the connection: cbInfo,
// without its channel bindings where the configuration offers no -PLUS
// mechanism, so that none is announced (XEP-0440) and a client that
// could bind but sees no -PLUS is not refused as downgraded (the "y"
// GS2 flag, RFC 5802 §6).
func (c *conn) saslInfo() sasl.ChannelBindingInfo {
	info := c.cbInfo()
	if m := c.srv.cfg.Mechanisms; m != nil && !slices.Contains(m, sasl.ScramSHA256Plus) && !slices.Contains(m, sasl.ScramSHA1Plus) {
		info.Bindings = nil
	}
	return info
}

// offeredMechanisms are the mechanisms the connection offers: those the
// SASL layer allows on it, less those the configuration leaves out.
func (c *conn) offeredMechanisms(info sasl.ChannelBindingInfo) []string {
	all := info.Mechanisms()
	if c.srv.cfg.Mechanisms == nil {
		return all
	}
	return slices.DeleteFunc(all, func(m string) bool { return !slices.Contains(c.srv.cfg.Mechanisms, m) })
}

// mechanisms returns the SASL stream feature (and the XEP-0440 channel
// binding types when -PLUS is offered); none if no mechanism is (PLAIN
// alone before TLS).
func (c *conn) mechanisms() []*xml.Element {
	info := c.saslInfo()
	names := c.offeredMechanisms(info)
	if len(names) == 0 {
		return nil
	}
	m := xml.New(stream.NSSASL, "mechanisms")
	for _, name := range names {
		m.Append(xml.New(stream.NSSASL, "mechanism").AppendText(name))
	}
	out := []*xml.Element{m}
	if types := info.Types(); len(types) > 0 {
		cb := xml.New("urn:xmpp:sasl-cb:0", "sasl-channel-binding")
		for _, t := range types {
			cb.Append(xml.New("urn:xmpp:sasl-cb:0", "channel-binding", "type", t))
		}
		out = append(out, cb)
	}
	return out
}

// saslProfile is the XML binding of a SASL exchange: RFC 6120 §6.4's
// (<auth/>, then a stream restart) or XEP-0388's (<authenticate/>, no
// restart, extensible success). The mechanisms, limits and failure
// accounting are the same for both (saslExchange).
type saslProfile struct {
	ns string // of challenge, response, abort, success and failure
	// v2: XEP-0388. Its initial response is an element that is present
	// or not (absent: no initial response; empty: empty data), where RFC
	// 6120 uses the text of <auth/> with "=" for empty data.
	v2 bool
}

var (
	profileRFC6120 = saslProfile{ns: stream.NSSASL}
	profileSASL2   = saslProfile{ns: NSSASL2, v2: true}
)

// failure is the <failure/> of a profile: the RFC 6120 §6.5 condition
// (always in the urn:ietf:params:xml:ns:xmpp-sasl namespace, XEP-0388
// §2.6.2 included) and optional text.
func (p saslProfile) failure(condition, text string) []byte {
	f := xml.New(p.ns, "failure").Append(xml.New(stream.NSSASL, condition))
	if text != "" {
		t := xml.New(p.ns, "text")
		t.Attrs = append(t.Attrs, xml.Attr{Space: xml.NSXML, Local: "lang", Value: "en"})
		f.Append(t.AppendText(text))
	}
	return f.Bytes(stream.NSClient)
}

func (c *conn) saslFailure(condition, text string) error {
	return c.push(profileRFC6120.failure(condition, text))
}

// authenticate runs one RFC 6120 SASL exchange (§6.4). It returns
// restart=true on success.
func (c *conn) authenticate(auth *xml.Element) (bool, error) {
	ok, out, _, err := c.saslExchange(profileRFC6120, auth.Attr("mechanism"), auth.Text(), true)
	if !ok || err != nil {
		return false, err
	}
	succ := xml.New(stream.NSSASL, "success")
	if len(out) > 0 {
		succ.AppendText(base64.StdEncoding.EncodeToString(out))
	}
	if err := c.push(succ.Bytes(stream.NSClient)); err != nil {
		return false, err
	}
	c.rd.Restart()
	c.rd.SetLimits(c.limits())
	return true, nil
}

// saslAllowed runs the checks before any exchange, whatever its
// mechanism: not authenticated yet, encrypted where required, the
// client's address not over its failed-login limit. ok is false when the
// attempt was refused (and answered; err then only ends the stream); ip
// is the client's address, for the failure accounting.
func (c *conn) saslAllowed(p saslProfile) (ip string, ok bool, err error) {
	if c.user != "" {
		// RFC 6120 §6.4.1; XEP-0388 §6.8: once authenticated, a further
		// attempt is a stream error.
		return "", false, stream.New(stream.PolicyViolation, "already authenticated")
	}
	if c.tlsRequiredPending() || (p.v2 && !c.cbInfo().TLS) {
		// XEP-0388 §5: SASL2 only after TLS.
		return "", false, c.push(p.failure("encryption-required", ""))
	}
	ip = remoteIP(c.raw)
	if !c.srv.limit.allow("ip:" + ip) {
		c.srv.counters.authFailures.Inc()
		return "", false, c.push(p.failure("temporary-auth-failure", "too many failed attempts; wait a minute"))
	}
	return ip, true, nil
}

// saslExchange runs the mechanism part of a SASL exchange in profile p:
// the checks before it, the challenges and responses, and a failure's
// answer and accounting. initial is the initial response as sent (present
// tells whether there was one, for XEP-0388). On success it sets c.user
// and returns the mechanism's additional data for <success/> and the
// account's credentials the login was checked against (as completed by
// completeCredentials); ok is false when the exchange failed and was
// answered (err then only ends the stream).
func (c *conn) saslExchange(p saslProfile, mech, initial string, present bool) (ok bool, out []byte, creds storage.Credentials, err error) {
	ip, ok, err := c.saslAllowed(p)
	if !ok {
		return false, nil, creds, err
	}
	info := c.saslInfo()
	if !slices.Contains(c.offeredMechanisms(info), mech) {
		enabled := c.srv.cfg.Mechanisms == nil || slices.Contains(c.srv.cfg.Mechanisms, mech)
		if !info.TLS && enabled && slices.Contains(sasl.Mechanisms(true, true), mech) {
			// One we have, but only over TLS (PLAIN, and -PLUS, which
			// binds to it): RFC 6120 §6.5.4.
			return false, nil, creds, c.push(p.failure("encryption-required", ""))
		}
		return false, nil, creds, c.push(p.failure("invalid-mechanism", ""))
	}
	var limitedName, triedName string
	var seen storage.Credentials // what the lookup found, for completeCredentials
	lookup := func(name string) (sasl.Credentials, bool, error) {
		triedName = name
		if !c.srv.limit.allow("user:" + name + "@" + c.domain) {
			limitedName = name
			return sasl.Credentials{}, false, errRateLimited
		}
		cr, err := c.srv.users.UserCredentials(context.Background(), name+"@"+c.domain)
		if errors.Is(err, storage.ErrNotFound) {
			return sasl.Credentials{}, false, nil
		}
		if err != nil {
			return sasl.Credentials{}, false, err
		}
		seen = cr
		return toSASL(cr), true, nil
	}
	normalise := func(name string) (string, error) {
		j, err := jid.New(name, c.domain, "")
		if err != nil {
			return "", err
		}
		return j.Local(), nil
	}
	srv, err := sasl.NewServer(mech, lookup, info, normalise,
		sasl.WithAuthorizer(sasl.AllowOwnBareJID(c.domain, normalise)))
	if err != nil {
		return false, nil, creds, c.push(p.failure("invalid-mechanism", ""))
	}
	in, ok := p.decode(initial, present)
	if !ok {
		return false, nil, creds, c.push(p.failure("incorrect-encoding", ""))
	}
	for {
		out, done, err := srv.Step(in)
		if err == nil && done && p.v2 && !c.authzidMatchesHeader(srv.AuthzID()) {
			// XEP-0388 §2.3: a non-empty authorization identity that is
			// not the stream header's 'from' MUST fail.
			err = &sasl.Failure{Condition: "invalid-authzid"}
		}
		if err != nil {
			return false, nil, creds, c.authFailed(p, err, ip, triedName, limitedName)
		}
		if done {
			if refused, err := c.refuseDisabled(p, srv.Username()); refused || err != nil {
				return false, nil, creds, err
			}
			c.user = srv.Username()
			c.authFails = 0
			if cc, ok := srv.(sasl.CredentialCompleter); ok {
				seen = c.completeCredentials(cc, seen)
			}
			c.log = newConnLogger(c, c.user+"@"+c.domain, "")
			c.log.Info("c2s authenticated", "mechanism", mech, "sasl2", p.v2)
			return true, out, seen, nil
		}
		ch := xml.New(p.ns, "challenge")
		if len(out) > 0 {
			ch.AppendText(base64.StdEncoding.EncodeToString(out))
		}
		if err := c.push(ch.Bytes(stream.NSClient)); err != nil {
			return false, nil, creds, err
		}
		resp, err := c.rd.Next()
		if err != nil {
			return false, nil, creds, err
		}
		switch {
		case resp.Is(p.ns, "response"):
			if in, ok = p.decode(resp.Text(), true); !ok {
				return false, nil, creds, c.push(p.failure("incorrect-encoding", ""))
			}
		case resp.Is(p.ns, "abort"):
			return false, nil, creds, c.push(p.failure("aborted", ""))
		default:
			// RFC 6120 §6.4; XEP-0388 §2.4: anything else during the
			// exchange ends the stream.
			return false, nil, creds, stream.New(stream.NotAuthorized, "")
		}
	}
}

// decode decodes SASL data as the profile carries it.
func (p saslProfile) decode(s string, present bool) ([]byte, bool) {
	if !p.v2 {
		return decodeSASL(s)
	}
	if !present {
		return nil, true
	}
	// The XEP's own examples wrap the data in whitespace (§2.3), which
	// it says SHOULD NOT be there (§2.2): around it, it is tolerated.
	s = strings.Trim(s, " \t\r\n")
	if s == "" {
		return []byte{}, true
	}
	return decodeSASL(s)
}

// authzidMatchesHeader reports whether a requested authorization identity
// is the bare JID the stream header's 'from' names, if it names one.
func (c *conn) authzidMatchesHeader(authzid string) bool {
	if authzid == "" {
		return true
	}
	c.hdrMu.Lock()
	peer := c.peer
	c.hdrMu.Unlock()
	if peer == "" {
		return true
	}
	a, err := jid.Parse(authzid)
	return err == nil && a.Bare().String() == peer
}

var errRateLimited = errors.New("c2s: authentication rate limited")

// completeCredentials stores, after a PLAIN login, the SCRAM credentials
// the account lacked, derived from its password (sasl.CredentialCompleter):
// an account imported with SCRAM-SHA-1 keys only (Prosody's default)
// can then log in with SCRAM-SHA-256, which most clients choose. The
// iteration count is register's (sasl.DefaultIterations), or the kept
// credential's if that is higher, so that the new one is no cheaper to
// attack. The write happens only if the account's credentials are still
// the ones the password was checked against (storage.Users'
// ReplaceUserCredentials, atomic): a password change that came first is
// not undone with keys derived from the old password. The login succeeds
// whatever happens here. Storing credentials ends the account's
// XEP-0484 tokens (storage.Users), so the one time this happens the
// account's other clients log in with the password again; a token this
// login asks for is issued after it. It returns the credentials stored
// now as far as this login knows: the completed ones, or seen.
func (c *conn) completeCredentials(cc sasl.CredentialCompleter, seen storage.Credentials) storage.Credentials {
	iterations := sasl.DefaultIterations
	for _, kept := range []storage.Credential{seen.SHA1, seen.SHA256} {
		if kept.Iterations > iterations && kept.Iterations <= sasl.MaxIterations {
			iterations = kept.Iterations
		}
	}
	creds, complete, err := cc.CompleteCredentials(iterations)
	if err != nil {
		c.log.Warn("c2s cannot derive missing SCRAM credentials", "err", err)
		return seen
	}
	if !complete {
		return seen
	}
	completed := fromSASL(creds)
	replaced, err := c.srv.users.ReplaceUserCredentials(context.Background(), c.user+"@"+c.domain, seen, completed)
	if err != nil {
		c.log.Warn("c2s cannot store derived SCRAM credentials", "err", err)
		return seen
	}
	if !replaced {
		return seen // changed since the lookup
	}
	c.log.Info("c2s stored the SCRAM credentials the account lacked, derived from its PLAIN login")
	return completed
}

// disabledText is the text of <account-disabled/>. The operator's
// reason (storage.AccountStatus.Reason) is not sent: it is a note for
// operators, which may name whoever reported the account.
const disabledText = "this account is disabled; contact the server's administrator"

// refuseDisabled answers an exchange whose credentials were right with
// <account-disabled/> (RFC 6120 §6.5.1) when an operator disabled the
// account (skald user disable, or XEP-0133 disable-user). It runs only
// after the proof, so that the condition tells nothing to someone
// without the password; every mechanism and the authentication before a
// XEP-0198 resumption come through here. The store is asked at each
// login, so an account the CLI disabled in another process is refused
// at once. A failed lookup is temporary-auth-failure.
func (c *conn) refuseDisabled(p saslProfile, name string) (bool, error) {
	st, err := c.srv.users.UserStatus(context.Background(), name+"@"+c.domain)
	if err != nil {
		c.log.Error("c2s account status lookup failed", "err", err)
		c.srv.counters.authFailures.Inc()
		return true, c.push(p.failure("temporary-auth-failure", ""))
	}
	if !st.Disabled {
		return false, nil
	}
	c.srv.counters.authDisabled.Inc()
	c.log.Info("c2s authentication refused: account disabled", "user", name+"@"+c.domain)
	if err := c.push(p.failure("account-disabled", disabledText)); err != nil {
		return true, err
	}
	// A client that retries for ever (each try costs a store read) is
	// cut off as one with a wrong password would be.
	c.authFails++
	if c.authFails >= maxAuthAttempts {
		return true, stream.New(stream.PolicyViolation, "too many failed authentication attempts")
	}
	return true, nil
}

// authFailed answers a failed exchange and counts it against the client's
// address and the account name, whether or not that account exists.
func (c *conn) authFailed(p saslProfile, err error, ip, triedName, limitedName string) error {
	var f *sasl.Failure
	cond := "not-authorized"
	text := ""
	if errors.As(err, &f) {
		cond, text = f.Condition, f.Text
	}
	if limitedName != "" {
		cond, text = "temporary-auth-failure", "too many failed attempts; wait a minute"
	}
	if cond == "temporary-auth-failure" && limitedName == "" && !errors.Is(err, errRateLimited) {
		c.log.Error("c2s credential lookup failed", "err", err)
	}
	c.srv.limit.fail("ip:" + ip)
	if triedName != "" {
		c.srv.limit.fail("user:" + triedName + "@" + c.domain)
	}
	c.authFails++
	c.srv.counters.authFailures.Inc()
	c.log.Info("c2s authentication failed", "condition", cond)
	if err := c.push(p.failure(cond, text)); err != nil {
		return err
	}
	if c.authFails >= maxAuthAttempts {
		return stream.New(stream.PolicyViolation, "too many failed authentication attempts")
	}
	return nil
}

// decodeSASL decodes the text of <auth/> or <response/>: empty means no
// data, "=" means empty data (RFC 6120 §6.4.2). Characters outside the
// base64 alphabet are refused (RFC 4648 §3.3: MUST; RFC 6120 §6.5.2),
// line breaks included, which encoding/base64 would skip.
func decodeSASL(s string) ([]byte, bool) {
	switch s {
	case "":
		return nil, true
	case "=":
		return []byte{}, true
	}
	for i := 0; i < len(s); i++ {
		if s[i] == '\r' || s[i] == '\n' {
			return nil, false
		}
	}
	b, err := base64.StdEncoding.DecodeString(s)
	return b, err == nil
}

func toSASL(c storage.Credentials) sasl.Credentials {
	conv := func(x storage.Credential) sasl.Credential {
		return sasl.Credential{Salt: x.Salt, Iterations: x.Iterations, StoredKey: x.StoredKey, ServerKey: x.ServerKey}
	}
	return sasl.Credentials{SHA1: conv(c.SHA1), SHA256: conv(c.SHA256)}
}

func fromSASL(c sasl.Credentials) storage.Credentials {
	conv := func(x sasl.Credential) storage.Credential {
		return storage.Credential{Salt: x.Salt, Iterations: x.Iterations, StoredKey: x.StoredKey, ServerKey: x.ServerKey}
	}
	return storage.Credentials{SHA1: conv(c.SHA1), SHA256: conv(c.SHA256)}
}

func remoteIP(nc net.Conn) string {
	host, _, err := net.SplitHostPort(nc.RemoteAddr().String())
	if err != nil {
		return nc.RemoteAddr().String()
	}
	return host
}

// authLimiter counts failed authentications per key ("ip:ADDRESS",
// "user:JID") in one-minute windows.
type authLimiter struct {
	perIP, perUser int
	mu             sync.Mutex
	window         time.Time
	fails          map[string]int
}

func newAuthLimiter(perIP, perUser int) *authLimiter {
	return &authLimiter{perIP: perIP, perUser: perUser, fails: make(map[string]int)}
}

func (l *authLimiter) roll() {
	if now := time.Now(); now.Sub(l.window) >= time.Minute {
		l.window = now
		clear(l.fails)
	}
}

// allow reports whether key may try again.
func (l *authLimiter) allow(key string) bool {
	limit := l.perIP
	if strings.HasPrefix(key, "user:") {
		limit = l.perUser
	}
	if limit <= 0 {
		return true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.roll()
	return l.fails[key] < limit
}

func (l *authLimiter) fail(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.roll()
	l.fails[key]++
}
