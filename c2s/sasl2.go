package c2s

import (
	"context"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"slices"
	"strings"
	"sync/atomic"
	"unicode/utf8"

	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/jid"
	"github.com/skald-xmpp/skald/storage"
	"github.com/skald-xmpp/skald/stream"
)

// Namespaces of XEP-0388 Extensible SASL Profile and XEP-0386 Bind 2.
const (
	NSSASL2 = "urn:xmpp:sasl:2"
	NSBind2 = "urn:xmpp:bind:0"
)

// sasl2Feature is the XEP-0388 stream feature (§2.1): the mechanisms the
// legacy <mechanisms/> offers, and what may be negotiated inline: Bind 2
// with the session features it can enable (XEP-0386 §3.1) and XEP-0198
// resumption. Offered only over TLS (XEP-0388 §5), and never without a
// mechanism (§2.1: SASL2 "MUST NOT be offered if not at least one
// mechanism can be provided"; a configuration of -PLUS mechanisms only,
// on a stream with no TLS of its own to bind to, has none): then nil.
func (c *conn) sasl2Feature() *xml.Element {
	names := c.offeredMechanisms(c.saslInfo())
	if len(names) == 0 {
		return nil
	}
	a := xml.New(NSSASL2, "authentication")
	for _, name := range names {
		a.Append(xml.New(NSSASL2, "mechanism").AppendText(name))
	}
	features := xml.New(NSBind2, "inline")
	features.Append(xml.New(NSBind2, "feature", "var", stream.NSSM))
	if c.srv.cfg.Carbons {
		features.Append(xml.New(NSBind2, "feature", "var", nsCarbons))
	}
	if c.srv.cfg.CSI {
		features.Append(xml.New(NSBind2, "feature", "var", stream.NSCSI))
	}
	// Inline resumption is named two ways: <sm/> in XEP-0386's example
	// (and by deployed servers and the clients that look for it), <resume/>
	// in XEP-0388's example and XEP-0198's own SASL2 text. Clients read
	// one or the other and ignore what they do not know, so both are
	// offered.
	inline := xml.New(NSSASL2, "inline").Append(
		xml.New(NSBind2, "bind").Append(features),
		xml.New(stream.NSSM, "sm"),
		xml.New(stream.NSSM, "resume"))
	if fast := c.fastFeature(); fast != nil {
		// XEP-0484 §3.1: the HT mechanisms are listed here, not among
		// the ordinary ones above.
		inline.Append(fast)
	}
	return a.Append(inline)
}

// sasl2Request is what an <authenticate/> asks for besides authentication.
type sasl2Request struct {
	mechanism        string
	initial          string
	hasInitial       bool
	userAgentID      string // XEP-0388 §2.3 <user-agent id/>, "" if none
	software, device string
	resume           *xml.Element // XEP-0198 <resume/>, inline
	bind             *xml.Element // XEP-0386 <bind/>
	fast             fastRequest  // XEP-0484 <fast/>, <request-token/>
}

// maxUserAgentID bounds the user-agent id kept (a UUID is 36 bytes).
const maxUserAgentID = 256

func parseAuthenticate(el *xml.Element) sasl2Request {
	r := sasl2Request{mechanism: el.Attr("mechanism")}
	if ir := el.Child(NSSASL2, "initial-response"); ir != nil {
		r.initial, r.hasInitial = ir.Text(), true
	}
	if ua := el.Child(NSSASL2, "user-agent"); ua != nil {
		if id := ua.Attr("id"); len(id) <= maxUserAgentID {
			r.userAgentID = id
		}
		r.software = clip(ua.ChildText(NSSASL2, "software"), 64)
		r.device = clip(ua.ChildText(NSSASL2, "device"), 64)
	}
	r.resume = el.Child(stream.NSSM, "resume")
	r.bind = el.Child(NSBind2, "bind")
	r.fast = parseFast(el)
	return r
}

// clip cuts s to at most n bytes, on a character boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// authenticate2 runs a XEP-0388 exchange and, once it succeeds, what the
// client asked for inline: XEP-0198 resumption first, then, if there is
// none or it failed, XEP-0386 resource binding (XEP-0386 §3.2). A failed
// exchange processes nothing inline (XEP-0388 §2.6.2). There is no stream
// restart: <success/> is followed by the stream features (§2.6.1).
func (c *conn) authenticate2(el *xml.Element) error {
	req := parseAuthenticate(el)
	if c.user == "" && el.Attr("upgrade") != "" {
		// §2.3: an upgrade task the features did not offer (they offer
		// none) MUST fail the authentication.
		return c.push(profileSASL2.failure("invalid-mechanism", "no upgrade task is offered"))
	}
	var (
		login *fastLogin
		out   []byte
		creds storage.Credentials // checked by the login, for fastToken
		err   error
	)
	if slices.Contains(c.fastMechanisms(), req.mechanism) {
		// XEP-0484: a token instead of a password.
		var ip string
		var ok bool
		if ip, ok, err = c.saslAllowed(profileSASL2); !ok {
			return err
		}
		if login, out, err = c.fastExchange(profileSASL2, req, ip); login == nil || err != nil {
			return err
		}
		creds = login.creds
	} else {
		var ok bool
		if ok, out, creds, err = c.saslExchange(profileSASL2, req.mechanism, req.initial, req.hasInitial); !ok || err != nil {
			return err
		}
	}
	c.srv.counters.sasl2Logins.Inc()
	token := c.fastToken(req, login, creds)
	if req.software != "" || req.device != "" {
		c.log.Info("c2s user agent", "software", req.software, "device", req.device)
	}
	// No restart, but the limits of an authenticated stream apply now.
	c.rd.SetLimits(c.limits())
	bare, _ := jid.New(c.user, c.domain, "") // both checked by authentication
	success := func(authzid jid.JID, inline ...*xml.Element) *xml.Element {
		s := xml.New(NSSASL2, "success")
		if out != nil {
			s.Append(xml.New(NSSASL2, "additional-data").AppendText(base64.StdEncoding.EncodeToString(out)))
		}
		s.Append(xml.New(NSSASL2, "authorization-identifier").AppendText(authzid.String()))
		for _, el := range inline {
			s.Append(el)
		}
		if token != nil {
			s.Append(token)
		}
		return s
	}
	var inline []*xml.Element
	if req.resume != nil {
		failed, err := c.resumeSession(req.resume, func(resumed *xml.Element, full jid.JID) []byte {
			return c.successAndFeatures(success(full, resumed), true, true)
		})
		if err != nil || failed == nil {
			return err
		}
		// XEP-0198 (on SASL2 and Bind 2): the failure goes in the
		// <success/>, and binding proceeds.
		inline = append(inline, failed)
	}
	if req.bind == nil {
		return c.push(c.successAndFeatures(success(bare, inline...), false, false))
	}
	full := c.bind2JID(req.bind.ChildText(NSBind2, "tag"), req.userAgentID)
	var client bind2Client
	err = c.bind(full, func() []byte {
		client = c.markClient(req.userAgentID)
		bound := c.bind2Inline(req.bind)
		c.sess.mu.Lock()
		smOn := c.sess.smOn
		c.sess.mu.Unlock()
		return c.successAndFeatures(success(full, append(inline, bound)...), true, smOn)
	})
	if err == nil {
		c.endEarlierSessions(client)
	}
	return err
}

// bind2Client names the client installation (SASL2 <user-agent/> id) a
// session bound with Bind 2 belongs to, kept on its router session, and
// when it was bound: a newer session ends only older ones, so two of the
// same client binding at once do not end each other.
type bind2Client struct {
	id  string
	seq uint64
}

type bind2ClientKey struct{}

var bind2Seq atomic.Uint64

// markClient records on the new session which client bound it; none
// without a user-agent id.
func (c *conn) markClient(userAgentID string) bind2Client {
	if userAgentID == "" {
		return bind2Client{}
	}
	cl := bind2Client{id: userAgentID, seq: bind2Seq.Add(1)}
	c.sess.rs.SetValue(bind2ClientKey{}, cl)
	return cl
}

// endEarlierSessions ends the account's other sessions bound earlier by
// the same client: XEP-0386 §3.2, "the server SHOULD terminate any
// earlier sessions from the same client (identified by the <user-agent>
// 'id' attribute)". One with the same tag had the same resource and was
// replaced by the binding already; this finds those with another tag
// (the client changed it, or has none now). They get the conflict stream
// error a replaced session gets; a detached one ends, its unacknowledged
// messages kept offline.
func (c *conn) endEarlierSessions(cl bind2Client) {
	if cl.id == "" {
		return
	}
	for _, rs := range c.srv.router.Sessions(c.sess.rs.Bare()) {
		if rs == c.sess.rs {
			continue
		}
		if old, ok := rs.Value(bind2ClientKey{}).(bind2Client); ok && old.id == cl.id && old.seq < cl.seq {
			c.log.Info("c2s bind 2 ends an earlier session of the same client", "old", rs.JID().String())
			rs.Close(string(stream.Conflict))
		}
	}
}

// successAndFeatures serialises a SASL2 <success/> and the features of the
// authenticated stream that follow it at once.
func (c *conn) successAndFeatures(success *xml.Element, bound, smOn bool) []byte {
	b := success.Bytes(stream.NSClient)
	return append(b, stream.Features(stream.NSClient, c.authenticatedFeatures(bound, smOn))...)
}

// bind2Inline enables on the newly bound, not yet attached session what a
// Bind 2 request asks for (XEP-0386 §3.2), marks it as catching up from
// MAM, and returns <bound/> with the
// answers: XEP-0198's <enabled/> or <failed/>; XEP-0280 carbons (enabling
// them cannot fail, so no answer); the XEP-0352 state the session starts
// in. Anything else is ignored, as for any unknown inline request.
func (c *conn) bind2Inline(req *xml.Element) *xml.Element {
	bound := xml.New(NSBind2, "bound")
	s := c.sess
	// §3.2: offline messages are cleared unsent, "as they will be
	// provided by MAM". A session marked as catching up from MAM gets
	// that from the offline module: the messages the archive holds are
	// deleted at its initial presence without being sent; those it does
	// not hold (archiving off for their sender) are still delivered, as
	// clearing them would lose them, and so are those stored after the
	// bind (or after the client's first catch-up query).
	s.rs.SetMAMBound()
	for _, ch := range req.Elements() {
		switch {
		case ch.Is(stream.NSSM, "enable"):
			s.mu.Lock()
			bound.Append(c.smEnableLocked(ch))
			s.mu.Unlock()
		case ch.Is(nsCarbons, "enable") && c.srv.cfg.Carbons:
			s.rs.SetCarbons(true)
		case ch.Is(stream.NSCSI, "inactive") && c.srv.cfg.CSI:
			s.mu.Lock()
			s.csi.inactive = true
			s.mu.Unlock()
		}
	}
	for _, bi := range c.srv.cfg.BoundInfo {
		el, err := bi.BoundInfo(context.Background(), s.rs.JID())
		if err != nil {
			// Information, not a condition of binding.
			c.log.Error("c2s bind 2 information", "err", err)
			continue
		}
		if el != nil {
			bound.Append(el)
		}
	}
	return bound
}

// BoundInfo is what a module adds to XEP-0386's <bound/> (§3.2: the
// XEP-0313 archive metadata); internal/server fills Config.BoundInfo.
type BoundInfo interface {
	BoundInfo(ctx context.Context, account jid.JID) (*xml.Element, error)
}

// maxTag bounds the part of the resource the client's Bind 2 tag makes.
const maxTag = 64

// bind2JID is the full JID Bind 2 binds (XEP-0386 §3.2.1): the client's
// tag, if it makes a valid resource, then "/" and a part the server
// generates. With a SASL2 user-agent id that part is stable: derived from
// the account, the id and the tag, so the same installation gets the same
// resource each time (its new session replaces the old one, as §3.2 asks),
// without exposing the id (a hash of it, which a client's random UUID
// makes irreversible). Without one it is random.
func (c *conn) bind2JID(tag, userAgentID string) jid.JID {
	tag = clip(strings.TrimSpace(tag), maxTag)
	var id string
	if userAgentID != "" {
		h := sha256.New()
		for _, part := range []string{"skald bind2 resource", c.user, c.domain, userAgentID, tag} {
			h.Write([]byte(part))
			h.Write([]byte{0})
		}
		id = strings.ToLower(base32.StdEncoding.EncodeToString(h.Sum(nil)))[:16]
	} else {
		id = newID()[:16]
	}
	if tag != "" {
		if full, err := jid.New(c.user, c.domain, tag+"/"+id); err == nil {
			return full
		}
	}
	full, _ := jid.New(c.user, c.domain, id) // letters and digits
	return full
}
