package upload

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/router"
	"github.com/skald-xmpp/skald/stanza"
)

// NS is the HTTP File Upload namespace (XEP-0363).
const NS = "urn:xmpp:http:upload:0"

// nsData is the Data Forms namespace (XEP-0004) of the disco#info form.
const nsData = "jabber:x:data"

// SlotValidity is how long a granted slot may be used: an upload must
// start within it. XEP-0363 §7 recommends about 60 s; clients start at
// once, and a little more leaves room for a slow phone.
const SlotValidity = 5 * time.Minute

// maxNameBytes bounds a file name: what common file systems allow.
const maxNameBytes = 255

// Module grants upload slots (XEP-0363) on the server's domain and serves
// the uploads over HTTP (Handler).
type Module struct {
	cfg   settings
	key   []byte
	files *files
	rate  *limiter
	log   *slog.Logger
	base  atomic.Pointer[url.URL] // PUT and GET URLs start with it

	counters counters

	// now is the clock; tests move it.
	now func() time.Time
	// writeStall bounds each write of a GET response (downloadStall;
	// tests shorten it).
	writeStall time.Duration
}

// New returns the module storing files in dir (the uploads directory,
// created if needed), its PUT URLs signed with a key derived from the
// server secret. cfg must be valid. The base URL is set with SetPublicURL
// before any slot is granted.
func New(cfg Config, dir string, secret []byte, log *slog.Logger) (*Module, error) {
	s, err := cfg.settings()
	if err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.Default()
	}
	f, err := openFiles(dir)
	if err != nil {
		return nil, err
	}
	m := &Module{cfg: s, key: deriveKey(secret), files: f, log: log, now: time.Now, writeStall: downloadStall}
	m.rate = newLimiter(s.perMinute, time.Minute)
	if cfg.PublicURL != "" {
		if err := m.SetPublicURL(cfg.PublicURL); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// SetPublicURL sets the base of the URLs handed out (public_url, or the
// default the server derives once its listener is bound).
func (m *Module) SetPublicURL(raw string) error {
	u, err := parseBaseURL(raw)
	if err != nil {
		return fmt.Errorf("upload: public_url: %w", err)
	}
	m.base.Store(u)
	return nil
}

// PublicURL returns the base URL, "" before SetPublicURL.
func (m *Module) PublicURL() string {
	if u := m.base.Load(); u != nil {
		return u.String()
	}
	return ""
}

// RemoveOwner deletes the files owner (a bare JID) stored, from the index
// and the disk, and returns how many: an account deleted while the server
// runs (XEP-0077 cancellation) takes its uploads along.
func (m *Module) RemoveOwner(owner string) (int, error) {
	return m.files.removeOwner(owner), nil
}

// Name implements router.Module.
func (*Module) Name() string { return "upload" }

// DiscoFeatures implements router.FeatureProvider: the service is the
// server's domain itself (see doc.go).
func (*Module) DiscoFeatures() (server, account []string) { return []string{NS}, nil }

// DiscoServerInfo implements router.ServerInfoProvider: the store/file
// identity and the max-file-size form of XEP-0363 §3 (slixmpp looks for
// the identity, Gajim and Conversations read the size from the form).
func (m *Module) DiscoServerInfo() ([]router.Identity, []*xml.Element) {
	x := xml.New(nsData, "x", "type", "result")
	x.Append(xml.New(nsData, "field", "var", "FORM_TYPE", "type", "hidden").Append(xml.New(nsData, "value").AppendText(NS)))
	x.Append(xml.New(nsData, "field", "var", "max-file-size").Append(xml.New(nsData, "value").AppendText(strconv.FormatInt(m.cfg.maxFileSize, 10))))
	return []router.Identity{{Category: "store", Type: "file", Name: "HTTP File Upload"}}, []*xml.Element{x}
}

// RegisterIQ implements router.IQRegistrar. Slot requests go to the
// server's domain; one to an account's JID gets the router's
// service-unavailable.
func (m *Module) RegisterIQ(r *router.Router) {
	r.HandleIQ(stanza.TypeGet, NS, "request", router.ToServer, router.IQHandlerFunc(m.countedRequest))
}

// countedRequest is request, counted.
func (m *Module) countedRequest(ctx context.Context, iq *router.IQ) (*xml.Element, error) {
	res, err := m.request(ctx, iq)
	if err != nil {
		m.counters.refusals.Inc()
	} else {
		m.counters.slots.Inc()
	}
	return res, err
}

// request answers a slot request (§4) or refuses it (§5).
func (m *Module) request(_ context.Context, iq *router.IQ) (*xml.Element, error) {
	if iq.From.Domain() != iq.To.Domain() {
		// A permanent refusal (§5, not-allowed): the service stores files
		// for the accounts of its own domain only.
		return nil, stanza.E(stanza.NotAllowed, "only accounts of "+iq.To.Domain()+" may upload files here")
	}
	req, err := parseRequest(iq.Payload)
	if err != nil {
		return nil, err
	}
	if req.size > m.cfg.maxFileSize {
		return nil, m.tooLarge()
	}
	owner := iq.From.Bare().String()
	now := m.now()
	if ok, retry := m.rate.allow(owner, now); !ok {
		return nil, retryLater("too many upload slots requested; try again in a minute", retry)
	}
	if m.files.usage(owner)+req.size > m.cfg.quota {
		text := "upload quota of " + strconv.FormatInt(m.cfg.quota, 10) + " bytes reached"
		if m.cfg.never {
			return nil, retryLater(text, time.Time{})
		}
		at, _ := m.files.freedAt(owner, req.size, m.cfg.quota, m.cfg.expiry) // zero: no stamp
		return nil, retryLater(text, at)
	}
	base := m.base.Load()
	if base == nil {
		return nil, errors.New("upload: no public URL set")
	}
	req.id, req.owner, req.expires = newSlotID(), owner, now.Add(SlotValidity)
	// JoinPath takes escaped segments: the name is text, so it is
	// escaped first ("100%.jpg" would otherwise be unescaped, or dropped).
	get := base.JoinPath(req.id, url.PathEscape(req.name))
	put := *get
	put.RawQuery = putQuery(m.key, req)
	sl := xml.New(NS, "slot")
	sl.Append(xml.New(NS, "put", "url", put.String()))
	sl.Append(xml.New(NS, "get", "url", get.String()))
	return stanza.Result(iq.Stanza).Append(sl), nil
}

// tooLarge is §5's file-too-large error, with the limit.
func (m *Module) tooLarge() *stanza.Error {
	limit := strconv.FormatInt(m.cfg.maxFileSize, 10)
	app := xml.New(NS, "file-too-large")
	app.Append(xml.New(NS, "max-file-size").AppendText(limit))
	e := stanza.E(stanza.NotAcceptable, "file too large: the maximum file size is "+limit+" bytes")
	e.App = app
	return e
}

// retryLater is §5's temporary error: resource-constraint, with a <retry/>
// stamp (XEP-0082, UTC) when the service knows when to retry.
func retryLater(text string, at time.Time) *stanza.Error {
	e := stanza.E(stanza.ResourceConstraint, text)
	if !at.IsZero() {
		e.App = xml.New(NS, "retry", "stamp", at.UTC().Truncate(time.Second).Format(time.RFC3339))
	}
	return e
}

// parseRequest reads <request filename size content-type/> (§4): filename
// and size are required. A name that is not one path segment of printable
// text, a size that is not a whole number, or a malformed content-type is
// a bad-request.
func parseRequest(el *xml.Element) (slot, error) {
	var s slot
	s.name = el.Attr("filename")
	if err := checkName(s.name); err != nil {
		return s, stanza.E(stanza.BadRequest, err.Error())
	}
	size, err := strconv.ParseInt(el.Attr("size"), 10, 64)
	if err != nil || size < 0 || strings.HasPrefix(el.Attr("size"), "+") {
		return s, stanza.E(stanza.BadRequest, "size must be a whole number of bytes")
	}
	s.size = size
	if ct := el.Attr("content-type"); ct != "" {
		if _, _, err := mime.ParseMediaType(ct); err != nil || !printable(ct) {
			return s, stanza.E(stanza.BadRequest, "content-type is not a media type")
		}
		s.ctype = ct
	}
	return s, nil
}

// checkName accepts a file name that is safe as one URL path segment and
// as a file name in Content-Disposition: printable UTF-8, no path
// separators, not "." or "..".
func checkName(name string) error {
	switch {
	case name == "":
		return errors.New("filename is required")
	case len(name) > maxNameBytes:
		return errors.New("filename is longer than 255 bytes")
	case !utf8.ValidString(name) || !printable(name):
		return errors.New("filename has control characters")
	case strings.ContainsAny(name, `/\`), name == ".", name == "..", filepath.Base(name) != name:
		return errors.New("filename must not contain path separators")
	}
	return nil
}

func printable(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool { return unicode.IsControl(r) || r == utf8.RuneError }) < 0
}

// Sweep removes the files older than expires_after as of now and returns
// how many; the cleanup job runs it.
func (m *Module) Sweep(now time.Time) int {
	if m.cfg.never {
		return 0
	}
	n := m.files.sweep(now.Add(-m.cfg.expiry), now)
	m.counters.expired.Add(uint64(n))
	return n
}

// RunCleanup sweeps at cleanup_interval until ctx ends.
func (m *Module) RunCleanup(ctx context.Context) {
	if m.cfg.never {
		return
	}
	t := time.NewTicker(m.cfg.interval)
	defer t.Stop()
	for {
		if n := m.Sweep(m.now()); n > 0 {
			m.log.Info("expired uploads removed", "files", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
