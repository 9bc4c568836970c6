package websocket

import (
	"net/http/httptest"
	"strings"
	"testing"
)

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name    string
		mod     func(*Config)
		wantErr string // "" valid
	}{
		{name: "defaults (off)", mod: func(*Config) {}},
		{name: "wss anywhere", mod: func(c *Config) { c.Address = ":5281" }},
		{name: "ws on loopback", mod: func(c *Config) { c.Address = "127.0.0.1:5280"; c.TLS = false }},
		{name: "ws on localhost", mod: func(c *Config) { c.Address = "localhost:5280"; c.TLS = false }},
		{name: "ws on ::1", mod: func(c *Config) { c.Address = "[::1]:5280"; c.TLS = false }},
		{name: "ws behind a TLS proxy", mod: func(c *Config) { c.Address = ":5280"; c.TLS = false; c.BehindTLSProxy = true }},
		{name: "ws on every address", mod: func(c *Config) { c.Address = ":5280"; c.TLS = false }, wantErr: "loopback"},
		{name: "ws on a public address", mod: func(c *Config) { c.Address = "192.0.2.1:5280"; c.TLS = false }, wantErr: "loopback"},
		{name: "address without port", mod: func(c *Config) { c.Address = "127.0.0.1" }, wantErr: "address"},
		{name: "relative path", mod: func(c *Config) { c.Path = "xmpp" }, wantErr: "path"},
		{name: "unclean path", mod: func(c *Config) { c.Path = "/a/../b" }, wantErr: "path"},
		{name: "path in .well-known", mod: func(c *Config) { c.Path = "/.well-known/xmpp" }, wantErr: "path"},
		{name: "origin patterns", mod: func(c *Config) { c.Origins = []string{"chat.example.com", "https://*.example.org"} }},
		{name: "star with others", mod: func(c *Config) { c.Origins = []string{"*", "a.example"} }, wantErr: "stands alone"},
		{name: "bad pattern", mod: func(c *Config) { c.Origins = []string{"[a"} }, wantErr: "bad pattern"},
		{name: "empty origin", mod: func(c *Config) { c.Origins = []string{""} }, wantErr: "bad pattern"},
		{name: "url", mod: func(c *Config) { c.URL = "wss://chat.example.com/xmpp-websocket" }},
		{name: "http url", mod: func(c *Config) { c.URL = "https://chat.example.com/" }, wantErr: "url"},
		{name: "no connections", mod: func(c *Config) { c.MaxConnections = 0 }, wantErr: "max_connections"},
		{name: "none per address", mod: func(c *Config) { c.MaxConnectionsPerIP = 0 }, wantErr: "max_connections_per_ip"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := DefaultConfig()
			tt.mod(&c)
			err := c.Validate()
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("Validate() = %v, want error containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestClientAddr(t *testing.T) {
	tests := []struct {
		name   string
		proxy  bool
		header []string
		want   string
	}{
		{"direct", false, []string{"192.0.2.7"}, "127.0.0.1:4000"},
		{"proxy without header", true, nil, "127.0.0.1:4000"},
		{"proxy", true, []string{"192.0.2.7"}, "192.0.2.7"},
		{"proxy appended to a client's claim", true, []string{"10.0.0.1, 192.0.2.7"}, "192.0.2.7"},
		{"several headers", true, []string{"10.0.0.1", "2001:db8::7"}, "2001:db8::7"},
		{"garbage", true, []string{"not an address"}, "127.0.0.1:4000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.BehindTLSProxy = tt.proxy
			s := &Server{cfg: cfg}
			r := httptest.NewRequest("GET", "/xmpp-websocket", nil)
			r.RemoteAddr = "127.0.0.1:4000"
			for _, h := range tt.header {
				r.Header.Add("X-Forwarded-For", h)
			}
			if got := s.cfg.ClientAddr(r); got != tt.want {
				t.Fatalf("clientAddr = %q, want %q", got, tt.want)
			}
		})
	}
}
