package ping

import (
	"context"

	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/router"
	"github.com/skald-xmpp/skald/stanza"
)

// NS is the XMPP Ping namespace.
const NS = "urn:xmpp:ping"

// Module answers pings.
type Module struct{}

// New returns the ping module.
func New() *Module { return &Module{} }

// Name implements router.Module.
func (*Module) Name() string { return "ping" }

// DiscoFeatures implements router.FeatureProvider.
func (*Module) DiscoFeatures() (server, account []string) {
	return []string{NS}, []string{NS}
}

// RegisterIQ implements router.IQRegistrar.
func (m *Module) RegisterIQ(r *router.Router) {
	r.HandleIQ(stanza.TypeGet, NS, "ping", router.ToServer|router.ToAccount, router.IQHandlerFunc(m.ping))
}

func (*Module) ping(_ context.Context, iq *router.IQ) (*xml.Element, error) {
	if iq.To.Local() != "" && iq.To != iq.From.Bare() {
		return nil, stanza.E(stanza.ServiceUnavailable, "")
	}
	return stanza.Result(iq.Stanza), nil
}
