package extdisco

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"strconv"
	"strings"
	"time"

	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/jid"
	"github.com/skald-xmpp/skald/router"
	"github.com/skald-xmpp/skald/stanza"
)

// NS is the External Service Discovery namespace.
const NS = "urn:xmpp:extdisco:2"

// Module answers urn:xmpp:extdisco:2 on the server's domain.
type Module struct {
	cfg   Config
	now   func() time.Time
	local func(domain string) bool // served by this server
}

// New returns the module for cfg, reading the clock now (time.Now when
// nil).
func New(cfg Config, now func() time.Time) *Module {
	if now == nil {
		now = time.Now
	}
	return &Module{cfg: cfg, now: now}
}

// Name implements router.Module.
func (*Module) Name() string { return "extdisco" }

// DiscoFeatures implements router.FeatureProvider: the feature only when
// there is something to discover.
func (m *Module) DiscoFeatures() (server, account []string) {
	if !m.cfg.Enabled() {
		return nil, nil
	}
	return []string{NS}, nil
}

// RegisterIQ implements router.IQRegistrar.
func (m *Module) RegisterIQ(r *router.Router) {
	if !m.cfg.Enabled() {
		return
	}
	m.local = r.IsLocalDomain
	r.HandleIQ(stanza.TypeGet, NS, "services", router.ToServer, router.IQHandlerFunc(m.services))
	r.HandleIQ(stanza.TypeGet, NS, "credentials", router.ToServer, router.IQHandlerFunc(m.credentials))
}

// services answers §3.1 and §3.2.
func (m *Module) services(_ context.Context, iq *router.IQ) (*xml.Element, error) {
	if !m.local(iq.From.Domain()) {
		return nil, stanza.E(stanza.Forbidden, "")
	}
	typ := iq.Payload.Attr("type")
	out := xml.New(NS, "services")
	out.SetAttr("type", typ)
	now := m.now()
	for _, s := range m.cfg.Services {
		if typ != "" && s.Type != typ {
			continue
		}
		out.Append(m.element(s, iq.From, now))
	}
	return stanza.Result(iq.Stanza).Append(out), nil
}

// credentials answers §3.3.
func (m *Module) credentials(_ context.Context, iq *router.IQ) (*xml.Element, error) {
	if !m.local(iq.From.Domain()) {
		return nil, stanza.E(stanza.Forbidden, "")
	}
	want := iq.Payload.Child(NS, "service")
	host, typ := want.Attr("host"), want.Attr("type")
	if host == "" || typ == "" {
		return nil, stanza.E(stanza.BadRequest, "a service with host and type is required")
	}
	port := -1
	if p := want.Attr("port"); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 || n > 65535 {
			return nil, stanza.E(stanza.BadRequest, "port is not a port number")
		}
		port = n
	}
	out := xml.New(NS, "credentials")
	now := m.now()
	for _, s := range m.cfg.Services {
		if s.Secret == "" || s.Type != typ || !strings.EqualFold(s.Host, host) || port >= 0 && s.Port != port {
			continue
		}
		out.Append(m.element(s, iq.From, now))
	}
	if len(out.Nodes) == 0 {
		return nil, stanza.E(stanza.ItemNotFound, "")
	}
	return stanza.Result(iq.Stanza).Append(out), nil
}

// element is the <service/> of s for requester, with fresh credentials
// when s has a secret.
func (m *Module) element(s Service, requester jid.JID, now time.Time) *xml.Element {
	e := xml.New(NS, "service", "type", s.Type, "host", s.Host)
	if s.Port > 0 {
		e.SetAttr("port", strconv.Itoa(s.Port))
	}
	e.SetAttr("transport", s.Transport)
	e.SetAttr("name", s.Name)
	if s.Secret == "" {
		if s.Restricted {
			e.SetAttr("restricted", "1")
		}
		return e
	}
	expires := now.Add(m.cfg.CredentialLifetime).UTC().Truncate(time.Second)
	user, pass := Credentials(s.Secret, requester.Bare().String(), expires)
	e.SetAttr("restricted", "1")
	e.SetAttr("username", user)
	e.SetAttr("password", pass)
	e.SetAttr("expires", expires.Format("2006-01-02T15:04:05Z"))
	return e
}

// Credentials makes TURN REST API credentials (the scheme of coturn's
// use-auth-secret): the username is "<expires, Unix seconds>:<who>" and
// the password base64(HMAC-SHA1(secret, username)).
func Credentials(secret, who string, expires time.Time) (username, password string) {
	username = strconv.FormatInt(expires.Unix(), 10) + ":" + who
	mac := hmac.New(sha1.New, []byte(secret))
	mac.Write([]byte(username))
	return username, base64.StdEncoding.EncodeToString(mac.Sum(nil))
}
