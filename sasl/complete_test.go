package sasl

import (
	"bytes"
	"testing"
)

// TestCompleteCredentials: after a successful PLAIN login, the credential
// the account lacks (SHA-256 for an account imported from Prosody, or
// SHA-1) is derived from the password; the one it had stays as it was;
// nothing is derived for a complete account or a failed login, and the
// password is forgotten after the first call.
func TestCompleteCredentials(t *testing.T) {
	full, err := DeriveCredentials("pencil", 0)
	if err != nil {
		t.Fatal(err)
	}
	only1, only256 := full, full
	only1.SHA256 = Credential{}
	only256.SHA1 = Credential{}
	malformed := full
	malformed.SHA256.StoredKey = malformed.SHA256.StoredKey[:5]
	tests := []struct {
		name     string
		stored   Credentials
		password string
		ok       bool // login succeeds
		complete bool
		kept     func(Credentials) Credential // the credential that must stay
	}{
		{"SHA-1 only", only1, "pencil", true, true, func(c Credentials) Credential { return c.SHA1 }},
		{"SHA-256 only", only256, "pencil", true, true, func(c Credentials) Credential { return c.SHA256 }},
		{"malformed SHA-256", malformed, "pencil", true, true, func(c Credentials) Credential { return c.SHA1 }},
		{"complete", full, "pencil", true, false, nil},
		{"wrong password", only1, "crayon", false, false, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			lookup := func(string) (Credentials, bool, error) { return tc.stored, true, nil }
			srv, err := NewServer(Plain, lookup, ChannelBindingInfo{TLS: true}, nil)
			if err != nil {
				t.Fatal(err)
			}
			_, done, _ := srv.Step([]byte("\x00user\x00" + tc.password))
			if done != tc.ok {
				t.Fatalf("done = %v, want %v", done, tc.ok)
			}
			got, complete, err := srv.(CredentialCompleter).CompleteCredentials(0)
			if err != nil || complete != tc.complete {
				t.Fatalf("CompleteCredentials = %v, %v, want complete %v", complete, err, tc.complete)
			}
			if !complete {
				return
			}
			for name, c := range map[string]*Credential{"SHA-1": &got.SHA1, "SHA-256": &got.SHA256} {
				h := hashSHA1
				if name == "SHA-256" {
					h = hashSHA256
				}
				if !c.usable(h) || c.Iterations != DefaultIterations && c.Iterations != tc.kept(tc.stored).Iterations {
					t.Fatalf("%s credential %+v not usable", name, c)
				}
				if !verifyPlainCred(h, c, "pencil") {
					t.Errorf("%s credential does not verify the password", name)
				}
			}
			want, have := tc.kept(tc.stored), tc.kept(got)
			if !bytes.Equal(want.Salt, have.Salt) || !bytes.Equal(want.StoredKey, have.StoredKey) {
				t.Error("the credential the account had was changed")
			}
			if _, again, _ := srv.(CredentialCompleter).CompleteCredentials(0); again {
				t.Error("a second call derived again: the password was kept")
			}
		})
	}
}
