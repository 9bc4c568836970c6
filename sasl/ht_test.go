package sasl

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/tls"
	"errors"
	"slices"
	"testing"
)

// htClient computes an initiator-msg the way the draft's §3.1 says a
// client does: keyed with the token itself, not with its hash.
func htClient(user, token string, cb []byte) []byte {
	m := hmac.New(sha256.New, []byte(token))
	m.Write([]byte("Initiator"))
	m.Write(cb)
	return append(append([]byte(user), 0), m.Sum(nil)...)
}

func TestHTKeyStandsForToken(t *testing.T) {
	for range 20 {
		token, key, err := NewHTToken()
		if err != nil {
			t.Fatal(err)
		}
		if len(token) <= sha256.BlockSize {
			t.Fatalf("token of %d bytes: HTKey would not be HMAC's key", len(token))
		}
		for _, cb := range [][]byte{{}, bytes.Repeat([]byte{7}, 32)} {
			user, proof, err := ParseHTMessage(htClient("juliet", token, cb))
			if err != nil || user != "juliet" {
				t.Fatalf("ParseHTMessage = %q, %v", user, err)
			}
			if !VerifyHT(key, cb, proof) {
				t.Fatal("the client's proof does not verify against the stored key")
			}
			if VerifyHT(key, append(cb, 1), proof) {
				t.Fatal("a proof verifies with other channel binding data")
			}
			m := hmac.New(sha256.New, []byte(token))
			m.Write([]byte("Responder"))
			m.Write(cb)
			if !bytes.Equal(HTResponderMessage(key, cb), m.Sum(nil)) {
				t.Fatal("responder-msg differs from HMAC(token, \"Responder\" || cb-data)")
			}
		}
	}
}

func TestParseHTMessage(t *testing.T) {
	tests := []struct {
		name  string
		msg   []byte
		user  string
		proof []byte
	}{
		{"plain", []byte("juliet\x00abc"), "juliet", []byte("abc")},
		{"proof with NUL", []byte("juliet\x00a\x00b"), "juliet", []byte("a\x00b")},
		{"no NUL", []byte("juliet"), "", nil},
		{"empty authcid", []byte("\x00abc"), "", nil},
		{"empty proof", []byte("juliet\x00"), "", nil},
		{"bad UTF-8", []byte("jul\xffiet\x00abc"), "", nil},
		{"empty", nil, "", nil},
		{"too long", append([]byte("juliet\x00"), make([]byte, maxMessage)...), "", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			user, proof, err := ParseHTMessage(tc.msg)
			if tc.user == "" {
				var f *Failure
				if !errors.As(err, &f) || f.Condition != CondMalformedRequest {
					t.Fatalf("err = %v, want malformed-request", err)
				}
				return
			}
			if err != nil || user != tc.user || !bytes.Equal(proof, tc.proof) {
				t.Fatalf("= %q, %q, %v", user, proof, err)
			}
		})
	}
}

func TestHTMechanisms(t *testing.T) {
	exp := ChannelBinding{Type: CBTLSExporter, Data: []byte("x")}
	uniq := ChannelBinding{Type: CBTLSUnique, Data: []byte("u")}
	tests := []struct {
		info ChannelBindingInfo
		want []string
	}{
		{ChannelBindingInfo{}, nil},
		{ChannelBindingInfo{TLS: true}, []string{HTSHA256None}},
		{ChannelBindingInfo{TLS: true, Bindings: []ChannelBinding{exp}}, []string{HTSHA256Expr, HTSHA256None}},
		{ChannelBindingInfo{TLS: true, Bindings: []ChannelBinding{uniq}}, []string{HTSHA256Uniq, HTSHA256None}},
		// The draft's §6: HT only where the TLS session hash was
		// negotiated or the session not resumed.
		{ChannelBindingInfo{TLS: true, ResumedWithoutEMS: true}, nil},
	}
	for _, tc := range tests {
		if got := HTMechanisms(tc.info); !slices.Equal(got, tc.want) {
			t.Errorf("HTMechanisms(%+v) = %q, want %q", tc.info, got, tc.want)
		}
	}
	info := ChannelBindingInfo{TLS: true, Bindings: []ChannelBinding{exp}}
	if cb, ok := HTChannelBinding(HTSHA256Expr, info); !ok || string(cb) != "x" {
		t.Errorf("EXPR binding = %q, %v", cb, ok)
	}
	if _, ok := HTChannelBinding(HTSHA256Uniq, info); ok {
		t.Error("UNIQ binding on a connection without tls-unique")
	}
	if cb, ok := HTChannelBinding(HTSHA256None, info); !ok || len(cb) != 0 {
		t.Errorf("NONE binding = %q, %v", cb, ok)
	}
	if _, ok := HTChannelBinding("HT-SHA-256-ENDP", info); ok {
		t.Error("ENDP is not offered")
	}
}

// FuzzParseHTMessage checks that the initiator-msg parser never panics,
// fails only with malformed-request, and that what it accepts splits the
// message at its first NUL.
func FuzzParseHTMessage(f *testing.F) {
	f.Add([]byte("juliet\x00abc"))
	f.Add([]byte("\x00"))
	f.Add([]byte("a\x00\x00"))
	f.Add([]byte("\xff\x00a"))
	f.Fuzz(func(t *testing.T, msg []byte) {
		user, proof, err := ParseHTMessage(msg)
		if err != nil {
			var fl *Failure
			if !errors.As(err, &fl) || fl.Condition != CondMalformedRequest {
				t.Fatalf("err = %v", err)
			}
			return
		}
		if user == "" || len(proof) == 0 || bytes.IndexByte([]byte(user), 0) >= 0 {
			t.Fatalf("accepted %q, %q", user, proof)
		}
		if !bytes.Equal(append(append([]byte(user), 0), proof...), msg) {
			t.Fatal("split does not rebuild the message")
		}
	})
}

// A TLS 1.2 session resumed without the extended master secret (RFC
// 7627) is marked, so that HT is not offered on it (the draft's §6);
// crypto/tls gives such a session no tls-unique, which is how it shows.
// (A made-up TLS 1.3 state cannot be tried here: its exporter is unset.)
func TestResumedWithoutEMS(t *testing.T) {
	tests := []struct {
		name string
		cs   tls.ConnectionState
		want bool
	}{
		{"TLS 1.2 full handshake", tls.ConnectionState{Version: tls.VersionTLS12, HandshakeComplete: true, TLSUnique: []byte("f")}, false},
		{"TLS 1.2 resumed with EMS", tls.ConnectionState{Version: tls.VersionTLS12, HandshakeComplete: true, DidResume: true, TLSUnique: []byte("f")}, false},
		{"TLS 1.2 resumed without EMS", tls.ConnectionState{Version: tls.VersionTLS12, HandshakeComplete: true, DidResume: true}, true},
	}
	for _, tc := range tests {
		if got := ChannelBindingInfoFor(&tc.cs).ResumedWithoutEMS; got != tc.want {
			t.Errorf("%s: ResumedWithoutEMS = %v, want %v", tc.name, got, tc.want)
		}
	}
}
