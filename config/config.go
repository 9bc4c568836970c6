package config

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/skald-xmpp/skald/jid"
	"github.com/skald-xmpp/skald/sasl"
)

// Config is the server configuration: the core settings plus the
// not yet decoded module sections of the file it was loaded from.
type Config struct {
	// Domains are the XMPP domains this server hosts.
	Domains []string `toml:"domains"`
	// DataDir holds the database, the generated certificate and other state.
	DataDir string `toml:"data_dir"`
	// LogLevel is "debug", "info", "warn" or "error".
	LogLevel string `toml:"log_level"`
	// DebugAddress, if set, serves Go's runtime profiles (CPU, heap,
	// goroutines, execution trace: net/http/pprof) over HTTP at
	// /debug/pprof/. Loopback addresses only: profiles show memory
	// contents. "" (the default) serves nothing.
	DebugAddress string `toml:"debug_address"`
	// MetricsAddress, if set, serves the operator metrics in the Prometheus
	// text format over HTTP at /metrics (nothing else). Any host:port: the
	// metrics are counts, not memory contents. "" (the default) serves
	// nothing.
	MetricsAddress string `toml:"metrics_address"`
	// ReleaseFreeMemory returns the memory Go's collector holds free to the
	// operating system whenever the server is quiet, rather than keeping up
	// to twice the live heap mapped (see internal/server/memory.go).
	ReleaseFreeMemory bool `toml:"release_free_memory"`
	// Admins are the accounts (bare JIDs on served domains) that
	// administer the server from their client: the XEP-0133 ad-hoc
	// commands (adhoc). Prosody's option name. Empty: nobody.
	Admins []string `toml:"admins"`

	C2S     C2S     `toml:"c2s"`
	TLS     TLS     `toml:"tls"`
	Storage Storage `toml:"storage"`

	// Path is the file the configuration was loaded from, "" for Default.
	Path string `toml:"-"`

	mu       sync.Mutex // guards md (decoding mutates it) and claimed
	src      []byte
	md       toml.MetaData
	sections map[string]toml.Primitive // module sections by name
	claimed  map[string]bool           // sections decoded by DecodeSection
}

// C2S configures the client-to-server listeners (RFC 6120) and the limits
// applied to each client connection.
type C2S struct {
	// StartTLSAddress is the listener where clients start in the clear and
	// upgrade with STARTTLS (RFC 6120 §5); "" disables it.
	StartTLSAddress string `toml:"starttls_address"`
	// DirectTLSAddress is the XEP-0368 listener where TLS starts at once;
	// "" disables it.
	DirectTLSAddress string `toml:"direct_tls_address"`
	// RequireTLS makes STARTTLS mandatory-to-negotiate. It may be false only
	// when the STARTTLS listener is bound to a loopback address.
	RequireTLS bool `toml:"require_tls"`
	// MaxStanzaBytes bounds one stanza; bigger ones close the stream with
	// policy-violation. RFC 6120 §13.12 requires at least 10000.
	MaxStanzaBytes int `toml:"max_stanza_bytes"`
	// MaxDepth bounds element nesting inside a stanza.
	MaxDepth int `toml:"max_depth"`
	// MaxAttrs bounds the attributes of one element.
	MaxAttrs int `toml:"max_attrs"`
	// IdleTimeout closes connections that sent nothing for this long.
	IdleTimeout time.Duration `toml:"idle_timeout"`
	// NegotiationTimeout closes a connection that has not bound a resource
	// (or resumed a session) this long after it was accepted, whatever it
	// sends meanwhile; 0 leaves it to idle_timeout.
	NegotiationTimeout time.Duration `toml:"negotiation_timeout"`
	// KeepaliveInterval is how often the server sends whitespace keepalives
	// on an otherwise quiet connection; 0 disables them.
	KeepaliveInterval time.Duration `toml:"keepalive_interval"`
	// SendQueueBytes bounds the data queued for one connection; a client
	// that does not read is disconnected rather than buffered without end.
	SendQueueBytes int `toml:"send_queue_bytes"`
	// AuthFailuresPerMinutePerIP and ...PerAccount bound failed
	// authentication attempts; 0 means no limit.
	AuthFailuresPerMinutePerIP      int `toml:"auth_failures_per_minute_per_ip"`
	AuthFailuresPerMinutePerAccount int `toml:"auth_failures_per_minute_per_account"`
	// ReadBytesPerSecond throttles how fast one client may send; a client
	// over the rate is read more slowly, not disconnected. 0 means no limit.
	ReadBytesPerSecond int `toml:"read_bytes_per_second"`
	// CSI offers XEP-0352 Client State Indication: while a client says it
	// is inactive, presence updates to it are held (the latest per
	// contact) and chat-state-only messages dropped.
	CSI bool `toml:"csi"`
	// MaxConnections caps the TCP connections open at once on both
	// listeners together, idle ones included; more are refused with the
	// resource-constraint stream error. 0 means no cap but the process's
	// descriptor limit.
	MaxConnections int `toml:"max_connections"`
	// MaxConnectionsPerIP caps those from one client address (an IPv6
	// /64); more are refused with policy-violation. 0 means no cap.
	MaxConnectionsPerIP int `toml:"max_connections_per_ip"`
	// SASLMechanisms lists the SASL mechanisms offered (each where the
	// connection allows it: PLAIN over TLS, -PLUS with channel binding),
	// in the server's order whatever the order here. Default: all. An
	// operator migrating from Prosody, whose accounts have SCRAM-SHA-1
	// keys only, may leave out SCRAM-SHA-256 and SCRAM-SHA-256-PLUS until
	// the users have logged in once (a PLAIN login adds the SHA-256 keys).
	SASLMechanisms []string `toml:"sasl_mechanisms"`
	// FastTokenLifetime is how long a XEP-0484 FAST token is valid (a
	// client that reconnects within half of it gets a fresh one); 0
	// stops offering FAST.
	FastTokenLifetime time.Duration `toml:"fast_token_lifetime"`
}

// TLS names the certificate. With both files empty the server generates a
// self-signed certificate in the data directory and reuses it afterwards.
type TLS struct {
	CertFile string `toml:"cert_file"`
	KeyFile  string `toml:"key_file"`
}

// Storage selects the persistence backend.
type Storage struct {
	// Backend is "sqlite", "postgres" or "memory" (nothing survives a
	// restart).
	Backend string `toml:"backend"`
	// Path is the SQLite database file; "" means DataDir/skald.db (see
	// Config.DatabasePath).
	Path string `toml:"path"`
	// DSN is the connection string of network database backends
	// (postgres: a postgres:// URL or libpq key=value settings).
	DSN string `toml:"dsn"`
}

// Storage backend names.
const (
	BackendSQLite   = "sqlite"
	BackendMemory   = "memory"
	BackendPostgres = "postgres"
)

// Defaults of the core settings.
const (
	DefaultDomain         = "localhost"
	DefaultDataDir        = "skald-data"
	DefaultDatabaseFile   = "skald.db"
	DefaultMaxStanzaBytes = 256 << 10
	DefaultSendQueueBytes = 1 << 20
	// DefaultFastTokenLifetime is two weeks: XEP-0484 §4.2 leaves it to
	// the deployment's policy on inactive devices; a phone unused for
	// that long logs in with its password again.
	DefaultFastTokenLifetime = 14 * 24 * time.Hour
)

// Default returns the zero-configuration settings: domain localhost, data
// in ./skald-data, SQLite, self-signed certificate.
func Default() *Config {
	return &Config{
		Domains:           []string{DefaultDomain},
		DataDir:           DefaultDataDir,
		LogLevel:          "info",
		ReleaseFreeMemory: true,
		C2S: C2S{
			StartTLSAddress:                 ":5222",
			DirectTLSAddress:                ":5223",
			RequireTLS:                      true,
			MaxStanzaBytes:                  DefaultMaxStanzaBytes,
			MaxDepth:                        64,
			MaxAttrs:                        64,
			IdleTimeout:                     5 * time.Minute,
			NegotiationTimeout:              time.Minute,
			KeepaliveInterval:               time.Minute,
			SendQueueBytes:                  DefaultSendQueueBytes,
			AuthFailuresPerMinutePerIP:      10,
			AuthFailuresPerMinutePerAccount: 5,
			ReadBytesPerSecond:              64 << 10,
			CSI:                             true,
			MaxConnectionsPerIP:             100,
			SASLMechanisms:                  sasl.Mechanisms(true, true),
			FastTokenLifetime:               DefaultFastTokenLifetime,
		},
		Storage: Storage{Backend: BackendSQLite},
	}
}

// coreKeys are the top-level keys Load decodes itself; every other
// top-level table is a module section.
var coreKeys = append([]string{"domains", "data_dir", "log_level", "debug_address", "metrics_address", "release_free_memory", "admins"}, coreTables...)

// coreTables are the core keys that are tables, named with the module
// sections when an unknown section is reported.
var coreTables = []string{"c2s", "tls", "storage"}

// Load reads and validates the file at path. Unknown core keys, bad types
// and invalid values are errors naming the file and line. Module sections
// are kept for DecodeSection.
func Load(path string) (*Config, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	c, err := parse(path, src)
	if err != nil {
		return nil, err
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c, nil
}

// parse decodes src on top of the defaults without validating.
func parse(path string, src []byte) (*Config, error) {
	c := Default()
	c.Path = path
	c.src = src

	var top map[string]toml.Primitive
	md, err := toml.NewDecoder(bytes.NewReader(src)).Decode(&top)
	if err != nil {
		return nil, decodeError(path, err)
	}
	c.md = md
	c.sections = map[string]toml.Primitive{}

	targets := map[string]any{
		"domains": &c.Domains, "data_dir": &c.DataDir, "log_level": &c.LogLevel,
		"debug_address": &c.DebugAddress, "metrics_address": &c.MetricsAddress, "release_free_memory": &c.ReleaseFreeMemory, "admins": &c.Admins, "c2s": &c.C2S, "tls": &c.TLS, "storage": &c.Storage,
	}
	var errs []error
	for _, k := range c.topKeys() {
		if dst, ok := targets[k]; ok {
			if err := c.md.PrimitiveDecode(top[k], dst); err != nil {
				return nil, decodeError(path, err)
			}
			if err := fixDurations(&c.md, toml.Key{k}, dst); err != nil {
				return nil, fmt.Errorf("%s:%d: %w", path, c.line(toml.Key{k}), err)
			}
			continue
		}
		if !c.isTable(k) {
			errs = append(errs, c.unknownKey(toml.Key{k}))
			continue
		}
		c.sections[k] = top[k]
	}
	errs = append(errs, c.undecodedUnder(coreKeys...)...)
	if len(errs) > 0 {
		return nil, errors.Join(c.sortByLine(errs)...)
	}
	c.finish(filepath.Dir(path))
	for i, d := range c.Domains {
		if j, err := jid.Parse(d); err == nil {
			c.Domains[i] = j.String() // canonical form; Validate reports bad ones
		}
	}
	for i, a := range c.Admins {
		if j, err := jid.Parse(a); err == nil {
			c.Admins[i] = j.String() // compared with the bare JIDs of sessions
		}
	}
	return c, nil
}

// topKeys lists the top-level keys of the file in file order, including
// tables that exist only through dotted keys ("mam.enabled = true") or
// sub-table headers ("[mam.prefs]").
func (c *Config) topKeys() []string {
	var out []string
	for _, k := range c.md.Keys() {
		if !slices.Contains(out, k[0]) {
			out = append(out, k[0])
		}
	}
	return out
}

// isTable reports whether the top-level key k is a table: declared with
// [k], or implied by [k.sub] or dotted keys "k.x = 1".
func (c *Config) isTable(k string) bool {
	switch c.md.Type(k) {
	case "Hash":
		return true
	case "":
		return slices.ContainsFunc(c.md.Keys(), func(kk toml.Key) bool { return len(kk) > 1 && kk[0] == k })
	}
	return false
}

// finish makes relative paths relative to base (the directory of the file;
// "" = the working directory).
func (c *Config) finish(base string) {
	c.DataDir = resolve(base, c.DataDir)
	c.TLS.CertFile = resolve(base, c.TLS.CertFile)
	c.TLS.KeyFile = resolve(base, c.TLS.KeyFile)
	c.Storage.Path = resolve(base, c.Storage.Path)
}

// DatabasePath is the SQLite database file: storage.path, or by default
// skald.db in the data directory (so changing DataDir moves it along).
func (c *Config) DatabasePath() string {
	if c.Storage.Path != "" {
		return c.Storage.Path
	}
	return filepath.Join(c.DataDir, DefaultDatabaseFile)
}

func resolve(base, p string) string {
	if p == "" || base == "" || base == "." || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(base, p)
}

// SlogLevel returns LogLevel as a slog level (info for unknown names,
// which Validate rejects).
func (c *Config) SlogLevel() slog.Level {
	switch c.LogLevel {
	case "debug":
		return slog.LevelDebug
	case "warn":
		return slog.LevelWarn
	case "error":
		return slog.LevelError
	}
	return slog.LevelInfo
}

// SelfSigned reports whether the server should use a generated self-signed
// certificate (no cert_file/key_file configured).
func (c *Config) SelfSigned() bool { return c.TLS.CertFile == "" && c.TLS.KeyFile == "" }
