package server_test

import (
	"context"
	"strings"
	"testing"

	"github.com/skald-xmpp/skald/config"
	"github.com/skald-xmpp/skald/internal/xmpptest"
	"github.com/skald-xmpp/skald/storage"
	"github.com/skald-xmpp/skald/storage/memory"
)

// sha1OnlyStore holds "migrated" (password pw-migrated) with SCRAM-SHA-1
// credentials only, as `skald user import` leaves an account exported by
// Prosody with its default password_hash.
func sha1OnlyStore(t *testing.T) storage.Store {
	st := memory.New()
	c := xmpptest.Credentials(t, "pw-migrated")
	c.SHA256 = storage.Credential{}
	if err := st.CreateUser(context.Background(), "migrated@localhost", c); err != nil {
		t.Fatal(err)
	}
	return st
}

// TestInteropMigratedAccount: slixmpp against a SHA-1-only account (see
// testdata/interop/migrated.py): SCRAM-SHA-256-PLUS refused with
// not-authorized, SCRAM-SHA-1-PLUS on the same stream, a PLAIN login
// completes the account, then SCRAM-SHA-256-PLUS works.
func TestInteropMigratedAccount(t *testing.T) {
	runInteropWith(t, "migrated.py", func() (*testServer, []string) {
		return startServer(t, sha1OnlyStore(t), nil), nil
	})
}

// TestSASLMechanismsOption: [c2s] sasl_mechanisms reaches the listeners:
// without SCRAM-SHA-256, a SHA-1-only account's client is offered
// SCRAM-SHA-1 first and gets in at once; SCRAM-SHA-256 is refused with
// invalid-mechanism.
func TestSASLMechanismsOption(t *testing.T) {
	s := startServer(t, sha1OnlyStore(t), func(c *config.Config) {
		c.C2S.SASLMechanisms = []string{"SCRAM-SHA-1-PLUS", "SCRAM-SHA-1", "PLAIN"}
	})
	c := xmpptest.DialTLS(t, s.tlsAddr)
	c.OpenStream("localhost")
	var names []string
	for _, m := range c.Features.Child("urn:ietf:params:xml:ns:xmpp-sasl", "mechanisms").Elements() {
		names = append(names, m.Text())
	}
	if got := strings.Join(names, " "); got != "SCRAM-SHA-1-PLUS SCRAM-SHA-1 PLAIN" {
		t.Fatalf("offered %s", got)
	}
	if err := c.TrySCRAM("migrated", "pw-migrated"); err == nil || err.Error() != "sasl: invalid-mechanism" {
		t.Fatalf("SCRAM-SHA-256: %v, want invalid-mechanism", err)
	}
	if err := c.TrySCRAMWith(xmpptest.SCRAM{Mechanism: "SCRAM-SHA-1"}, "migrated", "pw-migrated"); err != nil {
		t.Fatalf("SCRAM-SHA-1: %v", err)
	}
}
