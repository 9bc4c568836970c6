package xmpptest

import (
	"testing"

	"github.com/skald-xmpp/skald/sasl"
	"github.com/skald-xmpp/skald/storage"
)

// Credentials derives the stored SCRAM credentials of password (4096
// iterations), as `skald user add` stores them, for test accounts.
func Credentials(t testing.TB, password string) storage.Credentials {
	t.Helper()
	c, err := sasl.DeriveCredentials(password, 4096)
	if err != nil {
		t.Fatal(err)
	}
	return ToStorage(c)
}

// ToStorage converts derived credentials to their stored form.
func ToStorage(c sasl.Credentials) storage.Credentials {
	conv := func(x sasl.Credential) storage.Credential {
		return storage.Credential{Salt: x.Salt, Iterations: x.Iterations, StoredKey: x.StoredKey, ServerKey: x.ServerKey}
	}
	return storage.Credentials{SHA1: conv(c.SHA1), SHA256: conv(c.SHA256)}
}
