package lastactivity

import (
	"context"
	"strconv"
	"time"

	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/router"
	"github.com/skald-xmpp/skald/stanza"
)

// NS is the Last Activity namespace.
const NS = "jabber:iq:last"

// Module answers jabber:iq:last on the server.
type Module struct {
	started time.Time
	now     func() time.Time
}

// New returns the module for a server that started at started, reading
// the clock now (time.Now when nil).
func New(started time.Time, now func() time.Time) *Module {
	if now == nil {
		now = time.Now
	}
	return &Module{started: started, now: now}
}

// Name implements router.Module.
func (*Module) Name() string { return "lastactivity" }

// DiscoFeatures implements router.FeatureProvider.
func (*Module) DiscoFeatures() (server, account []string) { return []string{NS}, nil }

// RegisterIQ implements router.IQRegistrar.
func (m *Module) RegisterIQ(r *router.Router) {
	r.HandleIQ(stanza.TypeGet, NS, "query", router.ToServer, router.IQHandlerFunc(m.uptime))
}

func (m *Module) uptime(_ context.Context, iq *router.IQ) (*xml.Element, error) {
	secs := int64(m.now().Sub(m.started) / time.Second)
	secs = max(secs, 0) // a clock set back since the start
	q := xml.New(NS, "query", "seconds", strconv.FormatInt(secs, 10))
	return stanza.Result(iq.Stanza).Append(q), nil
}
