package sasl

import (
	"bytes"
	"errors"
	"testing"
)

// FuzzScramServer feeds arbitrary client-first and client-final messages to
// every SCRAM mechanism and checks that the server never panics, that every
// error is a *Failure with an RFC 6120 condition and that success only
// happens for the one known user.
func FuzzScramServer(f *testing.F) {
	mechs := []string{ScramSHA1, ScramSHA256, ScramSHA1Plus, ScramSHA256Plus}
	const snonce = "fuzzServerNonce"
	cbData := bytes.Repeat([]byte{0x5a}, 32)
	info := ChannelBindingInfo{TLS: true, Bindings: []ChannelBinding{{Type: CBTLSExporter, Data: cbData}}}

	var creds Credentials
	prepared, _ := PreparePassword("pencil")
	for _, h := range allHashes {
		c, err := deriveCredential(h, prepared, []byte("fixed fuzz salt!"), MinIterations)
		if err != nil {
			f.Fatal(err)
		}
		*h.pick(&creds) = c
	}
	lookup := func(u string) (Credentials, bool, error) {
		switch u {
		case "user":
			return creds, true, nil
		case "error":
			return Credentials{}, false, errors.New("store failure")
		}
		return Credentials{}, false, nil
	}

	// Seeds: complete valid exchanges (the server nonce is fixed below, so
	// they stay valid), plus a few broken ones.
	for i, m := range mechs {
		c := &scramClient{mech: m, user: "user", password: "pencil", cnonce: "fuzzClientNonce"}
		if i >= 2 {
			c.flag, c.cbData = "p="+CBTLSExporter, cbData
		}
		first := c.first()
		srv, _ := NewServer(m, lookup, info, nil)
		srv.(*scramServer).nonce = func() (string, error) { return snonce, nil }
		sf, _, err := srv.Step(first)
		if err != nil {
			f.Fatal(err)
		}
		final, err := c.final(sf)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(uint8(i), first, final)
		f.Add(uint8(i), first, append(final[:len(final)-2:len(final)-2], "A="...))
	}
	f.Add(uint8(0), []byte("y,a=user,n=user,r=x,m=1"), []byte("c=eSwsdXNlciw=,r=x,p=AAAA"))
	f.Add(uint8(1), []byte("n,,n=error,r=abc"), []byte(""))
	f.Add(uint8(3), []byte("p=tls-unique,,n==3D=2C,r=!"), []byte("c=,r=,p="))

	f.Fuzz(func(t *testing.T, mi uint8, first, final []byte) {
		mech := mechs[int(mi)%len(mechs)]
		srv, err := NewServer(mech, lookup, info, nil)
		if err != nil {
			t.Fatal(err)
		}
		srv.(*scramServer).nonce = func() (string, error) { return snonce, nil }
		check := func(out []byte, done bool, err error) bool {
			if err == nil {
				return true
			}
			var fl *Failure
			if !errors.As(err, &fl) || !validConditions[fl.Condition] {
				t.Fatalf("error %v is not a *Failure with a valid condition", err)
			}
			if done || out != nil {
				t.Fatalf("error with done=%v out=%q", done, out)
			}
			if srv.Username() != "" {
				t.Fatal("username set after failure")
			}
			return false
		}
		out, done, err := srv.Step(first)
		if !check(out, done, err) {
			return
		}
		if done || !bytes.HasPrefix(out, []byte("r=")) {
			t.Fatalf("bad server-first %q done=%v", out, done)
		}
		out, done, err = srv.Step(final)
		if !check(out, done, err) {
			return
		}
		if !done || !bytes.HasPrefix(out, []byte("v=")) || srv.Username() != "user" {
			t.Fatalf("success without proper result: %q %v %q", out, done, srv.Username())
		}
	})
}

// FuzzPlainServer does the same for PLAIN.
func FuzzPlainServer(f *testing.F) {
	creds, err := DeriveCredentials("pencil", MinIterations)
	if err != nil {
		f.Fatal(err)
	}
	lookup := func(u string) (Credentials, bool, error) { return creds, u == "user", nil }
	f.Add([]byte("\x00user\x00pencil"))
	f.Add([]byte("user@example.org\x00user\x00pencil"))
	f.Add([]byte("\x00\x00"))
	f.Fuzz(func(t *testing.T, msg []byte) {
		srv, err := NewServer(Plain, lookup, ChannelBindingInfo{TLS: true}, nil)
		if err != nil {
			t.Fatal(err)
		}
		out, done, err := srv.Step(msg)
		if err != nil {
			var fl *Failure
			if !errors.As(err, &fl) || !validConditions[fl.Condition] || done || out != nil {
				t.Fatalf("bad failure %v", err)
			}
			return
		}
		if !done || srv.Username() != "user" {
			t.Fatalf("unexpected result %q %v %q", out, done, srv.Username())
		}
	})
}
