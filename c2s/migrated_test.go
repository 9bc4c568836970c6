package c2s_test

import (
	"bytes"
	"context"
	"sync/atomic"
	"testing"

	"github.com/skald-xmpp/skald/internal/xmpptest"
	"github.com/skald-xmpp/skald/sasl"
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

// TestCredentialCompletionRacesPasswordChange: a password change that
// lands after the login checked the password and before the completed
// credentials are written is not undone by the keys derived from the
// old password (which someone who knew it, the reason to change it,
// could otherwise keep using).
func TestCredentialCompletionRacesPasswordChange(t *testing.T) {
	f := start(t, nil)
	const bare = "migrated@localhost"
	imported := xmpptest.Credentials(t, "old-secret")
	imported.SHA256 = storage.Credential{}
	f.users.CreateUser(context.Background(), bare, imported)
	changed := xmpptest.Credentials(t, "new-secret")
	var writes atomic.Int32
	f.users.mu.Lock()
	f.users.beforeWrite = func(b string) {
		if b == bare && writes.Add(1) == 1 {
			f.users.CreateUser(context.Background(), bare, changed) // the change, first
		}
	}
	f.users.mu.Unlock()

	p := xmpptest.DialTLS(t, f.tlsAddr)
	p.OpenStream("localhost")
	p.AuthPlain("localhost", "migrated", "old-secret")
	if n := writes.Load(); n != 1 {
		t.Fatalf("%d writes, want 1 (the completion)", n)
	}
	got, _ := f.users.UserCredentials(context.Background(), bare)
	if !got.Equal(changed) {
		t.Fatal("the password change was overwritten by credentials derived from the old password")
	}
}

// TestCredentialCompletionIterations: the derived credential has
// register's iteration count (4096), or the kept one's if higher
// (Prosody's default is 10000): never cheaper to attack than the
// credential the account had.
func TestCredentialCompletionIterations(t *testing.T) {
	for _, kept := range []int{4096, 10000} {
		f := start(t, nil)
		const bare = "migrated@localhost"
		imported, err := sasl.DeriveCredentials("old-secret", kept)
		if err != nil {
			t.Fatal(err)
		}
		imported.SHA256 = sasl.Credential{}
		f.users.CreateUser(context.Background(), bare, storage.Credentials{SHA1: storage.Credential(imported.SHA1)})
		p := xmpptest.DialTLS(t, f.tlsAddr)
		p.OpenStream("localhost")
		p.AuthPlain("localhost", "migrated", "old-secret")
		got, _ := f.users.UserCredentials(context.Background(), bare)
		if got.SHA256.Iterations != kept || got.SHA1.Iterations != kept {
			t.Fatalf("kept %d iterations: derived %d", kept, got.SHA256.Iterations)
		}
	}
}
