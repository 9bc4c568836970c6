package loadgen

import (
	"crypto/pbkdf2"
	"crypto/sha1"
	"crypto/sha256"
	"hash"
	"testing"
)

// TestSCRAMVectors checks the client against the example exchanges of
// RFC 5802 §5 (SHA-1) and RFC 7677 §3 (SHA-256).
func TestSCRAMVectors(t *testing.T) {
	for _, tc := range []struct {
		name                                   string
		h                                      func() hash.Hash
		cnonce, serverFirst, final, serverLast string
	}{
		{
			"SCRAM-SHA-1", sha1.New, "fyko+d2lbbFgONRv9qkxdawL",
			"r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096",
			"c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=",
			"v=rmF9pqV8S7suAoZWja4dJRkFsKQ=",
		},
		{
			"SCRAM-SHA-256", sha256.New, "rOprNGfwEbeRWgbNEkqO",
			"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
			"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
			"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &scramClient{h: tc.h, user: "user", pass: "pencil", cnonce: tc.cnonce}
			s.salt = func(salt []byte, iter int) ([]byte, error) {
				return pbkdf2.Key(tc.h, "pencil", salt, iter, tc.h().Size())
			}
			if got, want := s.first(), "n,,n=user,r="+tc.cnonce; got != want {
				t.Errorf("first: %q, want %q", got, want)
			}
			got, err := s.final(tc.serverFirst)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.final {
				t.Errorf("final:\n got %q\nwant %q", got, tc.final)
			}
			if err := s.verify(tc.serverLast); err != nil {
				t.Error(err)
			}
			if err := s.verify("v=AAAA"); err == nil {
				t.Error("a wrong server signature was accepted")
			}
		})
	}
}

// TestSCRAMRejectsBadServerFirst covers a nonce that does not extend ours,
// a missing salt and a mandatory extension.
func TestSCRAMRejectsBadServerFirst(t *testing.T) {
	for _, sf := range []string{
		"r=other,s=QSXCR+Q6sek8bf92,i=4096",
		"r=abc,s=QSXCR+Q6sek8bf92,i=4096", // no server part
		"r=abcdef,i=4096",
		"r=abcdef,s=QSXCR+Q6sek8bf92,i=0",
		"m=ext,r=abcdef,s=QSXCR+Q6sek8bf92,i=4096",
	} {
		s := &scramClient{h: sha256.New, user: "u", pass: "p", cnonce: "abc"}
		s.salt = func([]byte, int) ([]byte, error) { return make([]byte, 32), nil }
		s.first()
		if _, err := s.final(sf); err == nil {
			t.Errorf("%q accepted", sf)
		}
	}
}

func TestParseBody(t *testing.T) {
	for _, tc := range []struct {
		body      string
		run       string
		flow, seq int
		ok        bool
	}{
		{"skald-bench abc 3 17", "abc", 3, 17, true},
		{"skald-bench abc 3 17 xxxxxxxx", "abc", 3, 17, true},
		{"skald-bench abc 3", "", 0, 0, false},
		{"skald-bench abc x 1", "", 0, 0, false},
		{"skald-bench abc 1 -1", "", 0, 0, false},
		{"hello", "", 0, 0, false},
	} {
		run, flow, seq, ok := parseBody(tc.body)
		if ok != tc.ok || ok && (run != tc.run || flow != tc.flow || seq != tc.seq) {
			t.Errorf("parseBody(%q) = %q %d %d %v", tc.body, run, flow, seq, ok)
		}
	}
}
