package server_test

import (
	"crypto/tls"
	"strings"
	"testing"

	goxmpp "github.com/xmppo/go-xmpp"
)

// An independent client's XEP-0484: go-xmpp (github.com/xmppo/go-xmpp,
// which go-sendxmpp uses) logs in with its password asking for a token,
// reconnects with the token alone (checking our responder-msg, draft
// -08 §3.3), and invalidates it, after which the token no longer logs
// in. Over direct TLS 1.3, so the channel-bound HT-SHA-256-EXPR.
func TestInteropFASTGoXMPP(t *testing.T) {
	s := startServer(t, nil, nil)
	const uaID = "3f1d2b8c-7a4e-4f6b-9c0d-1e2f3a4b5c6d" // go-xmpp wants a UUIDv4
	opts := func(password, token, mech string, invalidate bool) goxmpp.Options {
		return goxmpp.Options{
			Host: s.tlsAddr, User: "alice@localhost", Password: password,
			TLSConfig:   &tls.Config{InsecureSkipVerify: true, ServerName: "localhost"},
			UserAgentID: uaID, UserAgentSW: "go-xmpp",
			Fast: true, FastToken: token, FastMechanism: mech, FastInvalidate: invalidate,
			NoSASLUpgrade: true,
		}
	}
	c, err := opts("pw-alice", "", "", false).NewClient()
	if err != nil {
		t.Fatalf("password login: %v", err)
	}
	token, mech := c.Fast.Token, c.Fast.Mechanism
	c.Close()
	if token == "" || mech != "HT-SHA-256-EXPR" {
		t.Fatalf("no token from the password login: %q, %q", token, mech)
	}

	c, err = opts("", token, mech, false).NewClient()
	if err != nil {
		t.Fatalf("FAST login: %v", err)
	}
	if c.Mechanism != mech {
		t.Fatalf("logged in with %q, want %q", c.Mechanism, mech)
	}
	c.Close()

	c, err = opts("", token, mech, true).NewClient()
	if err != nil {
		t.Fatalf("FAST login with invalidate: %v", err)
	}
	c.Close()
	if _, err := opts("", token, mech, false).NewClient(); err == nil || !strings.Contains(err.Error(), "not-authorized") {
		t.Fatalf("invalidated token: %v, want not-authorized", err)
	}
}
