package c2s_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/skald-xmpp/skald/internal/xmpptest"
	"github.com/skald-xmpp/skald/storage"
)

// TestMigratedAccountCredentials: an account with SCRAM credentials for
// one hash only (imported from Prosody: SHA-1) fails a SCRAM exchange
// with the other hash with <not-authorized/> (RFC 6120 §6.5.10: no
// server error, nothing that tells the account exists), and the client
// may retry on the same stream with another mechanism (§6.4.5). A PLAIN
// login then derives the missing credential from the password and
// stores it, keeping the one the account had, and from then on both
// SCRAM hashes work.
func TestMigratedAccountCredentials(t *testing.T) {
	tests := []struct {
		name          string
		has, lacks    string // the mechanisms of the hash the account has and lacks
		drop          func(*storage.Credentials)
		kept, derived func(storage.Credentials) storage.Credential
	}{
		{"SHA-1 only", "SCRAM-SHA-1", "SCRAM-SHA-256",
			func(c *storage.Credentials) { c.SHA256 = storage.Credential{} },
			func(c storage.Credentials) storage.Credential { return c.SHA1 },
			func(c storage.Credentials) storage.Credential { return c.SHA256 }},
		{"SHA-256 only", "SCRAM-SHA-256", "SCRAM-SHA-1",
			func(c *storage.Credentials) { c.SHA1 = storage.Credential{} },
			func(c storage.Credentials) storage.Credential { return c.SHA256 },
			func(c storage.Credentials) storage.Credential { return c.SHA1 }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := start(t, nil)
			const bare = "migrated@localhost"
			imported := xmpptest.Credentials(t, "old-secret")
			tc.drop(&imported)
			f.users.CreateUser(context.Background(), bare, imported)

			c := xmpptest.DialTLS(t, f.tlsAddr)
			c.OpenStream("localhost")
			for _, mech := range []string{tc.lacks, tc.lacks + "-PLUS"} {
				opt := xmpptest.SCRAM{Mechanism: mech}
				if mech == tc.lacks+"-PLUS" {
					opt.GS2, opt.Binding = "p=tls-exporter,,", exporterBinding(t, c)
				}
				if err := c.TrySCRAMWith(opt, "migrated", "old-secret"); err == nil || err.Error() != "sasl: not-authorized" {
					t.Fatalf("%s for an account without its hash: %v, want not-authorized", mech, err)
				}
			}
			// The same stream: the client falls back to the other hash.
			if err := c.TrySCRAMWith(xmpptest.SCRAM{Mechanism: tc.has}, "migrated", "old-secret"); err != nil {
				t.Fatalf("%s on the same stream after the failures: %v", tc.has, err)
			}
			if got, _ := f.users.UserCredentials(context.Background(), bare); len(tc.derived(got).StoredKey) != 0 {
				t.Fatal("a SCRAM login stored credentials")
			}

			// PLAIN (over TLS) completes the account.
			p := xmpptest.DialTLS(t, f.tlsAddr)
			p.OpenStream("localhost")
			p.AuthPlain("localhost", "migrated", "old-secret")
			got, err := f.users.UserCredentials(context.Background(), bare)
			if err != nil {
				t.Fatal(err)
			}
			if k, want := tc.kept(got), tc.kept(imported); !bytes.Equal(k.Salt, want.Salt) || !bytes.Equal(k.StoredKey, want.StoredKey) || k.Iterations != want.Iterations {
				t.Fatal("the credential the account had changed")
			}
			if d := tc.derived(got); len(d.StoredKey) == 0 || d.Iterations != 4096 || len(d.Salt) == 0 {
				t.Fatalf("derived credential %+v, want one with 4096 iterations (as register)", d)
			}
			for _, mech := range []string{tc.lacks, tc.has} {
				s := xmpptest.DialTLS(t, f.tlsAddr)
				s.OpenStream("localhost")
				if err := s.TrySCRAMWith(xmpptest.SCRAM{Mechanism: mech}, "migrated", "old-secret"); err != nil {
					t.Fatalf("%s after the PLAIN login: %v", mech, err)
				}
			}
			// A complete account is not written again.
			p2 := xmpptest.DialTLS(t, f.tlsAddr)
			p2.OpenStream("localhost")
			p2.AuthPlain("localhost", "migrated", "old-secret")
			again, _ := f.users.UserCredentials(context.Background(), bare)
			if !bytes.Equal(tc.derived(again).Salt, tc.derived(got).Salt) {
				t.Fatal("a PLAIN login of a complete account derived its credentials again")
			}
		})
	}
}
