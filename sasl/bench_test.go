package sasl

import (
	"testing"
)

func BenchmarkDeriveCredentials(b *testing.B) {
	for b.Loop() {
		if _, err := DeriveCredentials("correct horse battery staple", DefaultIterations); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkScramSHA256Exchange measures the server side of one complete
// SCRAM-SHA-256 exchange (NewServer, lookup, both steps); the client messages
// are computed once, with a fixed server nonce.
func BenchmarkScramSHA256Exchange(b *testing.B) {
	lookup := testLookup(b)
	const snonce = "benchServerNonce"
	newSrv := func() Server {
		srv, err := NewServer(ScramSHA256, lookup, ChannelBindingInfo{}, testNormalise)
		if err != nil {
			b.Fatal(err)
		}
		srv.(*scramServer).nonce = func() (string, error) { return snonce, nil }
		return srv
	}
	c := &scramClient{mech: ScramSHA256, user: "user", password: "pencil"}
	first := c.first()
	sf, _, err := newSrv().Step(first)
	if err != nil {
		b.Fatal(err)
	}
	final, err := c.final(sf)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		srv := newSrv()
		if _, _, err := srv.Step(first); err != nil {
			b.Fatal(err)
		}
		if _, done, err := srv.Step(final); err != nil || !done {
			b.Fatal(err)
		}
	}
}

// BenchmarkPlainExchange measures one PLAIN authentication (dominated by
// PBKDF2 with DefaultIterations).
func BenchmarkPlainExchange(b *testing.B) {
	lookup := testLookup(b)
	msg := plainMsg("", "user", "pencil")
	for b.Loop() {
		srv, err := NewServer(Plain, lookup, tlsOnly, testNormalise)
		if err != nil {
			b.Fatal(err)
		}
		if _, done, err := srv.Step(msg); err != nil || !done {
			b.Fatal(err)
		}
	}
}
