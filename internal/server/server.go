// Package server assembles a Skald server from its configuration: storage,
// router, the feature modules in their one ordered list, and the c2s
// listeners. cmd/skald runs it; end-to-end tests start it on loopback.
//
// Layering: server is the top of the tree below cmd; it may import every
// package, and nothing but cmd/skald and tests imports it.
package server

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/skald-xmpp/skald/adhoc"
	"github.com/skald-xmpp/skald/blocking"
	"github.com/skald-xmpp/skald/bosh"
	"github.com/skald-xmpp/skald/c2s"
	"github.com/skald-xmpp/skald/carbons"
	"github.com/skald-xmpp/skald/component"
	"github.com/skald-xmpp/skald/config"
	"github.com/skald-xmpp/skald/disco"
	"github.com/skald-xmpp/skald/entitytime"
	"github.com/skald-xmpp/skald/extdisco"
	"github.com/skald-xmpp/skald/internal/certs"
	"github.com/skald-xmpp/skald/internal/hostmeta"
	"github.com/skald-xmpp/skald/internal/metrics"
	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/jid"
	"github.com/skald-xmpp/skald/lastactivity"
	"github.com/skald-xmpp/skald/mam"
	"github.com/skald-xmpp/skald/muc"
	"github.com/skald-xmpp/skald/offline"
	"github.com/skald-xmpp/skald/pep"
	"github.com/skald-xmpp/skald/ping"
	"github.com/skald-xmpp/skald/presence"
	"github.com/skald-xmpp/skald/private"
	"github.com/skald-xmpp/skald/push"
	"github.com/skald-xmpp/skald/register"
	"github.com/skald-xmpp/skald/roster"
	"github.com/skald-xmpp/skald/router"
	"github.com/skald-xmpp/skald/s2s"
	"github.com/skald-xmpp/skald/sasl"
	"github.com/skald-xmpp/skald/serverinfo"
	"github.com/skald-xmpp/skald/storage"
	"github.com/skald-xmpp/skald/storage/memory"
	"github.com/skald-xmpp/skald/storage/postgres"
	"github.com/skald-xmpp/skald/storage/sqlite"
	"github.com/skald-xmpp/skald/stream"
	"github.com/skald-xmpp/skald/upload"
	"github.com/skald-xmpp/skald/vcard"
	"github.com/skald-xmpp/skald/version"
	"github.com/skald-xmpp/skald/websocket"
)

// Version is the server version reported by XEP-0092.
const Version = "0.1.0"

// Sections lists the module config sections this build understands.
var Sections = []string{"mam", "offline", "version", "roster", "vcard", "private", "pep", "muc", "websocket", "bosh", "upload", "register", "s2s", "extdisco", "server", "adhoc", "push", "component"}

// Server is an assembled, not yet listening, Skald server.
type Server struct {
	Config *config.Config
	Store  storage.Store
	Router *router.Router
	MAM    *mam.Module
	// MUC is the multi-user chat service; nil when [muc] enabled = false.
	MUC *muc.Module
	// Push is the XEP-0357 module; nil when [push] enabled = false.
	Push *push.Module
	// VCard is the vcard-temp module (with XEP-0398's conversion).
	VCard *vcard.Module
	C2S   *c2s.Server
	// WebSocket serves XMPP over WebSocket and host-meta; nil unless
	// [websocket] address is set.
	WebSocket *websocket.Server
	// BOSH serves XMPP over BOSH; nil unless [bosh] address is set.
	BOSH *bosh.Server
	// Upload is the XEP-0363 module, nil unless [upload] address is set.
	Upload *upload.Module
	// S2S is the server-to-server transport, nil unless [s2s] address
	// is set.
	S2S *s2s.Server
	// Component is the XEP-0114 external component transport, nil
	// unless [component] address is set.
	Component *component.Server
	// Metrics holds every metric, served at metrics_address.
	Metrics *metrics.Registry
	log     *slog.Logger

	tls             *tls.Config
	memoryFallback  bool
	wg              sync.WaitGroup
	cancel          context.CancelFunc
	listeners       []net.Listener
	wsListener      net.Listener // [websocket] address
	boshListener    net.Listener // [bosh] address
	debugListener   net.Listener // debug_address, see debug.go
	debug           *http.Server
	metricsListener net.Listener // metrics_address, see metrics.go
	metricsHTTP     *http.Server
	uploadConfig    upload.Config
	uploadTLS       *tls.Config  // the certificate, without c2s's ALPN
	uploadListener  net.Listener // [upload] address, see upload.go
	uploadHTTP      *http.Server
	s2sListener     net.Listener // [s2s] address
	s2sAddress      string
	compListener    net.Listener // [component] address
	compAddress     string
	releases        metrics.Counter // free-memory releases, see memory.go
}

// Options adjust assembly for tests.
type Options struct {
	// TLS overrides the configured or generated certificate.
	TLS *tls.Config
	// Store overrides the configured storage.
	Store storage.Store
	// S2SRoots verifies remote servers' certificates instead of the
	// system's roots; S2SResolver finds them instead of DNS.
	S2SRoots    *x509.CertPool
	S2SResolver s2s.Resolver
}

// New assembles the server.
func New(ctx context.Context, cfg *config.Config, log *slog.Logger, opt Options) (*Server, error) {
	if log == nil {
		log = slog.Default()
	}
	s := &Server{Config: cfg, log: log, tls: opt.TLS, Store: opt.Store, Metrics: metrics.NewRegistry()}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	if s.Store == nil {
		s.Store, s.memoryFallback = OpenStore(ctx, cfg, log)
	}
	mods, err := DecodeModuleConfig(cfg)
	if err != nil {
		return nil, err
	}
	if s.tls == nil {
		t, err := loadTLS(cfg, certDomains(cfg, mods), log)
		if err != nil {
			return nil, err
		}
		s.tls = t
	}
	secret, err := LoadSecret(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	if err := sasl.SetDecoyParameters(secret, sasl.DefaultIterations); err != nil {
		return nil, err
	}

	r := router.New(router.Config{Domains: cfg.Domains, Users: s.Store, Log: log})
	s.Router = r
	ros := roster.New(mods.Roster, s.Store, r)
	mamMod, err := mam.New(mods.MAM, s.Store, s.Store, secret, log)
	if err != nil {
		return nil, err
	}
	s.MAM = mamMod
	dis := disco.New(r)
	dis.SetRoster(ros)
	blk := blocking.New(s.Store, r, log)
	pres := presence.New(r, ros)
	pres.SetBlocker(blk)
	pres.SetRequestStore(s.Store)
	blk.SetPresence(pres)
	off := offline.New(mods.Offline, s.Store, log)
	off.SetBlocker(blk)
	off.SetArchiveChecker(mamMod)
	pepMod := pep.New(mods.PEP, s.Store, ros, r, log)
	pepMod.SetBlocker(blk)
	priv := private.New(mods.Private, s.Store)
	// XEP-0402 §5 (#compat): XEP-0048 bookmarks in private XML and the
	// PEP node of XEP-0402 kept in step through pep's own publish.
	priv.SetPEP(pepMod, log)
	pepMod.AddObserver(priv)
	vc := vcard.New(mods.VCard, s.Store)
	s.VCard = vc
	// XEP-0398: vCard photos and XEP-0084 avatars converted both ways
	// (pep tells vcard of the accounts' own publishes), the photo's hash
	// put in presence (router.PresenceRewriter).
	vc.SetPEP(pepMod, log)
	pepMod.AddObserver(vc)
	// The order matters: archiving runs before carbons (sent carbons carry
	// the sender's archive id), presence before offline delivery, and
	// blocking before archiving (a blocked message is never archived).
	list := []router.Module{
		dis,
		ping.New(),
		ros,
		pres,
		blk,
		mamMod,
		carbons.New(r),
		off,
		vc,
		priv,
	}
	if mods.MUC.Enabled {
		// A service of its own (conference.<domain>), hosted through
		// router.Service; it archives its rooms through mam.
		mucMod := muc.New(mods.MUC, r, mamMod, s.Store, secret, log)
		for _, d := range mucMod.ServiceDomains() {
			if r.IsLocalDomain(d) {
				return nil, fmt.Errorf("[muc] domain: %s is a hosted domain too; choose another label", d)
			}
		}
		if err := mucMod.Load(ctx); err != nil {
			return nil, err
		}
		list = append(list, mucMod)
		s.MUC = mucMod
	}
	if mods.Version.Enabled {
		list = append(list, version.New(mods.Version, Version))
	}
	if mods.Push.Enabled {
		// A delivery observer: after offline storage and carbons, it
		// sees where each message went and wakes the clients that missed it.
		s.Push = push.New(mods.Push, s.Store, r, log)
		list = append(list, s.Push)
	}
	list = append(list, pepMod)
	if mods.Upload.Enabled() {
		up, err := upload.New(mods.Upload, filepath.Join(cfg.DataDir, "uploads"), secret, log)
		if err != nil {
			return nil, err
		}
		s.Upload, s.uploadConfig, s.uploadTLS = up, mods.Upload, s.tls
		list = append(list, up)
	}
	reg := register.New(mods.Register, s.Store, r, register.Hooks{
		BeforeDelete: cancelSubscriptions(s.Store, pres),
		AfterDelete:  s.afterAccountDeleted,
	}, log)
	// Last Activity of accounts: logouts kept as documents (deleted with
	// the account), answered to those who may see the presence.
	last := lastactivity.New(time.Now(), s.Store, ros, r, nil, log)
	last.SetBlocker(blk)
	// XEP-0133 administration manages accounts through register, the
	// one path by which the running server creates and deletes them.
	cmds := adhoc.New(mods.Adhoc, cfg.Admins, log)
	cmds.AddAdminCommands(r, s.Store, reg)
	if s.Push != nil {
		// Each account chooses which room messages push (XEP-0357).
		cmds.AddPushCommand(s.Push)
	}
	if mods.Register.AllowRegistration {
		warnUnclaimedAdmins(ctx, s.Store, cfg.Admins, log)
	}
	warnOnlyPlusMechanisms(cfg.C2S.SASLMechanisms, log)
	list = append(list,
		reg,
		cmds,
		entitytime.New(nil),
		last,
		serverinfo.New(mods.Server)) // XEP-0157 contact addresses, if any
	if mods.ExtDisco.Enabled() {
		// Only with services: the feature is advertised iff there is
		// something to discover (XEP-0215 §5).
		list = append(list, extdisco.New(mods.ExtDisco, nil))
	}
	r.Register(list...)
	if mods.Component.Enabled() {
		// After the modules: its domains must clash with no service's
		// (DecodeModuleConfig checked; the router panics otherwise).
		s.Component = component.New(mods.Component, r, log)
		s.compAddress = mods.Component.Address
		if !config.IsLoopback(mods.Component.Address) {
			log.Warn("[component] address is not a loopback address: XEP-0114 streams are not encrypted", "address", mods.Component.Address)
		}
	}
	if mods.S2S.Enabled() {
		dbSecret := s2s.DeriveSecret(secret)
		if mods.S2S.DialbackSecret != "" {
			dbSecret = []byte(mods.S2S.DialbackSecret)
		}
		// Before c2s adds its ALPN to s.tls: s2s speaks xmpp-server.
		s.S2S = s2s.New(mods.S2S, r, s2s.Options{
			TLS: s.tls, Roots: opt.S2SRoots, Secret: dbSecret, Resolver: opt.S2SResolver, Log: log,
		})
		s.s2sAddress = mods.S2S.Address
	}

	cc := c2s.DefaultConfig()
	cc.TLS = s.tls
	cc.RequireTLS = cfg.C2S.RequireTLS
	cc.Limits = xml.Limits{MaxStanzaBytes: int64(cfg.C2S.MaxStanzaBytes), MaxDepth: cfg.C2S.MaxDepth, MaxAttrs: cfg.C2S.MaxAttrs}
	if cfg.C2S.IdleTimeout > 0 {
		cc.IdleTimeout = cfg.C2S.IdleTimeout
	}
	cc.NegotiationTimeout = cfg.C2S.NegotiationTimeout
	cc.SendQueueBytes = cfg.C2S.SendQueueBytes
	cc.AuthFailuresPerMinute = cfg.C2S.AuthFailuresPerMinutePerIP
	cc.AccountAuthFailuresPerMinute = cfg.C2S.AuthFailuresPerMinutePerAccount
	cc.ReadBytesPerSecond = cfg.C2S.ReadBytesPerSecond
	cc.KeepaliveInterval = cfg.C2S.KeepaliveInterval
	cc.CSI = cfg.C2S.CSI
	cc.MaxConnections = cfg.C2S.MaxConnections
	cc.MaxConnectionsPerIP = cfg.C2S.MaxConnectionsPerIP
	cc.Mechanisms = cfg.C2S.SASLMechanisms
	cc.FastTokens = s.Store
	cc.FastTokenLifetime = cfg.C2S.FastTokenLifetime
	wsTLS := s.tls // before the ALPN of direct TLS: wss:// speaks HTTP/1.1
	if s.tls != nil {
		// XEP-0368: direct TLS clients offer the ALPN protocol xmpp-client.
		s.tls = s.tls.Clone()
		s.tls.NextProtos = []string{"xmpp-client"}
		cc.TLS = s.tls
	}
	cc.ExtraFeatures = []*xml.Element{
		xml.New(stream.NSVer, "ver"),
		xml.New(stream.NSPreApproval, "sub"),
		dis.Caps(),
	}
	cc.Registrar = reg // offers sign-up only with allow_registration
	// XEP-0386: the archive's metadata at binding, in <bound/>.
	cc.BoundInfo = []c2s.BoundInfo{mamMod}
	s.C2S = c2s.NewServer(cc, r, s.Store, log)
	if mods.WebSocket.Enabled() {
		if s.WebSocket, err = websocket.New(mods.WebSocket, s.C2S, wsTLS, cc.Limits, log); err != nil {
			return nil, err
		}
	}
	if mods.BOSH.Enabled() {
		if s.BOSH, err = bosh.New(mods.BOSH, s.C2S, wsTLS, cc.Limits, r.IsLocalDomain, log); err != nil {
			return nil, err
		}
	}

	// The metrics, registered here and only here, in one ordered list:
	// each source defines its own next to what it measures.
	s.Metrics.Register(metricSources(s)...)
	return s, nil
}

// cancelSubscriptions ends every subscription of an account being
// deleted in-band as if its roster items were removed (RFC 6121 §2.5.2):
// contacts get unavailable presence and unsubscribe/unsubscribed, and
// their rosters change. XEP-0077 §3.2 SHOULD.
func cancelSubscriptions(rosters storage.Rosters, pres *presence.Module) func(context.Context, jid.JID) error {
	return func(ctx context.Context, account jid.JID) error {
		items, _, err := rosters.Roster(ctx, account.String())
		if err != nil {
			return err
		}
		var first error
		for _, it := range items {
			if err := pres.RosterItemRemoving(ctx, account, it); err != nil && first == nil {
				first = err
			}
		}
		return first
	}
}

// ModuleConfig holds the decoded module sections.
type ModuleConfig struct {
	MAM     mam.Config
	Offline offline.Config
	Version version.Config
	Roster  roster.Config
	VCard   vcard.Config
	Private private.Config
	PEP     pep.Config
	MUC     muc.Config
	// WebSocket is the [websocket] section: a transport, not a module,
	// but configured the same way.
	WebSocket websocket.Config
	// BOSH is the [bosh] section: XMPP over BOSH, a transport too.
	BOSH     bosh.Config
	Upload   upload.Config
	Register register.Config
	// S2S is the [s2s] section: the server-to-server transport.
	S2S s2s.Config
	// ExtDisco is [extdisco]: STUN/TURN servers for calls (XEP-0215).
	ExtDisco extdisco.Config
	// Server is [server]: contact addresses (XEP-0157).
	Server serverinfo.Config
	// Adhoc is [adhoc]: ad-hoc command sessions (XEP-0050).
	Adhoc adhoc.Config
	// Push is [push]: XEP-0357 push notifications.
	Push push.Config
	// Component is [component]: XEP-0114 external components, a
	// transport.
	Component component.Config
}

// DecodeModuleConfig decodes and validates every module section (over its
// defaults) and rejects sections no module claims. "skald config check"
// runs it too.
func DecodeModuleConfig(cfg *config.Config) (ModuleConfig, error) {
	m := ModuleConfig{
		MAM:       mam.DefaultConfig(),
		Offline:   offline.DefaultConfig(),
		Version:   version.DefaultConfig(),
		Roster:    roster.DefaultConfig(),
		VCard:     vcard.DefaultConfig(),
		Private:   private.DefaultConfig(),
		PEP:       pep.DefaultConfig(),
		MUC:       muc.DefaultConfig(),
		WebSocket: websocket.DefaultConfig(),
		BOSH:      bosh.DefaultConfig(),
		Upload:    upload.DefaultConfig(),
		Register:  register.DefaultConfig(),
		S2S:       s2s.DefaultConfig(),
		ExtDisco:  extdisco.DefaultConfig(),
		Server:    serverinfo.DefaultConfig(),
		Adhoc:     adhoc.DefaultConfig(),
		Push:      push.DefaultConfig(),
		Component: component.DefaultConfig(),
	}
	sections := []struct {
		name     string
		v        any
		validate func() error
	}{
		{"mam", &m.MAM, func() error { return m.MAM.Validate() }},
		{"offline", &m.Offline, func() error { return m.Offline.Validate() }},
		{"version", &m.Version, func() error { return m.Version.Validate() }},
		{"roster", &m.Roster, func() error { return m.Roster.Validate() }},
		{"vcard", &m.VCard, func() error { return m.VCard.Validate() }},
		{"private", &m.Private, func() error { return m.Private.Validate() }},
		{"pep", &m.PEP, func() error { return m.PEP.Validate() }},
		{"muc", &m.MUC, func() error { return m.MUC.Validate() }},
		{"websocket", &m.WebSocket, func() error { return m.WebSocket.Validate() }},
		{"bosh", &m.BOSH, func() error { return m.BOSH.Validate() }},
		{"upload", &m.Upload, func() error { return m.Upload.Validate() }},
		{"register", &m.Register, func() error { return m.Register.Validate() }},
		{"s2s", &m.S2S, func() error { return m.S2S.Validate() }},
		{"extdisco", &m.ExtDisco, func() error { return m.ExtDisco.Validate() }},
		{"server", &m.Server, func() error { return m.Server.Validate() }},
		{"adhoc", &m.Adhoc, func() error { return m.Adhoc.Validate() }},
		{"push", &m.Push, func() error { return m.Push.Validate() }},
		{"component", &m.Component, func() error { return m.Component.Validate() }},
	}
	for _, sec := range sections {
		if err := cfg.DecodeSection(sec.name, sec.v); err != nil {
			return m, err
		}
		if err := sec.validate(); err != nil {
			return m, fmt.Errorf("[%s]: %w", sec.name, err)
		}
	}
	if err := checkComponentDomains(cfg, m); err != nil {
		return m, err
	}
	return m, cfg.CheckAllSectionsClaimed(Sections)
}

// checkComponentDomains refuses a component domain that is served
// otherwise: a hosted domain, or the service domain of a module enabled
// (muc's conference.<domain>). Its stanzas could go to only one of them.
func checkComponentDomains(cfg *config.Config, m ModuleConfig) error {
	taken := map[string]string{}
	for _, d := range cfg.Domains {
		taken[d] = "a hosted domain"
	}
	if m.MUC.Enabled {
		for _, d := range muc.ServiceDomains(m.MUC, cfg.Domains) {
			taken[d] = "the [muc] service domain"
		}
	}
	for _, d := range m.Component.DomainNames() {
		if what, ok := taken[d]; ok {
			return fmt.Errorf("[component] domains: %s is %s too; a component needs a domain of its own", d, what)
		}
	}
	return nil
}

// OpenStore opens the configured store. If the archive-capable store
// (SQLite or PostgreSQL) cannot be opened the server runs on memory, and
// says so loudly (the caller keeps repeating the warning).
func OpenStore(ctx context.Context, cfg *config.Config, log *slog.Logger) (storage.Store, bool) {
	var st storage.Store
	var err error
	var where []any
	switch cfg.Storage.Backend {
	case config.BackendMemory:
		log.Warn("storage backend is memory: accounts, rosters and archives are lost at restart")
		return memory.New(), false
	case config.BackendPostgres:
		where = []any{"dsn", cfg.Storage.RedactedDSN()}
		st, err = postgres.Open(ctx, cfg.Storage.DSN, postgres.Options{})
	default:
		where = []any{"path", cfg.DatabasePath()}
		st, err = sqlite.Open(ctx, cfg.DatabasePath(), sqlite.Options{OnMigration: func(name string) {
			log.Warn("upgrading the database schema; on a large archive this can take minutes, do not interrupt",
				"path", cfg.DatabasePath(), "migration", name)
		}})
	}
	if err == nil {
		log.Info("storage opened", append([]any{"backend", st.Name()}, where...)...)
		return st, false
	}
	log.Error("ARCHIVE STORAGE UNAVAILABLE: running on an in-memory store; messages, accounts and archives will be lost at restart",
		append([]any{"backend", cfg.Storage.Backend}, append(where, "err", err)...)...)
	return memory.New(), true
}

// certDomains returns every domain the server answers for, which a
// self-signed certificate names: the hosted domains, then the service
// domains of the modules enabled (conference.<domain>), which remote
// servers connect to over s2s and check the certificate against.
func certDomains(cfg *config.Config, mods ModuleConfig) []string {
	domains := slices.Clone(cfg.Domains)
	if mods.MUC.Enabled {
		domains = append(domains, muc.ServiceDomains(mods.MUC, cfg.Domains)...)
	}
	if mods.Component.Enabled() {
		// Remote servers reach components over s2s too.
		domains = append(domains, mods.Component.DomainNames()...)
	}
	return domains
}

// loadTLS loads the configured certificate or, without one, the
// self-signed certificate for domains in the data directory (made or
// renewed as needed).
func loadTLS(cfg *config.Config, domains []string, log *slog.Logger) (*tls.Config, error) {
	certFile, keyFile := cfg.TLS.CertFile, cfg.TLS.KeyFile
	if cfg.SelfSigned() {
		var err error
		certFile, keyFile, err = certs.EnsureSelfSignedLog(log, cfg.DataDir, domains)
		if err != nil {
			return nil, fmt.Errorf("self-signed certificate: %w", err)
		}
	}
	return certs.Load(certFile, keyFile)
}

// LoadSecret reads the server secret (archive id key, SASL decoys) from
// dataDir, which must exist, or creates it on first use. The archive
// commands of cmd/skald use it to show the archive ids clients see.
func LoadSecret(dataDir string) ([]byte, error) {
	return loadSecret(filepath.Join(dataDir, "secret.key"))
}

func loadSecret(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	switch {
	case err == nil && len(b) == 32:
		return b, nil
	case err == nil:
		// Replacing it would silently change every archive id clients
		// hold; an operator must decide.
		return nil, fmt.Errorf("server secret %s: has %d bytes, want 32; restore it from a backup (or delete it to start a new id space)", path, len(b))
	case !errors.Is(err, os.ErrNotExist):
		return nil, fmt.Errorf("server secret: %w", err)
	}
	b = make([]byte, 32)
	rand.Read(b)
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return nil, fmt.Errorf("server secret: %w", err)
	}
	return b, nil
}

// Listen binds the configured listeners (so callers learn the addresses
// before serving).
func (s *Server) Listen() error {
	for _, a := range []struct {
		addr   string
		direct bool
	}{{s.Config.C2S.StartTLSAddress, false}, {s.Config.C2S.DirectTLSAddress, true}} {
		if a.addr == "" {
			continue
		}
		l, err := net.Listen("tcp", a.addr)
		if err != nil {
			s.closeListeners()
			return fmt.Errorf("listen %s: %w", a.addr, err)
		}
		s.listeners = append(s.listeners, &taggedListener{l, a.direct})
	}
	if s.WebSocket != nil {
		l, err := net.Listen("tcp", s.WebSocket.Address())
		if err != nil {
			s.closeListeners()
			return fmt.Errorf("listen %s: %w", s.WebSocket.Address(), err)
		}
		s.wsListener = l
	}
	if s.BOSH != nil {
		l, err := net.Listen("tcp", s.BOSH.Address())
		if err != nil {
			s.closeListeners()
			return fmt.Errorf("listen %s: %w", s.BOSH.Address(), err)
		}
		s.boshListener = l
	}
	if s.S2S != nil {
		l, err := net.Listen("tcp", s.s2sAddress)
		if err != nil {
			s.closeListeners()
			return fmt.Errorf("listen %s: %w", s.s2sAddress, err)
		}
		s.s2sListener = l
	}
	if s.Component != nil {
		l, err := net.Listen("tcp", s.compAddress)
		if err != nil {
			s.closeListeners()
			return fmt.Errorf("listen %s: %w", s.compAddress, err)
		}
		s.compListener = l
	}
	if err := s.listenDebug(); err != nil {
		s.closeListeners()
		return fmt.Errorf("listen %s: %w", s.Config.DebugAddress, err)
	}
	if err := s.listenMetrics(); err != nil {
		s.closeListeners()
		return fmt.Errorf("listen %s: %w", s.Config.MetricsAddress, err)
	}
	if err := s.listenUpload(); err != nil {
		s.closeListeners()
		return fmt.Errorf("listen %s: %w", s.uploadConfig.Address, err)
	}
	return nil
}

type taggedListener struct {
	net.Listener
	direct bool
}

func (s *Server) closeListeners() {
	for _, l := range s.listeners {
		l.Close()
	}
	if s.wsListener != nil {
		s.wsListener.Close()
	}
	if s.boshListener != nil {
		s.boshListener.Close()
	}
	if s.s2sListener != nil {
		s.s2sListener.Close()
	}
	if s.compListener != nil {
		s.compListener.Close()
	}
	if s.debugListener != nil {
		s.debugListener.Close()
	}
	if s.metricsListener != nil {
		s.metricsListener.Close()
	}
	if s.uploadListener != nil {
		s.uploadListener.Close()
	}
}

// Addrs returns the listening addresses: STARTTLS first, then direct TLS.
func (s *Server) Addrs() (starttls, directTLS string) {
	for _, l := range s.listeners {
		if l.(*taggedListener).direct {
			directTLS = l.Addr().String()
		} else {
			starttls = l.Addr().String()
		}
	}
	return
}

// WebSocketAddr returns the WebSocket listener's address, "" if none.
func (s *Server) WebSocketAddr() string {
	if s.wsListener == nil {
		return ""
	}
	return s.wsListener.Addr().String()
}

// announceAltConnections sets up the XEP-0156 host-meta documents: the
// WebSocket listener serves them when there is one, and announces BOSH
// too; otherwise the BOSH listener serves them. A BOSH endpoint announced
// from the WebSocket listener without [bosh] url is the host the client
// asked for with the BOSH listener's port.
func (s *Server) announceAltConnections() {
	switch {
	case s.WebSocket != nil && s.BOSH != nil && s.boshListener != nil:
		_, port, _ := net.SplitHostPort(s.boshListener.Addr().String())
		s.WebSocket.AnnounceAlso(func(r *http.Request) []hostmeta.Link {
			return []hostmeta.Link{{Rel: hostmeta.RelBOSH, Href: s.BOSH.Endpoint(r, port)}}
		})
	case s.BOSH != nil:
		s.BOSH.ServeHostMeta(nil)
	}
}

// BOSHAddr returns the BOSH listener's address, "" if none.
func (s *Server) BOSHAddr() string {
	if s.boshListener == nil {
		return ""
	}
	return s.boshListener.Addr().String()
}

// S2SAddr returns the server-to-server listener's address, "" if none.
func (s *Server) S2SAddr() string {
	if s.s2sListener == nil {
		return ""
	}
	return s.s2sListener.Addr().String()
}

// ComponentAddr returns the component listener's address, "" without one.
func (s *Server) ComponentAddr() string {
	if s.compListener == nil {
		return ""
	}
	return s.compListener.Addr().String()
}

// Start serves the listeners and starts background jobs.
func (s *Server) Start(ctx context.Context) {
	ctx, s.cancel = context.WithCancel(ctx)
	s.announceAltConnections() // before the HTTP listeners serve
	for _, l := range s.listeners {
		tl := l.(*taggedListener)
		s.log.Info("c2s listening", "addr", tl.Addr().String(), "direct_tls", tl.direct)
		s.goroutine(func() {
			if err := s.C2S.Serve(tl.Listener, tl.direct); err != nil && !errors.Is(err, c2s.ErrServerClosed) {
				s.log.Error("c2s listener stopped", "err", err)
			}
		})
	}
	if s.wsListener != nil {
		s.log.Info("websocket listening", "addr", s.wsListener.Addr().String())
		s.goroutine(func() {
			if err := s.WebSocket.Serve(s.wsListener); err != nil {
				s.log.Error("websocket listener stopped", "err", err)
			}
		})
	}
	if s.boshListener != nil {
		s.log.Info("bosh listening", "addr", s.boshListener.Addr().String())
		s.goroutine(func() {
			if err := s.BOSH.Serve(s.boshListener); err != nil {
				s.log.Error("bosh listener stopped", "err", err)
			}
		})
	}
	if s.s2sListener != nil {
		s.log.Info("s2s listening", "addr", s.s2sListener.Addr().String())
		s.goroutine(func() {
			if err := s.S2S.Serve(s.s2sListener); err != nil && !errors.Is(err, s2s.ErrServerClosed) {
				s.log.Error("s2s listener stopped", "err", err)
			}
		})
	}
	if s.compListener != nil {
		s.log.Info("component listening", "addr", s.compListener.Addr().String(), "domains", s.Component.ComponentDomains())
		s.goroutine(func() {
			if err := s.Component.Serve(s.compListener); err != nil && !errors.Is(err, component.ErrServerClosed) {
				s.log.Error("component listener stopped", "err", err)
			}
		})
	}
	s.serveDebug()
	s.serveMetrics()
	s.serveUpload(ctx)
	s.goroutine(func() { s.MAM.Cleaner().Run(ctx) })
	if s.Config.ReleaseFreeMemory {
		s.goroutine(func() {
			releaseFreeMemory(ctx, &releaser{every: releaseCheckEvery, horizon: quietHorizon, maxRate: quietMaxRate, releases: &s.releases}, s.log)
		})
	}
	if s.memoryFallback {
		s.goroutine(func() {
			t := time.NewTicker(time.Hour)
			defer t.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case <-t.C:
					s.log.Error("ARCHIVE STORAGE UNAVAILABLE: still running on an in-memory store")
				}
			}
		})
	}
}

func (s *Server) goroutine(f func()) {
	s.wg.Add(1)
	go func() { defer s.wg.Done(); f() }()
}

// Shutdown ends every stream with system-shutdown, stops background jobs
// and closes the store, in that order, so that what sessions hand back
// (unacknowledged messages) is stored before the store closes.
func (s *Server) Shutdown(ctx context.Context) error {
	if s.MUC != nil {
		s.MUC.Shutdown() // occupants learn why they leave (332) before their streams end
	}
	err := s.C2S.Shutdown(ctx)
	if s.S2S != nil {
		// After c2s: the unavailable presence of the sessions it ended
		// still goes to remote contacts before the streams close.
		if serr := s.S2S.Shutdown(ctx); serr != nil && err == nil {
			err = serr
		}
	}
	if s.Component != nil {
		// After c2s, like s2s: the ended sessions' unavailable presence
		// still reaches the components' contacts.
		if cerr := s.Component.Shutdown(ctx); cerr != nil && err == nil {
			err = cerr
		}
	}
	if s.WebSocket != nil {
		// After c2s, which ended the WebSocket streams with <close/>.
		if werr := s.WebSocket.Shutdown(ctx); werr != nil && err == nil {
			err = werr
		}
	}
	if s.BOSH != nil {
		// After c2s, which ended the BOSH streams with a stream error
		// their clients get as remote-stream-error.
		if berr := s.BOSH.Shutdown(ctx); berr != nil && err == nil {
			err = berr
		}
	}
	if s.debug != nil {
		s.debug.Close() // a running profile is cut short, not waited for
	}
	if s.metricsHTTP != nil {
		s.metricsHTTP.Close()
	}
	s.shutdownUpload(ctx)
	// A server that was never started still holds its bound listeners:
	// http.Server.Close closes only those it serves. A second Close of a
	// served one is a harmless error.
	s.closeListeners()
	if s.cancel != nil {
		s.cancel()
	}
	s.wg.Wait()
	if s.Push != nil {
		// After s2s: no app server's answer arrives any more.
		s.Push.Shutdown()
	}
	if cerr := s.Store.Close(); cerr != nil && err == nil {
		err = cerr
	}
	return err
}

// warnOnlyPlusMechanisms warns when every configured SASL mechanism
// binds to the TLS channel (-PLUS): clients that cannot bind, and every
// client of the WebSocket and BOSH listeners behind a proxy that ends
// TLS (no channel of Skald's own to bind to), then cannot log in at all.
// A valid choice for a closed deployment, so a warning, not an error.
func warnOnlyPlusMechanisms(mechs []string, log *slog.Logger) {
	if len(mechs) == 0 {
		return
	}
	for _, m := range mechs {
		if !strings.HasSuffix(m, "-PLUS") {
			return
		}
	}
	log.Warn("[c2s] sasl_mechanisms lists only channel-binding (-PLUS) mechanisms: clients without channel binding, and WebSocket or BOSH clients behind a TLS-terminating proxy, cannot log in",
		"sasl_mechanisms", strings.Join(mechs, ","))
}

// warnUnclaimedAdmins warns about each admin whose account does not exist
// while anyone may sign up: the first to register that name would run the
// XEP-0133 commands.
func warnUnclaimedAdmins(ctx context.Context, st storage.Store, admins []string, log *slog.Logger) {
	for _, a := range admins {
		if ok, err := st.UserExists(ctx, a); err == nil && !ok {
			log.Warn("an admin account does not exist and [register] allow_registration is on: whoever registers it first becomes an admin; create it now", "admin", a)
		}
	}
}
