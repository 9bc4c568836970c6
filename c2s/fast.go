package c2s

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"time"

	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/jid"
	"github.com/skald-xmpp/skald/sasl"
	"github.com/skald-xmpp/skald/storage"
)

// NSFast is the namespace of XEP-0484 Fast Authentication Streamlining
// Tokens.
const NSFast = "urn:xmpp:fast:0"

// fastRequest is what an <authenticate/> asks of FAST (XEP-0484 §3.2,
// §3.4, §3.6).
type fastRequest struct {
	// mechanism is <request-token mechanism/>, "" without one;
	// requested tells whether there was an element at all.
	mechanism  string
	requested  bool
	invalidate bool // <fast invalidate='true'/>
	badCount   bool // <fast count/> that is not a whole number
}

func parseFast(el *xml.Element) fastRequest {
	var r fastRequest
	if rt := el.Child(NSFast, "request-token"); rt != nil {
		r.requested, r.mechanism = true, rt.Attr("mechanism")
	}
	if f := el.Child(NSFast, "fast"); f != nil {
		switch f.Attr("invalidate") {
		case "1", "true":
			r.invalidate = true
		}
		if count := f.Attr("count"); count != "" {
			_, err := strconv.ParseUint(count, 10, 32)
			r.badCount = err != nil
		}
	}
	return r
}

// fastMechanisms are the HT mechanisms the connection offers inside
// <fast/>: none unless FAST is configured and the stream is encrypted
// (XEP-0484 §6), the channel-binding ones where the connection has their
// binding (its TLS, not what [c2s] sasl_mechanisms says of -PLUS: HT
// has no downgrade flag to protect), and HT-SHA-256-NONE.
func (c *conn) fastMechanisms() []string {
	if c.srv.cfg.FastTokens == nil || c.srv.cfg.FastTokenLifetime <= 0 {
		return nil
	}
	return sasl.HTMechanisms(c.cbInfo())
}

// fastFeature is the <fast/> of the SASL2 inline features (XEP-0484
// §3.1), nil when FAST is not offered. There is no 'tls-0rtt': Go's TLS
// server takes no early data, so every request arrives after the
// handshake, and the 'count' replay check of §3.4, which concerns 0-RTT
// data only, has nothing to protect.
func (c *conn) fastFeature() *xml.Element {
	mechs := c.fastMechanisms()
	if len(mechs) == 0 {
		return nil
	}
	f := xml.New(NSFast, "fast")
	for _, m := range mechs {
		f.Append(xml.New(NSFast, "mechanism").AppendText(m))
	}
	return f
}

// fastLogin is a successful token login: the token used, and the
// account's credentials when it was checked.
type fastLogin struct {
	token storage.FastToken
	creds storage.Credentials
}

// fastExchange authenticates with a token (XEP-0484 §3.4): one message,
// the HT initiator-msg, checked against the tokens of the account and
// the client's user-agent id, which must be of the mechanism used, not
// expired, and prove the token over the connection's channel binding.
// Failures count against the same limits as password failures. On
// success it sets c.user and returns the responder-msg for <success/>; a
// nil login means the attempt failed and was answered (err then only
// ends the stream).
func (c *conn) fastExchange(p saslProfile, req sasl2Request, ip string) (*fastLogin, []byte, error) {
	fail := func(cond, text, tried string) (*fastLogin, []byte, error) {
		return nil, nil, c.authFailed(p, &sasl.Failure{Condition: cond, Text: text}, ip, tried, "")
	}
	in, ok := p.decode(req.initial, req.hasInitial)
	if !ok {
		return nil, nil, c.push(p.failure("incorrect-encoding", ""))
	}
	if !req.hasInitial {
		// HT is client-first and one round trip (XEP-0484 §3.1).
		return fail(sasl.CondMalformedRequest, "the HT message goes in the initial response", "")
	}
	if req.fast.badCount {
		return fail(sasl.CondMalformedRequest, "count is not a whole number", "")
	}
	authcid, proof, err := sasl.ParseHTMessage(in)
	if err != nil {
		var f *sasl.Failure
		errors.As(err, &f)
		return fail(f.Condition, f.Text, "")
	}
	j, err := jid.New(authcid, c.domain, "")
	if err != nil {
		return fail(sasl.CondNotAuthorized, "", "")
	}
	name, bare := j.Local(), j.String()
	if !c.srv.limit.allow("user:" + bare) {
		return nil, nil, c.authFailed(p, errRateLimited, ip, name, name)
	}
	if req.userAgentID == "" {
		// Tokens belong to a client, named by its user-agent id, which a
		// FAST client MUST send (XEP-0484 §4.1).
		return fail(sasl.CondMalformedRequest, "FAST needs a user-agent id", name)
	}
	cb, ok := sasl.HTChannelBinding(req.mechanism, c.cbInfo())
	if !ok {
		return fail(sasl.CondInvalidMechanism, "", name) // offered a moment ago
	}
	// The account's credentials, read before its tokens: fastToken
	// compares them after issuing a token, so that a password change
	// racing this login cannot leave a token behind. An unknown account
	// goes on to the token lookup, which finds nothing (its tokens went
	// with it), so that its failure takes the same path as a wrong token.
	creds, err := c.srv.users.UserCredentials(context.Background(), bare)
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		c.log.Error("c2s credential lookup failed", "err", err)
		return fail(sasl.CondTemporaryAuthFailure, "", name)
	}
	tokens, err := c.srv.cfg.FastTokens.FastTokens(context.Background(), bare, req.userAgentID)
	if err != nil {
		c.log.Error("c2s FAST token lookup failed", "err", err)
		return fail(sasl.CondTemporaryAuthFailure, "", name)
	}
	// The new slot first, then the current one (XEP-0484 §5.1); a token
	// of another mechanism never matches (§3.4).
	var match *storage.FastToken
	for i := range tokens {
		if tokens[i].Mechanism == req.mechanism && sasl.VerifyHT(tokens[i].Hash, cb, proof) {
			match = &tokens[i]
			break
		}
	}
	if match == nil {
		return fail(sasl.CondNotAuthorized, "", name)
	}
	if !time.Now().Before(match.Expiry) {
		// RFC 6120 §6.5.2: the credentials provided have expired.
		return fail(sasl.CondCredentialsExpired, "", name)
	}
	// A token proves the client as a password would: a disabled account
	// is refused after the proof, as in every other mechanism.
	if refused, err := c.refuseDisabled(p, name); refused || err != nil {
		return nil, nil, err
	}
	c.user = name
	c.authFails = 0
	c.log = newConnLogger(c, bare, "")
	c.log.Info("c2s authenticated", "mechanism", req.mechanism, "sasl2", true, "fast", true)
	c.srv.counters.fastLogins.Inc()
	return &fastLogin{token: *match, creds: creds}, sasl.HTResponderMessage(match.Hash, cb), nil
}

// fastToken does, once authentication has succeeded, what XEP-0484 asks
// of the tokens, and returns the <token/> for the <success/>, or nil:
//
//   - a token used from the new slot moves to the current one, which
//     invalidates the token used before it (§3.5, §5.1);
//   - <fast invalidate='true'/> deletes the client's tokens, and no new
//     one is issued unless requested (§3.6);
//   - a token with less than half its lifetime left is rotated: a new
//     one is issued, and the old one stays valid until the new one is
//     used (§3.5);
//   - <request-token/> for an offered mechanism, from a client with a
//     user-agent id, issues a new token (§3.2, §3.3). A request that
//     cannot be honoured is ignored: the login stands, without a token.
//
// An issued token goes into the client's new slot, replacing an unused
// one there. Then the account's credentials are read again: if they are
// no longer creds, those the login was checked against, the password
// changed meanwhile, and the token, which that change may have missed,
// is deleted rather than sent (a change after this read deletes it
// itself). Storage errors are logged: the login stands.
func (c *conn) fastToken(req sasl2Request, login *fastLogin, creds storage.Credentials) *xml.Element {
	if c.srv.cfg.FastTokens == nil || c.srv.cfg.FastTokenLifetime <= 0 {
		return nil
	}
	ctx := context.Background()
	bare := c.user + "@" + c.domain
	tokens := c.srv.cfg.FastTokens
	mech := ""
	if login != nil {
		if login.token.New {
			if err := tokens.PromoteFastToken(ctx, bare, req.userAgentID, login.token.Hash); err != nil {
				c.log.Error("c2s FAST token promotion", "err", err)
			}
		}
		if req.fast.invalidate {
			if err := tokens.DeleteFastTokens(ctx, bare, req.userAgentID); err != nil {
				c.log.Error("c2s FAST token invalidation", "err", err)
			}
		} else if time.Until(login.token.Expiry) < c.srv.cfg.FastTokenLifetime/2 {
			mech = login.token.Mechanism
		}
	}
	if req.fast.requested {
		switch {
		case req.userAgentID == "":
			c.log.Info("c2s FAST token request without a user-agent id ignored")
		case !slices.Contains(c.fastMechanisms(), req.fast.mechanism):
			c.log.Info("c2s FAST token request for a mechanism not offered ignored", "mechanism", req.fast.mechanism)
		default:
			mech = req.fast.mechanism
		}
	}
	if mech == "" || req.userAgentID == "" {
		return nil
	}
	token, key, err := sasl.NewHTToken()
	if err != nil {
		c.log.Error("c2s FAST token", "err", err)
		return nil
	}
	expiry := time.Now().Add(c.srv.cfg.FastTokenLifetime).UTC().Truncate(time.Second)
	if err := tokens.PutFastToken(ctx, bare, req.userAgentID, storage.FastToken{Hash: key, Mechanism: mech, Expiry: expiry}); err != nil {
		c.log.Error("c2s FAST token not stored", "err", err)
		return nil
	}
	if now, err := c.srv.users.UserCredentials(ctx, bare); err != nil || !now.Equal(creds) {
		c.log.Info("c2s FAST token withdrawn: the account's credentials changed during the login", "err", err)
		if err := tokens.DeleteFastTokens(ctx, bare, req.userAgentID); err != nil {
			c.log.Error("c2s FAST token withdrawal", "err", err)
		}
		return nil
	}
	c.srv.counters.fastIssued.Inc()
	return xml.New(NSFast, "token", "expiry", expiry.Format("2006-01-02T15:04:05Z"), "token", token)
}
