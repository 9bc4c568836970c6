package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// writeConfig writes src to a fresh skald.toml and returns its path.
func writeConfig(t *testing.T, src string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "skald.toml")
	if err := os.WriteFile(p, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestDefault(t *testing.T) {
	c := Default()
	if err := c.Validate(); err != nil {
		t.Fatalf("Default().Validate() = %v", err)
	}
	want := C2S{
		StartTLSAddress: ":5222", DirectTLSAddress: ":5223", RequireTLS: true,
		MaxStanzaBytes: 262144, MaxDepth: 64, MaxAttrs: 64,
		IdleTimeout: 5 * time.Minute, NegotiationTimeout: time.Minute, KeepaliveInterval: time.Minute,
		SendQueueBytes: 1 << 20, AuthFailuresPerMinutePerIP: 10, AuthFailuresPerMinutePerAccount: 5, ReadBytesPerSecond: 65536,
		CSI: true, MaxConnectionsPerIP: 100,
		SASLMechanisms:    []string{"SCRAM-SHA-256-PLUS", "SCRAM-SHA-1-PLUS", "SCRAM-SHA-256", "SCRAM-SHA-1", "PLAIN"},
		FastTokenLifetime: 14 * 24 * time.Hour,
	}
	if !reflect.DeepEqual(c.C2S, want) {
		t.Errorf("C2S = %+v, want %+v", c.C2S, want)
	}
	if !reflect.DeepEqual(c.Domains, []string{"localhost"}) || c.DataDir != "skald-data" || c.LogLevel != "info" || !c.ReleaseFreeMemory {
		t.Errorf("Domains, DataDir, LogLevel, ReleaseFreeMemory = %q, %q, %q, %v", c.Domains, c.DataDir, c.LogLevel, c.ReleaseFreeMemory)
	}
	if c.Storage != (Storage{Backend: "sqlite"}) || c.DatabasePath() != filepath.Join("skald-data", "skald.db") {
		t.Errorf("Storage = %+v, DatabasePath() = %q", c.Storage, c.DatabasePath())
	}
	c.DataDir = "/elsewhere"
	if c.DatabasePath() != "/elsewhere/skald.db" {
		t.Errorf("DatabasePath() = %q after changing DataDir", c.DatabasePath())
	}
	if !c.SelfSigned() || c.Path != "" {
		t.Errorf("SelfSigned() = %v, Path = %q", c.SelfSigned(), c.Path)
	}
	// Each call returns fresh values: changing one must not change the next.
	c.Domains[0] = "changed"
	if Default().Domains[0] != "localhost" {
		t.Error("Default shares its Domains slice between calls")
	}
}

func TestLoad(t *testing.T) {
	tests := []struct {
		name string
		src  string
		// check runs on success; dir is the directory of the file.
		check func(t *testing.T, c *Config, dir string)
		// wantErr lists substrings of the error; "FILE" stands for the path.
		wantErr []string
	}{{
		name: "empty file gives defaults relative to the file",
		src:  "# nothing\n",
		check: func(t *testing.T, c *Config, dir string) {
			if c.DataDir != filepath.Join(dir, "skald-data") {
				t.Errorf("DataDir = %q", c.DataDir)
			}
			if c.Storage.Path != "" || c.DatabasePath() != filepath.Join(dir, "skald-data", "skald.db") {
				t.Errorf("Storage.Path = %q, DatabasePath() = %q", c.Storage.Path, c.DatabasePath())
			}
			d := Default()
			if !reflect.DeepEqual(c.C2S, d.C2S) || !reflect.DeepEqual(c.Domains, d.Domains) || c.Storage.Backend != "sqlite" {
				t.Errorf("got %+v", c)
			}
		},
	}, {
		name: "every core option",
		src: `
domains = ["example.org", "Chat.Example.COM"]
data_dir = "/var/lib/skald"
log_level = "debug"
metrics_address = ":9464"
release_free_memory = false
admins = ["Alice@Example.org"]

[c2s]
starttls_address = "127.0.0.1:15222"
direct_tls_address = ""
require_tls = false
max_stanza_bytes = 65536
max_depth = 20
max_attrs = 30
idle_timeout = "10m"
negotiation_timeout = "30s"
keepalive_interval = 45
send_queue_bytes = 131072
auth_failures_per_minute_per_ip = 0
auth_failures_per_minute_per_account = 3
read_bytes_per_second = 0
csi = false
max_connections = 50000
max_connections_per_ip = 0
sasl_mechanisms = ["PLAIN", "SCRAM-SHA-1"]
fast_token_lifetime = "72h"

[tls]
cert_file = "certs/fullchain.pem"
key_file = "/etc/skald/key.pem"

[storage]
backend = "memory"
path = "db/s.db"
`,
		check: func(t *testing.T, c *Config, dir string) {
			want := C2S{
				StartTLSAddress: "127.0.0.1:15222", DirectTLSAddress: "", RequireTLS: false,
				MaxStanzaBytes: 65536, MaxDepth: 20, MaxAttrs: 30,
				IdleTimeout: 10 * time.Minute, NegotiationTimeout: 30 * time.Second, KeepaliveInterval: 45 * time.Second,
				SendQueueBytes: 131072, AuthFailuresPerMinutePerIP: 0, AuthFailuresPerMinutePerAccount: 3,
				ReadBytesPerSecond: 0, CSI: false, MaxConnections: 50000, MaxConnectionsPerIP: 0,
				SASLMechanisms: []string{"PLAIN", "SCRAM-SHA-1"}, FastTokenLifetime: 72 * time.Hour,
			}
			if !reflect.DeepEqual(c.C2S, want) {
				t.Errorf("C2S = %+v\nwant %+v", c.C2S, want)
			}
			if !reflect.DeepEqual(c.Domains, []string{"example.org", "chat.example.com"}) {
				t.Errorf("Domains = %q (want canonical lower case)", c.Domains)
			}
			if c.DataDir != "/var/lib/skald" || c.LogLevel != "debug" || c.ReleaseFreeMemory || c.MetricsAddress != ":9464" {
				t.Errorf("DataDir, LogLevel, ReleaseFreeMemory, MetricsAddress = %q, %q, %v, %q", c.DataDir, c.LogLevel, c.ReleaseFreeMemory, c.MetricsAddress)
			}
			if c.TLS.CertFile != filepath.Join(dir, "certs/fullchain.pem") || c.TLS.KeyFile != "/etc/skald/key.pem" || c.SelfSigned() {
				t.Errorf("TLS = %+v", c.TLS)
			}
			if c.Storage.Backend != "memory" || c.Storage.Path != filepath.Join(dir, "db/s.db") || c.DatabasePath() != c.Storage.Path {
				t.Errorf("Storage = %+v", c.Storage)
			}
			if !reflect.DeepEqual(c.Admins, []string{"alice@example.org"}) {
				t.Errorf("Admins = %q (want canonical)", c.Admins)
			}
			if c.SlogLevel().String() != "DEBUG" {
				t.Errorf("SlogLevel = %v", c.SlogLevel())
			}
		},
	}, {
		name: "storage path follows data_dir",
		src:  "data_dir = \"/srv/x\"\n",
		check: func(t *testing.T, c *Config, dir string) {
			if c.DatabasePath() != "/srv/x/skald.db" {
				t.Errorf("DatabasePath() = %q", c.DatabasePath())
			}
		},
	}, {
		name: "dotted keys",
		src:  "c2s.max_depth = 10\nc2s.idle_timeout = 60\n",
		check: func(t *testing.T, c *Config, dir string) {
			if c.C2S.MaxDepth != 10 || c.C2S.IdleTimeout != time.Minute {
				t.Errorf("C2S = %+v", c.C2S)
			}
		},
	}, {
		name:    "unknown top-level key",
		src:     "domains = [\"a.example\"]\n\nlog_levle = \"debug\"\n",
		wantErr: []string{`FILE:3: unknown key "log_levle" in top level`},
	}, {
		name:    "unknown key in core section",
		src:     "[c2s]\nmax_depth = 10\nrequre_tls = false\n",
		wantErr: []string{`FILE:3: unknown key "requre_tls" in [c2s]`},
	}, {
		name:    "unknown dotted key in core section",
		src:     "[tls]\n\ncert.file = \"x\"\n",
		wantErr: []string{`FILE:3: unknown key "cert" in [tls]`},
	}, {
		name:    "unknown table in core section reported once",
		src:     "[storage]\nbackend = \"sqlite\"\n[storage.pool]\nsize = 4\nidle = 2\n",
		wantErr: []string{`FILE:3: unknown key "pool" in [storage]`},
	}, {
		name:    "array of tables at top level",
		src:     "[[listener]]\naddress = \":5222\"\n",
		wantErr: []string{`FILE:1: unknown key "listener" in top level`},
	}, {
		name: "all unknown keys, in file order",
		src:  "[storage]\nbakend = 1\n[c2s]\nfoo = 1\n[tls]\nbar = 2\n",
		wantErr: []string{
			`FILE:2: unknown key "bakend" in [storage]` + "\n" +
				`FILE:4: unknown key "foo" in [c2s]` + "\n" +
				`FILE:6: unknown key "bar" in [tls]`,
		},
	}, {
		name:    "syntax error",
		src:     "domains = [\"a\"\nlog_level = 1\n",
		wantErr: []string{"FILE:"},
	}, {
		name:    "string for integer",
		src:     "\n[c2s]\nmax_stanza_bytes = \"big\"\n",
		wantErr: []string{`FILE:3: c2s.max_stanza_bytes: incompatible types: TOML value has type string; destination has type integer`},
	}, {
		name:    "string for bool",
		src:     "[c2s]\nrequire_tls = \"yes\"\n",
		wantErr: []string{`FILE:2: c2s.require_tls:`, "bool"},
	}, {
		name:    "string for list",
		src:     "domains = \"example.org\"\n",
		wantErr: []string{`FILE:1: domains:`, "slice"},
	}, {
		name:    "bad duration string",
		src:     "[c2s]\nidle_timeout = \"5 minutes\"\n",
		wantErr: []string{`FILE:2: c2s.idle_timeout: invalid duration: "5 minutes"`},
	}, {
		name:    "float duration",
		src:     "[c2s]\nidle_timeout = 1.5\n",
		wantErr: []string{`FILE:2: c2s.idle_timeout:`, "float"},
	}, {
		name:    "table for core section given a value",
		src:     "c2s = 5\n",
		wantErr: []string{`FILE:1`, "c2s", "expected table"},
	}, {
		name:    "invalid value reported with line",
		src:     "\n\n[c2s]\nmax_stanza_bytes = 5000\n",
		wantErr: []string{`FILE:4: c2s.max_stanza_bytes: 5000 is below 10000`},
	}, {
		name: "module sections are kept, not checked by Load",
		src:  "[mam]\nanything = 1\n[offline]\nlimit = 100\n",
		check: func(t *testing.T, c *Config, dir string) {
			if got := c.Sections(); !reflect.DeepEqual(got, []string{"mam", "offline"}) {
				t.Errorf("Sections() = %q", got)
			}
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := writeConfig(t, tt.src)
			c, err := Load(p)
			if tt.wantErr != nil {
				if err == nil {
					t.Fatalf("Load succeeded, want error containing %q", tt.wantErr)
				}
				for _, w := range tt.wantErr {
					w = strings.ReplaceAll(w, "FILE", p)
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error\n%v\ndoes not contain\n%s", err, w)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if c.Path != p {
				t.Errorf("Path = %q, want %q", c.Path, p)
			}
			tt.check(t, c, filepath.Dir(p))
		})
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.toml"))
	if err == nil || !strings.Contains(err.Error(), "nope.toml") {
		t.Fatalf("Load = %v, want an error naming the file", err)
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name    string
		change  func(c *Config)
		wantErr string // "" = valid
	}{
		{"defaults", func(c *Config) {}, ""},
		{"no domains", func(c *Config) { c.Domains = nil }, "domains: at least one domain is required"},
		{"jid as domain", func(c *Config) { c.Domains = []string{"user@example.org"} }, `domains: "user@example.org" is a JID, not a domain`},
		{"bad domain", func(c *Config) { c.Domains = []string{"exa mple.org"} }, `domains: "exa mple.org" is not a valid domain`},
		{"duplicate domain", func(c *Config) { c.Domains = []string{"a.example", "a.example"} }, `domains: "a.example" is listed twice`},
		{"admin", func(c *Config) { c.Admins = []string{"alice@localhost"} }, ""},
		{"admin without localpart", func(c *Config) { c.Admins = []string{"localhost"} }, `admins: "localhost" is not an account`},
		{"admin with resource", func(c *Config) { c.Admins = []string{"alice@localhost/phone"} }, `admins: "alice@localhost/phone" is not an account`},
		{"admin elsewhere", func(c *Config) { c.Admins = []string{"alice@example.net"} }, `admins: "alice@example.net" is not on a served domain`},
		{"admin malformed", func(c *Config) { c.Admins = []string{"a@b@c"} }, `admins: "a@b@c" is not a valid JID`},
		{"empty data dir", func(c *Config) { c.DataDir = "" }, "data_dir: must not be empty"},
		{"log level", func(c *Config) { c.LogLevel = "verbose" }, `log_level: "verbose" is not one of debug, info, warn, error`},
		{"no listeners", func(c *Config) { c.C2S.StartTLSAddress, c.C2S.DirectTLSAddress = "", "" }, "c2s: starttls_address and direct_tls_address are both empty"},
		{"direct tls only", func(c *Config) { c.C2S.StartTLSAddress = "" }, ""},
		{"bad address", func(c *Config) { c.C2S.StartTLSAddress = "5222" }, `c2s.starttls_address: "5222": not a host:port address`},
		{"bad port", func(c *Config) { c.C2S.DirectTLSAddress = ":xmpp" }, `c2s.direct_tls_address: ":xmpp": port "xmpp" is not a number`},
		{"same address", func(c *Config) { c.C2S.DirectTLSAddress = ":5222" }, "the listeners need different ports"},
		{"require_tls off on all interfaces", func(c *Config) { c.C2S.RequireTLS = false }, `c2s.require_tls: false is only allowed when starttls_address is a loopback address`},
		{"require_tls off on 0.0.0.0", func(c *Config) { c.C2S.RequireTLS, c.C2S.StartTLSAddress = false, "0.0.0.0:5222" }, "loopback"},
		{"require_tls off on a host name", func(c *Config) { c.C2S.RequireTLS, c.C2S.StartTLSAddress = false, "example.org:5222" }, "loopback"},
		{"require_tls off on 127.0.0.1", func(c *Config) { c.C2S.RequireTLS, c.C2S.StartTLSAddress = false, "127.0.0.1:5222" }, ""},
		{"require_tls off on 127.1.2.3", func(c *Config) { c.C2S.RequireTLS, c.C2S.StartTLSAddress = false, "127.1.2.3:5222" }, ""},
		{"require_tls off on ::1", func(c *Config) { c.C2S.RequireTLS, c.C2S.StartTLSAddress = false, "[::1]:5222" }, ""},
		{"require_tls off on localhost", func(c *Config) { c.C2S.RequireTLS, c.C2S.StartTLSAddress = false, "localhost:5222" }, ""},
		{"require_tls off without starttls listener", func(c *Config) { c.C2S.RequireTLS, c.C2S.StartTLSAddress = false, "" }, ""},
		{"stanza limit below RFC minimum", func(c *Config) { c.C2S.MaxStanzaBytes = 9999 }, "c2s.max_stanza_bytes: 9999 is below 10000"},
		{"stanza limit at RFC minimum", func(c *Config) { c.C2S.MaxStanzaBytes = 10000 }, ""},
		{"depth", func(c *Config) { c.C2S.MaxDepth = 2 }, "c2s.max_depth: 2 is too small"},
		{"attrs", func(c *Config) { c.C2S.MaxAttrs = 0 }, "c2s.max_attrs: 0 is too small"},
		{"idle timeout", func(c *Config) { c.C2S.IdleTimeout = 0 }, "c2s.idle_timeout: must be positive"},
		{"keepalive negative", func(c *Config) { c.C2S.KeepaliveInterval = -time.Second }, "c2s.keepalive_interval: must not be negative"},
		{"negotiation negative", func(c *Config) { c.C2S.NegotiationTimeout = -time.Second }, "c2s.negotiation_timeout: must not be negative"},
		{"negotiation off", func(c *Config) { c.C2S.NegotiationTimeout = 0 }, ""},
		{"keepalive off", func(c *Config) { c.C2S.KeepaliveInterval = 0 }, ""},
		{"send queue", func(c *Config) { c.C2S.SendQueueBytes = 100000 }, "c2s.send_queue_bytes: 100000 is smaller than max_stanza_bytes (262144)"},
		{"auth ip", func(c *Config) { c.C2S.AuthFailuresPerMinutePerIP = -1 }, "c2s.auth_failures_per_minute_per_ip: must not be negative"},
		{"auth account", func(c *Config) { c.C2S.AuthFailuresPerMinutePerAccount = -1 }, "c2s.auth_failures_per_minute_per_account: must not be negative"},
		{"max connections negative", func(c *Config) { c.C2S.MaxConnections = -1 }, "c2s.max_connections: must not be negative"},
		{"max connections per ip negative", func(c *Config) { c.C2S.MaxConnectionsPerIP = -1 }, "c2s.max_connections_per_ip: must not be negative"},
		{"connection caps off", func(c *Config) { c.C2S.MaxConnections, c.C2S.MaxConnectionsPerIP = 0, 0 }, ""},
		{"sasl mechanisms without SHA-256", func(c *Config) { c.C2S.SASLMechanisms = []string{"SCRAM-SHA-1-PLUS", "SCRAM-SHA-1", "PLAIN"} }, ""},
		{"sasl mechanism unknown", func(c *Config) { c.C2S.SASLMechanisms = []string{"SCRAM-SHA-1", "DIGEST-MD5"} }, `c2s.sasl_mechanisms: "DIGEST-MD5" is not a supported mechanism`},
		{"sasl mechanism lower case", func(c *Config) { c.C2S.SASLMechanisms = []string{"scram-sha-1"} }, `c2s.sasl_mechanisms: "scram-sha-1" is not a supported mechanism`},
		{"sasl mechanism twice", func(c *Config) { c.C2S.SASLMechanisms = []string{"PLAIN", "PLAIN"} }, `c2s.sasl_mechanisms: "PLAIN" is listed twice`},
		{"sasl mechanisms empty", func(c *Config) { c.C2S.SASLMechanisms = []string{} }, "c2s.sasl_mechanisms: is empty"},
		{"fast off", func(c *Config) { c.C2S.FastTokenLifetime = 0 }, ""},
		{"fast lifetime negative", func(c *Config) { c.C2S.FastTokenLifetime = -time.Hour }, "c2s.fast_token_lifetime: must not be negative"},
		{"cert without key", func(c *Config) { c.TLS.CertFile = "c.pem" }, "tls: set both cert_file and key_file"},
		{"key without cert", func(c *Config) { c.TLS.KeyFile = "k.pem" }, "tls: set both cert_file and key_file"},
		{"cert and key", func(c *Config) { c.TLS.CertFile, c.TLS.KeyFile = "c.pem", "k.pem" }, ""},
		{"postgres without dsn", func(c *Config) { c.Storage.Backend = "postgres" }, `storage.dsn: is required with backend "postgres"`},
		{"postgres url", func(c *Config) { c.Storage.Backend, c.Storage.DSN = "postgres", "postgres://skald@db/skald" }, ""},
		{"postgresql url", func(c *Config) {
			c.Storage.Backend, c.Storage.DSN = "postgres", "postgresql:///skald?host=/run/postgresql"
		}, ""},
		{"postgres key=value", func(c *Config) { c.Storage.Backend, c.Storage.DSN = "postgres", "host=db dbname=skald" }, ""},
		{"postgres bad dsn", func(c *Config) { c.Storage.Backend, c.Storage.DSN = "postgres", "db.example.org" }, `storage.dsn: is neither a postgres:// URL nor key=value settings`},
		{"postgres with path", func(c *Config) {
			c.Storage.Backend, c.Storage.DSN, c.Storage.Path = "postgres", "postgres://db/skald", "skald.db"
		}, `storage.path: is the SQLite database file, not used with backend "postgres"`},
		{"unknown backend", func(c *Config) { c.Storage.Backend = "mysql" }, `storage.backend: "mysql" is not one of "sqlite", "postgres", "memory"`},
		{"dsn with memory", func(c *Config) { c.Storage.Backend, c.Storage.DSN = "memory", "postgres://x" }, `storage.dsn: is only used by network database backends, not "memory"`},
		{"memory", func(c *Config) { c.Storage.Backend = "memory" }, ""},
		{"dsn with sqlite", func(c *Config) { c.Storage.DSN = "postgres://x" }, `storage.dsn: is only used by network database backends, not "sqlite"`},
		{"debug on loopback", func(c *Config) { c.DebugAddress = "127.0.0.1:6060" }, ""},
		{"debug on localhost", func(c *Config) { c.DebugAddress = "localhost:6060" }, ""},
		{"debug on all interfaces", func(c *Config) { c.DebugAddress = ":6060" }, `debug_address: ":6060" is not a loopback address`},
		{"debug on a public address", func(c *Config) { c.DebugAddress = "192.0.2.1:6060" }, "is not a loopback address"},
		{"debug bad address", func(c *Config) { c.DebugAddress = "6060" }, "debug_address: not a host:port address"},
		{"metrics off", func(c *Config) { c.MetricsAddress = "" }, ""},
		{"metrics on loopback", func(c *Config) { c.MetricsAddress = "127.0.0.1:9464" }, ""},
		{"metrics on all interfaces", func(c *Config) { c.MetricsAddress = ":9464" }, ""},
		{"metrics on a public address", func(c *Config) { c.MetricsAddress = "192.0.2.1:9464" }, ""},
		{"metrics on IPv6", func(c *Config) { c.MetricsAddress = "[::]:9464" }, ""},
		{"metrics without port", func(c *Config) { c.MetricsAddress = "9464" }, "metrics_address: not a host:port address"},
		{"metrics without port, host", func(c *Config) { c.MetricsAddress = "192.0.2.1" }, "metrics_address: not a host:port address"},
		{"metrics bad port", func(c *Config) { c.MetricsAddress = "127.0.0.1:http-metrics" }, `metrics_address: port "http-metrics" is not a number`},
		{"metrics port out of range", func(c *Config) { c.MetricsAddress = ":70000" }, `metrics_address: port "70000" is not a number from 0 to 65535`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Default()
			tt.change(c)
			err := c.Validate()
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("Validate() = %v, want nil", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("Validate() = %v, want error containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestValidateReportsAll(t *testing.T) {
	c := Default()
	c.LogLevel = "loud"
	c.C2S.MaxDepth = 1
	err := c.Validate()
	if err == nil || !strings.Contains(err.Error(), "log_level") || !strings.Contains(err.Error(), "max_depth") {
		t.Fatalf("Validate() = %v, want both problems", err)
	}
}

func TestIsLoopback(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1:5222": true, "127.9.9.9:1": true, "[::1]:5222": true, "localhost:5222": true, "LOCALHOST:1": true,
		":5222": false, "0.0.0.0:5222": false, "[::]:5222": false, "192.168.1.1:5222": false,
		"example.org:5222": false, "127.0.0.1": false, "": false,
	} {
		if got := IsLoopback(addr); got != want {
			t.Errorf("IsLoopback(%q) = %v, want %v", addr, got, want)
		}
	}
}

// TestExampleFile keeps skald.example.toml honest: it loads as is, and with
// every commented core option uncommented it still gives the defaults.
func TestExampleFile(t *testing.T) {
	src, err := os.ReadFile("../skald.example.toml")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Load("../skald.example.toml"); err != nil {
		t.Fatalf("example as shipped: %v", err)
	}
	var lines []string
	n := 0
	for _, l := range strings.Split(string(src), "\n") {
		if strings.HasPrefix(l, "# [") { // the module placeholders
			break
		}
		if k, _, ok := strings.Cut(strings.TrimPrefix(l, "# "), " = "); ok && strings.HasPrefix(l, "# ") && !strings.Contains(k, " ") {
			l = strings.TrimPrefix(l, "# ")
			n++
		}
		lines = append(lines, l)
	}
	if n < 22 {
		t.Fatalf("uncommented %d options, want every core option", n)
	}
	p := writeConfig(t, strings.Join(lines, "\n"))
	c, err := Load(p)
	if err != nil {
		t.Fatalf("example with options uncommented: %v", err)
	}
	d, dir := Default(), filepath.Dir(p)
	if !reflect.DeepEqual(c.C2S, d.C2S) || !reflect.DeepEqual(c.Domains, d.Domains) || c.LogLevel != d.LogLevel || c.TLS != d.TLS ||
		c.ReleaseFreeMemory != d.ReleaseFreeMemory || c.MetricsAddress != "127.0.0.1:9464" || // the example address, off by default
		!reflect.DeepEqual(c.Admins, []string{"alice@localhost"}) || d.Admins != nil || // the example admin; nobody by default
		c.DataDir != filepath.Join(dir, d.DataDir) ||
		c.Storage != (Storage{Backend: d.Storage.Backend, Path: filepath.Join(dir, d.DatabasePath())}) {
		t.Errorf("example defaults differ from Default():\n%+v\n%+v", c, d)
	}
}

func TestRedactedDSN(t *testing.T) {
	tests := []struct{ dsn, want string }{
		{"postgres://skald:s3cret@db:5432/skald?sslmode=require", "postgres://skald:xxxxx@db:5432/skald?sslmode=require"},
		{"postgres://skald@db/skald", "postgres://skald@db/skald"},
		{"host=db user=skald password=s3cret dbname=skald", "host=db user=skald password=xxxxx dbname=skald"},
		{"host=db password = 'a b\\' c' dbname=skald", "host=db password = xxxxx dbname=skald"},
	}
	for _, tt := range tests {
		if got := (Storage{DSN: tt.dsn}).RedactedDSN(); got != tt.want {
			t.Errorf("RedactedDSN(%q) = %q, want %q", tt.dsn, got, tt.want)
		}
	}
}
