package httpfront

import (
	"strings"
	"testing"
)

// TestValidate: every rule of the common keys, with the transport's own
// schemes in the messages.
func TestValidate(t *testing.T) {
	ok := Listener{Path: "/xmpp", TLS: true, Origins: []string{"*"}, MaxConnections: 10}
	tests := []struct {
		name string
		edit func(*Listener)
		want string // "" valid, else a part of the error
	}{
		{"defaults", func(*Listener) {}, ""},
		{"no connections", func(l *Listener) { l.MaxConnections = 0 }, "max_connections"},
		{"off, plain", func(l *Listener) { l.TLS = false }, ""},
		{"relative path", func(l *Listener) { l.Path = "xmpp" }, "path"},
		{"well-known path", func(l *Listener) { l.Path = "/.well-known/x" }, "path"},
		{"unclean path", func(l *Listener) { l.Path = "/a/../b" }, "path"},
		{"star with others", func(l *Listener) { l.Origins = []string{"*", "a.example"} }, "stands alone"},
		{"bad pattern", func(l *Listener) { l.Origins = []string{"["} }, "bad pattern"},
		{"empty pattern", func(l *Listener) { l.Origins = []string{""} }, "bad pattern"},
		{"url scheme", func(l *Listener) { l.URL = "ftp://x/y" }, "want ws://host/path or wss://host/path"},
		{"url secure", func(l *Listener) { l.URL = "wss://x/y" }, ""},
		{"bad address", func(l *Listener) { l.Address = "5280" }, "address"},
		{"plain on loopback", func(l *Listener) { l.Address, l.TLS = "127.0.0.1:5280", false }, ""},
		{"plain on localhost", func(l *Listener) { l.Address, l.TLS = "localhost:5280", false }, ""},
		{"plain on any", func(l *Listener) { l.Address, l.TLS = ":5280", false }, "plain ws:// is allowed only"},
		{"plain behind a proxy", func(l *Listener) { l.Address, l.TLS, l.BehindTLSProxy = ":5280", false, true }, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := ok
			tc.edit(&l)
			err := l.Validate("ws", "wss")
			if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
				t.Fatalf("Validate: %v, want %q", err, tc.want)
			}
		})
	}
	if !ok.AnyOrigin() || (Listener{Origins: []string{"a.example"}}).AnyOrigin() || ok.Enabled() {
		t.Error("AnyOrigin/Enabled")
	}
}
