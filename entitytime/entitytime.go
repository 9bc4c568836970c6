package entitytime

import (
	"context"
	"time"

	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/router"
	"github.com/skald-xmpp/skald/stanza"
)

// NS is the Entity Time namespace.
const NS = "urn:xmpp:time"

// Module answers urn:xmpp:time on the server.
type Module struct {
	now func() time.Time
}

// New returns the module reading the clock now (time.Now when nil).
func New(now func() time.Time) *Module {
	if now == nil {
		now = time.Now
	}
	return &Module{now: now}
}

// Name implements router.Module.
func (*Module) Name() string { return "entitytime" }

// DiscoFeatures implements router.FeatureProvider.
func (*Module) DiscoFeatures() (server, account []string) { return []string{NS}, nil }

// RegisterIQ implements router.IQRegistrar.
func (m *Module) RegisterIQ(r *router.Router) {
	r.HandleIQ(stanza.TypeGet, NS, "time", router.ToServer, router.IQHandlerFunc(m.time))
}

func (m *Module) time(_ context.Context, iq *router.IQ) (*xml.Element, error) {
	t := xml.New(NS, "time")
	t.Append(xml.New(NS, "tzo").AppendText("+00:00"))
	t.Append(xml.New(NS, "utc").AppendText(m.now().UTC().Format("2006-01-02T15:04:05.000Z")))
	return stanza.Result(iq.Stanza).Append(t), nil
}
