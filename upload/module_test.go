package upload

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/skald-xmpp/skald/disco"
	"github.com/skald-xmpp/skald/internal/routertest"
	"github.com/skald-xmpp/skald/router"
	"github.com/skald-xmpp/skald/storage"
)

const reqOpen = `<iq type='get' id='r1' to='example.org'><request xmlns='urn:xmpp:http:upload:0' `

// errorReply is the exact error answer to iq r1 from the domain.
func errorReply(typ, cond, text, app string) string {
	return `<iq xmlns="jabber:client" id="r1" from="example.org" to="romeo@example.org/garden" type="error"><error type="` + typ + `"><` + cond +
		` xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/><text xmlns="urn:ietf:params:xml:ns:xmpp-stanzas" xml:lang="en">` + text + `</text>` + app + `</error></iq>`
}

// TestSlotRefused: every §5 refusal and every bad request, exactly.
func TestSlotRefused(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.MaxFileSize = 1000; c.QuotaPerUser = 1000 })
	badName := errorReply("modify", "bad-request", "filename must not contain path separators", "")
	for _, tc := range []struct {
		name, attrs, want string
	}{
		{"too large", `filename='a.jpg' size='1001'`, errorReply("modify", "not-acceptable", "file too large: the maximum file size is 1000 bytes",
			`<file-too-large xmlns="urn:xmpp:http:upload:0"><max-file-size>1000</max-file-size></file-too-large>`)},
		{"no filename", `size='10'`, errorReply("modify", "bad-request", "filename is required", "")},
		{"slash", `filename='../etc/passwd' size='10'`, badName},
		{"backslash", `filename='a\b.txt' size='10'`, badName},
		{"dot dot", `filename='..' size='10'`, badName},
		{"control", `filename='a&#x9;b' size='10'`, errorReply("modify", "bad-request", "filename has control characters", "")},
		{"long", `filename='` + strings.Repeat("x", 256) + `' size='10'`, errorReply("modify", "bad-request", "filename is longer than 255 bytes", "")},
		{"no size", `filename='a.jpg'`, errorReply("modify", "bad-request", "size must be a whole number of bytes", "")},
		{"negative size", `filename='a.jpg' size='-1'`, errorReply("modify", "bad-request", "size must be a whole number of bytes", "")},
		{"fraction", `filename='a.jpg' size='1.5'`, errorReply("modify", "bad-request", "size must be a whole number of bytes", "")},
		{"bad type", `filename='a.jpg' size='10' content-type='image/'`, errorReply("modify", "bad-request", "content-type is not a media type", "")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.Send(e.s, reqOpen+tc.attrs+`/></iq>`)
			routertest.Expect(t, e.rec, tc.want)
		})
	}
	// To an account rather than the service: nobody answers for it there.
	e.Send(e.s, `<iq type='get' id='r1' to='juliet@example.org'><request xmlns='urn:xmpp:http:upload:0' filename='a' size='1'/></iq>`)
	if got := e.rec.Take(); len(got) != 1 || !strings.Contains(got[0], "service-unavailable") {
		t.Errorf("request to an account: %v", got)
	}
}

// TestSlotGranted: the slot's URLs are https on the public URL, share the
// random id and keep the file name (escaped), and the PUT URL carries the
// signed slot.
func TestSlotGranted(t *testing.T) {
	e := newEnv(t, nil)
	put, get := e.slotFor("my juliet.jpg", 23456, "image/jpeg")
	g, err := url.Parse(get)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(get, e.web.URL+"/files/") || !strings.HasSuffix(get, "/my%20juliet.jpg") || g.RawQuery != "" {
		t.Errorf("get URL %s", get)
	}
	id, name, ok := splitPath(g.Path)
	if !ok || name != "my juliet.jpg" {
		t.Fatalf("get URL %s: id %q name %q", get, id, name)
	}
	p, _ := url.Parse(put)
	if p.Path != g.Path || p.Query().Get("s") != "23456" || p.Query().Get("t") != "image/jpeg" || p.Query().Get("o") != romeo || p.Query().Get("sig") == "" {
		t.Errorf("put URL %s", put)
	}
	if _, get2 := e.slotFor("my juliet.jpg", 23456, ""); get2 == get {
		t.Error("two slots got the same URL")
	}
}

// TestOtherDomain: an account of another domain this server hosts may not
// use this domain's service (§5 not-allowed).
func TestOtherDomain(t *testing.T) {
	st := routertest.New(t).Store
	if err := st.CreateUser(context.Background(), "mercutio@other.org", storage.Credentials{}); err != nil {
		t.Fatal(err)
	}
	r := router.New(router.Config{Domains: []string{"example.org", "other.org"}, Users: st})
	m, err := New(DefaultConfig(), t.TempDir(), testSecret, nil)
	if err != nil {
		t.Fatal(err)
	}
	m.SetPublicURL("https://example.org:5443")
	r.Register(m)
	e := &routertest.Env{T: t, Router: r, Store: st}
	s, rec := e.Bind("mercutio@other.org/x", true, 0)
	e.Send(s, `<iq type='get' id='r1' to='example.org'><request xmlns='urn:xmpp:http:upload:0' filename='a.png' size='5'/></iq>`)
	routertest.Expect(t, rec, `<iq xmlns="jabber:client" id="r1" from="example.org" to="mercutio@other.org/x" type="error"><error type="cancel"><not-allowed xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/><text xmlns="urn:ietf:params:xml:ns:xmpp-stanzas" xml:lang="en">only accounts of example.org may upload files here</text></error></iq>`)
	e.Send(s, `<iq type='get' id='r2' to='other.org'><request xmlns='urn:xmpp:http:upload:0' filename='a.png' size='5'/></iq>`)
	if got := rec.Take(); len(got) != 1 || !strings.Contains(got[0], `type="result"`) {
		t.Errorf("own domain: %v", got)
	}
}

// TestSlotRate: slots_per_minute per account; the refusal says when to
// retry, and then a slot is granted again.
func TestSlotRate(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.SlotsPerMinute = 2 })
	e.slotFor("a", 1, "")
	e.clock.Add(10 * time.Second)
	e.slotFor("b", 1, "")
	e.Send(e.s, reqOpen+`filename='c' size='1'/></iq>`)
	routertest.Expect(t, e.rec, errorReply("wait", "resource-constraint", "too many upload slots requested; try again in a minute",
		`<retry xmlns="urn:xmpp:http:upload:0" stamp="2026-03-01T12:01:00Z"/>`))
	e.clock.Add(50 * time.Second)
	e.slotFor("c", 1, "")
}

// TestDiscoInfo: the feature and the max-file-size form are in the
// domain's disco#info.
func TestDiscoInfo(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.MaxFileSize = 5242880 })
	e.Router.Register(disco.New(e.Router))
	reply := e.ask(`<iq type='get' id='d1' to='example.org'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`)
	got := reply.String()
	for _, want := range []string{
		`<identity category="store" type="file" name="HTTP File Upload"/>`,
		`<feature var="urn:xmpp:http:upload:0"/>`,
		`<x xmlns="jabber:x:data" type="result"><field var="FORM_TYPE" type="hidden"><value>urn:xmpp:http:upload:0</value></field><field var="max-file-size"><value>5242880</value></field></x>`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("disco#info lacks %s:\n%s", want, got)
		}
	}
}

// TestConfig: the defaults are valid and bad values are named.
func TestConfig(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil || DefaultConfig().Enabled() {
		t.Fatalf("defaults: %v, enabled %v", err, DefaultConfig().Enabled())
	}
	for _, tc := range []struct {
		tweak func(*Config)
		want  string
	}{
		{func(c *Config) { c.Address = "nope" }, "address"},
		{func(c *Config) { c.PublicURL = "ftp://x" }, "public_url"},
		{func(c *Config) { c.PublicURL = "https://x/?q=1" }, "public_url"},
		{func(c *Config) { c.MaxFileSize = 0 }, "max_file_size"},
		{func(c *Config) { c.QuotaPerUser = 10 }, "quota_per_user"},
		{func(c *Config) { c.ExpiresAfter = "1 fortnight" }, "expires_after"},
		{func(c *Config) { c.CleanupInterval = "never" }, "cleanup_interval"},
		{func(c *Config) { c.SlotsPerMinute = -1 }, "slots_per_minute"},
		{func(c *Config) { c.MaxConnections = 0 }, "max_connections"},
	} {
		c := DefaultConfig()
		tc.tweak(&c)
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Validate() = %v", tc.want, err)
		}
	}
	if got := DefaultPublicURL(true, "example.org", "[::]:5443"); got != "https://example.org:5443" {
		t.Errorf("DefaultPublicURL = %s", got)
	}
}
