package sasl

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

var tlsOnly = ChannelBindingInfo{TLS: true}

func plainMsg(authzid, authcid, passwd string) []byte {
	return []byte(authzid + "\x00" + authcid + "\x00" + passwd)
}

func TestPlain(t *testing.T) {
	ownJID := WithAuthorizer(AllowOwnBareJID("example.org", testNormalise))
	tests := []struct {
		name      string
		msg       []byte
		opts      []Option
		noInitial bool
		wantUser  string
		wantAuthz string
		cond      string // "" = success
	}{
		{name: "ok", msg: plainMsg("", "user", "pencil"), wantUser: "user"},
		{name: "ok absent initial response", msg: plainMsg("", "alice", "correct horse battery staple"), noInitial: true, wantUser: "alice"},
		{name: "ok normalised user", msg: plainMsg("", "ALICE", "correct horse battery staple"), wantUser: "alice"},
		{name: "ok unicode password NFC and NBSP", msg: plainMsg("", "ünïcode", "pass wo\u0308rd"), wantUser: "ünïcode"},
		{name: "ok sha256-only account", msg: plainMsg("", "only256", "only256"), wantUser: "only256"},
		{name: "ok own bare jid", msg: plainMsg("user@example.org", "user", "pencil"), opts: []Option{ownJID}, wantUser: "user", wantAuthz: "user@example.org"},
		{name: "wrong password", msg: plainMsg("", "user", "Pencil"), cond: CondNotAuthorized},
		{name: "unknown user", msg: plainMsg("", "nobody", "pencil"), cond: CondNotAuthorized},
		{name: "unnormalisable user", msg: plainMsg("", "a b", "pencil"), cond: CondNotAuthorized},
		{name: "invalid password characters", msg: plainMsg("", "user", "pen\x07cil"), cond: CondNotAuthorized},
		{name: "lookup error", msg: plainMsg("", "broken-store", "x"), cond: CondTemporaryAuthFailure},
		{name: "authzid without authorizer", msg: plainMsg("user@example.org", "user", "pencil"), cond: CondInvalidAuthzID},
		{name: "authzid of someone else", msg: plainMsg("alice@example.org", "user", "pencil"), opts: []Option{ownJID}, cond: CondInvalidAuthzID},
		{name: "authzid and wrong password", msg: plainMsg("alice@example.org", "user", "x"), cond: CondNotAuthorized},
		{name: "empty message", msg: []byte{}, cond: CondMalformedRequest},
		{name: "no NUL", msg: []byte("userpencil"), cond: CondMalformedRequest},
		{name: "one NUL", msg: []byte("user\x00pencil"), cond: CondMalformedRequest},
		{name: "three NULs", msg: []byte("\x00user\x00pen\x00cil"), cond: CondMalformedRequest},
		{name: "empty authcid", msg: plainMsg("", "", "pencil"), cond: CondMalformedRequest},
		{name: "empty password", msg: plainMsg("", "user", ""), cond: CondMalformedRequest},
		{name: "invalid utf-8", msg: plainMsg("", "us\xffer", "pencil"), cond: CondMalformedRequest},
		{name: "field too long", msg: plainMsg("", "user", strings.Repeat("p", maxPlainField+1)), cond: CondMalformedRequest},
		{name: "message too long", msg: plainMsg(strings.Repeat("a", maxMessage), "user", "pencil"), cond: CondMalformedRequest},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv, err := NewServer(Plain, testLookup(t), tlsOnly, testNormalise, tc.opts...)
			if err != nil {
				t.Fatal(err)
			}
			if tc.noInitial {
				out, done, err := srv.Step(nil)
				if err != nil || done || out == nil || len(out) != 0 {
					t.Fatalf("absent initial response: %q %v %v", out, done, err)
				}
			}
			out, done, err := srv.Step(tc.msg)
			if tc.cond != "" {
				if err == nil || done {
					t.Fatalf("succeeded: %q %v", out, done)
				}
				f := asFailure(t, err)
				if f.Condition != tc.cond {
					t.Errorf("condition %q (%v), want %q", f.Condition, f, tc.cond)
				}
				if srv.Username() != "" {
					t.Errorf("Username() = %q after failure", srv.Username())
				}
			} else {
				if err != nil || !done || out != nil {
					t.Fatalf("Step = %q, %v, %v", out, done, err)
				}
				if srv.Username() != tc.wantUser || srv.AuthzID() != tc.wantAuthz {
					t.Errorf("identity %q/%q, want %q/%q", srv.Username(), srv.AuthzID(), tc.wantUser, tc.wantAuthz)
				}
			}
			if _, _, err := srv.Step(tc.msg); asFailure(t, err).Condition != CondMalformedRequest {
				t.Errorf("Step after end: %v", err)
			}
		})
	}
}

func TestPlainUnknownUserIndistinguishable(t *testing.T) {
	run := func(user string) error {
		srv, err := NewServer(Plain, testLookup(t), tlsOnly, testNormalise)
		if err != nil {
			t.Fatal(err)
		}
		_, _, err = srv.Step(plainMsg("", user, "wrong"))
		return err
	}
	known, unknown := run("user"), run("nobody")
	if !reflect.DeepEqual(known, unknown) {
		t.Errorf("failures differ: %#v vs %#v", known, unknown)
	}
	if errors.Unwrap(known) != nil {
		t.Error("credential failure carries an internal cause")
	}
}

func TestPlainRequiresTLS(t *testing.T) {
	_, err := NewServer(Plain, testLookup(t), ChannelBindingInfo{}, nil)
	if f := asFailure(t, err); f.Condition != CondEncryptionRequired {
		t.Errorf("%v", err)
	}
}

func TestPlainAbsentInitialResponseTwice(t *testing.T) {
	srv, _ := NewServer(Plain, testLookup(t), tlsOnly, nil)
	srv.Step(nil)
	if _, _, err := srv.Step(nil); asFailure(t, err).Condition != CondMalformedRequest {
		t.Error(err)
	}
}

func TestDeriveCredentials(t *testing.T) {
	a, err := DeriveCredentials("pencil", 0)
	if err != nil {
		t.Fatal(err)
	}
	b, err := DeriveCredentials("pencil", 5000)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		cred Credential
		size int
		iter int
	}{
		{"a.SHA1", a.SHA1, 20, DefaultIterations},
		{"a.SHA256", a.SHA256, 32, DefaultIterations},
		{"b.SHA1", b.SHA1, 20, 5000},
		{"b.SHA256", b.SHA256, 32, 5000},
	} {
		if len(c.cred.Salt) < 16 || c.cred.Iterations != c.iter || len(c.cred.StoredKey) != c.size || len(c.cred.ServerKey) != c.size {
			t.Errorf("%s: %+v", c.name, c.cred)
		}
	}
	salts := map[string]bool{}
	for _, s := range [][]byte{a.SHA1.Salt, a.SHA256.Salt, b.SHA1.Salt, b.SHA256.Salt} {
		if salts[string(s)] {
			t.Error("salt reused")
		}
		salts[string(s)] = true
	}
	if reflect.DeepEqual(a.SHA256.StoredKey, b.SHA256.StoredKey) {
		t.Error("same StoredKey with different salts")
	}
	for _, it := range []int{-1, 1, MinIterations - 1, MaxIterations + 1} {
		if _, err := DeriveCredentials("pencil", it); err == nil {
			t.Errorf("iterations %d accepted", it)
		}
	}
	for _, pw := range []string{"", "a\x00b", "bell\x07"} {
		if _, err := DeriveCredentials(pw, 0); !errors.Is(err, ErrInvalidPassword) {
			t.Errorf("password %q: %v", pw, err)
		}
	}
}

func TestVerifyPlain(t *testing.T) {
	c, err := DeriveCredentials("Tr0ub4dor&3 \u00e9", 0)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		pw   string
		want bool
	}{
		{"Tr0ub4dor&3 \u00e9", true},
		{"Tr0ub4dor&3\u00a0e\u0301", true}, // NBSP -> SP, NFC
		{"Tr0ub4dor&3 e", false},
		{"tr0ub4dor&3 \u00e9", false},
		{"", false},
	}
	for _, tc := range tests {
		if got := VerifyPlain(c, tc.pw); got != tc.want {
			t.Errorf("VerifyPlain(%q) = %v", tc.pw, got)
		}
	}
	// Falls back to SHA-1 when no SHA-256 credential is stored.
	sha1Only := Credentials{SHA1: c.SHA1}
	if !VerifyPlain(sha1Only, "Tr0ub4dor&3 \u00e9") || VerifyPlain(sha1Only, "x") {
		t.Error("SHA-1 fallback")
	}
	if VerifyPlain(Credentials{}, "Tr0ub4dor&3 \u00e9") {
		t.Error("empty credentials verified")
	}
	broken := c
	broken.SHA256.StoredKey = broken.SHA256.StoredKey[:10]
	broken.SHA1 = Credential{}
	if VerifyPlain(broken, "Tr0ub4dor&3 \u00e9") {
		t.Error("malformed credential verified")
	}
}

func TestAllowOwnBareJID(t *testing.T) {
	a := AllowOwnBareJID("Example.org.", testNormalise)
	tests := []struct {
		user, authzid string
		want          bool
	}{
		{"user", "user@example.org", true},
		{"user", "USER@EXAMPLE.ORG", true},
		{"user", "user@example.org.", true},
		{"user", "alice@example.org", false},
		{"user", "user@example.org/res", false},
		{"user", "example.org", false},
		{"user", "@example.org", false},
		{"user", "user@example.com", false},
		{"user", "us er@example.org", false},
	}
	for _, tc := range tests {
		if got := a(tc.user, tc.authzid); got != tc.want {
			t.Errorf("(%q, %q) = %v", tc.user, tc.authzid, got)
		}
	}
	if AllowOwnBareJID("", nil)("user", "user@") {
		t.Error("empty domain accepted")
	}
}
