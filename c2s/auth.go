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

// mechanisms returns the SASL stream feature (and the XEP-0440 channel
// binding types when -PLUS is offered).
func (c *conn) mechanisms() []*xml.Element {
	info := c.cbInfo()
	m := xml.New(stream.NSSASL, "mechanisms")
	for _, name := range info.Mechanisms() {
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

func (c *conn) saslFailure(condition, text string) error {
	f := xml.New(stream.NSSASL, "failure").Append(xml.New(stream.NSSASL, condition))
	if text != "" {
		t := xml.New(stream.NSSASL, "text")
		t.Attrs = append(t.Attrs, xml.Attr{Space: xml.NSXML, Local: "lang", Value: "en"})
		f.Append(t.AppendText(text))
	}
	return c.push(f.Bytes(stream.NSClient))
}

// authenticate runs one SASL exchange (RFC 6120 §6.4). It returns
// restart=true on success.
func (c *conn) authenticate(auth *xml.Element) (bool, error) {
	if c.user != "" {
		return false, stream.New(stream.PolicyViolation, "already authenticated")
	}
	if c.tlsRequiredPending() {
		return false, c.saslFailure("encryption-required", "")
	}
	ip := remoteIP(c.raw)
	if !c.srv.limit.allow("ip:" + ip) {
		c.srv.counters.authFailures.Inc()
		return false, c.saslFailure("temporary-auth-failure", "too many failed attempts; wait a minute")
	}
	mech := auth.Attr("mechanism")
	offered := false
	for _, m := range c.cbInfo().Mechanisms() {
		offered = offered || m == mech
	}
	if !offered {
		if !c.cbInfo().TLS && slices.Contains(sasl.Mechanisms(true, true), mech) {
			// One we have, but only over TLS (PLAIN, and -PLUS, which
			// binds to it): RFC 6120 §6.5.4.
			return false, c.saslFailure("encryption-required", "")
		}
		return false, c.saslFailure("invalid-mechanism", "")
	}
	var limitedName, triedName string
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
		return toSASL(cr), true, nil
	}
	normalise := func(name string) (string, error) {
		j, err := jid.New(name, c.domain, "")
		if err != nil {
			return "", err
		}
		return j.Local(), nil
	}
	srv, err := sasl.NewServer(mech, lookup, c.cbInfo(), normalise,
		sasl.WithAuthorizer(sasl.AllowOwnBareJID(c.domain, normalise)))
	if err != nil {
		return false, c.saslFailure("invalid-mechanism", "")
	}
	in, ok := decodeSASL(auth.Text())
	if !ok {
		return false, c.saslFailure("incorrect-encoding", "")
	}
	for {
		out, done, err := srv.Step(in)
		if err != nil {
			return false, c.authFailed(err, ip, triedName, limitedName)
		}
		if done {
			if refused, err := c.refuseDisabled(srv.Username()); refused || err != nil {
				return false, err
			}
			c.user = srv.Username()
			c.authFails = 0
			succ := xml.New(stream.NSSASL, "success")
			if len(out) > 0 {
				succ.AppendText(base64.StdEncoding.EncodeToString(out))
			}
			if err := c.push(succ.Bytes(stream.NSClient)); err != nil {
				return false, err
			}
			c.log = newConnLogger(c, c.user+"@"+c.domain, "")
			c.log.Info("c2s authenticated", "mechanism", mech)
			c.rd.Restart()
			c.rd.SetLimits(c.limits())
			return true, nil
		}
		ch := xml.New(stream.NSSASL, "challenge")
		if len(out) > 0 {
			ch.AppendText(base64.StdEncoding.EncodeToString(out))
		}
		if err := c.push(ch.Bytes(stream.NSClient)); err != nil {
			return false, err
		}
		resp, err := c.rd.Next()
		if err != nil {
			return false, err
		}
		switch {
		case resp.Is(stream.NSSASL, "response"):
			if in, ok = decodeSASL(resp.Text()); !ok {
				return false, c.saslFailure("incorrect-encoding", "")
			}
		case resp.Is(stream.NSSASL, "abort"):
			return false, c.saslFailure("aborted", "")
		default:
			return false, stream.New(stream.NotAuthorized, "")
		}
	}
}

var errRateLimited = errors.New("c2s: authentication rate limited")

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
func (c *conn) refuseDisabled(name string) (bool, error) {
	st, err := c.srv.users.UserStatus(context.Background(), name+"@"+c.domain)
	if err != nil {
		c.log.Error("c2s account status lookup failed", "err", err)
		c.srv.counters.authFailures.Inc()
		return true, c.saslFailure("temporary-auth-failure", "")
	}
	if !st.Disabled {
		return false, nil
	}
	c.srv.counters.authDisabled.Inc()
	c.log.Info("c2s authentication refused: account disabled", "user", name+"@"+c.domain)
	if err := c.saslFailure("account-disabled", disabledText); err != nil {
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
func (c *conn) authFailed(err error, ip, triedName, limitedName string) error {
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
	if err := c.saslFailure(cond, text); err != nil {
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
