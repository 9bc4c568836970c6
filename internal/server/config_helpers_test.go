package server_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/skald-xmpp/skald/config"
	"github.com/skald-xmpp/skald/internal/server"
)

// Tests read configuration as an operator's skald.toml is read: written
// to a file and loaded, so the loader's checks (syntax, unknown keys with
// their line) run too.

// writeConfigFile writes src as a skald.toml in a new temporary directory
// and returns its path.
func writeConfigFile(t testing.TB, src string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "skald.toml")
	if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// loadConfigFile loads src as a skald.toml; an error ends the test.
func loadConfigFile(t testing.TB, src string) *config.Config {
	t.Helper()
	cfg, err := config.Load(writeConfigFile(t, src))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// loadModuleConfig loads src as a skald.toml and decodes its module
// sections, as the server does at start: the error is the loader's or
// the decoder's (a module's own checks).
func loadModuleConfig(t testing.TB, src string) (server.ModuleConfig, error) {
	t.Helper()
	cfg, err := config.Load(writeConfigFile(t, src))
	if err != nil {
		return server.ModuleConfig{}, err
	}
	return server.DecodeModuleConfig(cfg)
}
