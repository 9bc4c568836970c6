package version

import (
	"context"
	"runtime"

	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/router"
	"github.com/skald-xmpp/skald/stanza"
)

// NS is the Software Version namespace.
const NS = "jabber:iq:version"

// Config configures the module.
type Config struct {
	// Enabled says whether cmd/skald registers the module. A disabled
	// module is not registered, and the router then answers
	// service-unavailable like for any unsupported namespace. (A module
	// built from a disabled Config and registered anyway stays inert.)
	Enabled bool `toml:"enabled"`
	// ShowOS adds <os/> to answers.
	ShowOS bool `toml:"show_os"`
}

// DefaultConfig answers version requests without the operating system.
func DefaultConfig() Config { return Config{Enabled: true} }

// Validate accepts every combination.
func (Config) Validate() error { return nil }

// Module answers jabber:iq:version.
type Module struct {
	cfg     Config
	version string
}

// New returns the module answering with the given server version.
func New(cfg Config, version string) *Module {
	return &Module{cfg: cfg, version: version}
}

// Name implements router.Module.
func (*Module) Name() string { return "version" }

// DiscoFeatures implements router.FeatureProvider.
func (m *Module) DiscoFeatures() (server, account []string) {
	if !m.cfg.Enabled {
		return nil, nil
	}
	return []string{NS}, nil
}

// RegisterIQ implements router.IQRegistrar.
func (m *Module) RegisterIQ(r *router.Router) {
	if !m.cfg.Enabled {
		return
	}
	r.HandleIQ(stanza.TypeGet, NS, "query", router.ToServer, router.IQHandlerFunc(m.query))
}

func (m *Module) query(_ context.Context, iq *router.IQ) (*xml.Element, error) {
	q := xml.New(NS, "query")
	q.Append(xml.New(NS, "name").AppendText("Skald"))
	q.Append(xml.New(NS, "version").AppendText(m.version))
	if m.cfg.ShowOS {
		q.Append(xml.New(NS, "os").AppendText(runtime.GOOS))
	}
	return stanza.Result(iq.Stanza).Append(q), nil
}
