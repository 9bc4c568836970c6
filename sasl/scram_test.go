package sasl

import (
	"bytes"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// ---------------------------------------------------------------------------
// A small SCRAM client, written independently of the server code (it shares
// nothing but the standard library).

type scramClient struct {
	mech     string // selects the hash
	user     string // unescaped user name
	password string // used as is (callers prepare it if needed)
	authzid  string
	flag     string // "n", "y" or "p=<type>"
	cbData   []byte // appended to the GS2 header in c= (for p=)
	cnonce   string

	// Hooks to produce broken messages.
	editFirst func(string) string
	editFinal func(withoutProof, proof string) string

	gs2, firstBare, authMessage string
	saltedPassword              []byte
}

func (c *scramClient) hash() func() hash.Hash {
	if strings.HasPrefix(c.mech, "SCRAM-SHA-256") {
		return sha256.New
	}
	return sha1.New
}

func escapeSaslname(s string) string {
	return strings.NewReplacer("=", "=3D", ",", "=2C").Replace(s)
}

func (c *scramClient) first() []byte {
	if c.flag == "" {
		c.flag = "n"
	}
	if c.cnonce == "" {
		c.cnonce = "clientNONCE0123456789"
	}
	c.gs2 = c.flag + ","
	if c.authzid != "" {
		c.gs2 += "a=" + escapeSaslname(c.authzid)
	}
	c.gs2 += ","
	c.firstBare = "n=" + escapeSaslname(c.user) + ",r=" + c.cnonce
	msg := c.gs2 + c.firstBare
	if c.editFirst != nil {
		msg = c.editFirst(msg)
	}
	return []byte(msg)
}

func (c *scramClient) final(serverFirst []byte) ([]byte, error) {
	var nonce, saltB64, iter string
	for _, a := range strings.Split(string(serverFirst), ",") {
		switch {
		case strings.HasPrefix(a, "r="):
			nonce = a[2:]
		case strings.HasPrefix(a, "s="):
			saltB64 = a[2:]
		case strings.HasPrefix(a, "i="):
			iter = a[2:]
		}
	}
	if !strings.HasPrefix(nonce, c.cnonce) || len(nonce) == len(c.cnonce) {
		return nil, fmt.Errorf("server nonce %q does not extend client nonce", nonce)
	}
	salt, err := base64.StdEncoding.DecodeString(saltB64)
	if err != nil || len(salt) == 0 {
		return nil, fmt.Errorf("bad salt %q", saltB64)
	}
	n, err := strconv.Atoi(iter)
	if err != nil || n < 1 {
		return nil, fmt.Errorf("bad iteration count %q", iter)
	}
	h := c.hash()
	c.saltedPassword, err = pbkdf2.Key(h, c.password, salt, n, h().Size())
	if err != nil {
		return nil, err
	}
	cbind := append([]byte(c.gs2), c.cbData...)
	withoutProof := "c=" + base64.StdEncoding.EncodeToString(cbind) + ",r=" + nonce
	c.authMessage = c.firstBare + "," + string(serverFirst) + "," + withoutProof

	clientKey := mac(h, c.saltedPassword, "Client Key")
	d := h()
	d.Write(clientKey)
	storedKey := d.Sum(nil)
	sig := mac(h, storedKey, c.authMessage)
	proof := make([]byte, len(sig))
	for i := range sig {
		proof[i] = clientKey[i] ^ sig[i]
	}
	proofB64 := base64.StdEncoding.EncodeToString(proof)
	if c.editFinal != nil {
		return []byte(c.editFinal(withoutProof, proofB64)), nil
	}
	return []byte(withoutProof + ",p=" + proofB64), nil
}

func (c *scramClient) verify(serverFinal []byte) error {
	v, ok := strings.CutPrefix(string(serverFinal), "v=")
	if !ok {
		return fmt.Errorf("server-final %q has no verifier", serverFinal)
	}
	h := c.hash()
	want := mac(h, mac(h, c.saltedPassword, "Server Key"), c.authMessage)
	got, err := base64.StdEncoding.DecodeString(v)
	if err != nil || !hmac.Equal(got, want) {
		return errors.New("server signature mismatch")
	}
	return nil
}

func mac(h func() hash.Hash, key []byte, msg string) []byte {
	m := hmac.New(h, key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}

// exchange drives a full exchange. stage reports where it stopped: 1 after
// the client-first-message, 2 after the client-final-message.
func exchange(t testing.TB, srv Server, c *scramClient, initialResponse bool) (stage int, err error) {
	t.Helper()
	if !initialResponse {
		out, done, err := srv.Step(nil)
		if err != nil || done || out == nil || len(out) != 0 {
			t.Fatalf("absent initial response: out=%q done=%v err=%v, want empty challenge", out, done, err)
		}
	}
	out, done, err := srv.Step(c.first())
	if err != nil {
		return 1, err
	}
	if done {
		t.Fatal("done after client-first-message")
	}
	fin, cerr := c.final(out)
	if cerr != nil {
		t.Fatalf("client: %v", cerr)
	}
	out, done, err = srv.Step(fin)
	if err != nil {
		return 2, err
	}
	if !done {
		t.Fatal("not done after client-final-message")
	}
	if err := c.verify(out); err != nil {
		t.Fatalf("client: %v", err)
	}
	return 2, nil
}

// ---------------------------------------------------------------------------

// TestScramRFCVectors replays the example exchanges of RFC 5802 §5 and RFC
// 7677 §3 byte for byte, with the credential derived from "pencil" and the
// examples' salt, which checks the key derivation (StoredKey verifies the
// proof, ServerKey produces the verifier).
func TestScramRFCVectors(t *testing.T) {
	vectors := []struct {
		mech, salt, snonce                           string
		clientFirst, serverFirst, clientFinal, final string
	}{
		{
			mech: ScramSHA1, salt: "QSXCR+Q6sek8bf92", snonce: "3rfcNHYJY1ZVvWVs7j",
			clientFirst: "n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL",
			serverFirst: "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096",
			clientFinal: "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=",
			final:       "v=rmF9pqV8S7suAoZWja4dJRkFsKQ=",
		},
		{
			mech: ScramSHA256, salt: "W22ZaJ0SNY7soEsUEjb6gQ==", snonce: "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0",
			clientFirst: "n,,n=user,r=rOprNGfwEbeRWgbNEkqO",
			serverFirst: "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
			clientFinal: "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
			final:       "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=",
		},
	}
	for _, v := range vectors {
		t.Run(v.mech, func(t *testing.T) {
			h := hashSHA1
			if v.mech == ScramSHA256 {
				h = hashSHA256
			}
			salt, _ := base64.StdEncoding.DecodeString(v.salt)
			prepared, err := PreparePassword("pencil")
			if err != nil {
				t.Fatal(err)
			}
			cred, err := deriveCredential(h, prepared, salt, 4096)
			if err != nil {
				t.Fatal(err)
			}
			var creds Credentials
			*h.pick(&creds) = cred
			lookup := func(u string) (Credentials, bool, error) { return creds, u == "user", nil }
			srv, err := NewServer(v.mech, lookup, ChannelBindingInfo{}, nil)
			if err != nil {
				t.Fatal(err)
			}
			srv.(*scramServer).nonce = func() (string, error) { return v.snonce, nil }

			out, done, err := srv.Step([]byte(v.clientFirst))
			if err != nil || done || string(out) != v.serverFirst {
				t.Fatalf("server-first = %q, %v, %v; want %q", out, done, err, v.serverFirst)
			}
			out, done, err = srv.Step([]byte(v.clientFinal))
			if err != nil || !done || string(out) != v.final {
				t.Fatalf("server-final = %q, %v, %v; want %q", out, done, err, v.final)
			}
			if srv.Username() != "user" {
				t.Errorf("Username() = %q", srv.Username())
			}

			// The test client reproduces the RFC's client messages.
			c := &scramClient{mech: v.mech, user: "user", password: "pencil",
				cnonce: strings.TrimPrefix(v.clientFirst, "n,,n=user,r=")}
			if got := string(c.first()); got != v.clientFirst {
				t.Errorf("client-first = %q", got)
			}
			fin, err := c.final([]byte(v.serverFirst))
			if err != nil || string(fin) != v.clientFinal {
				t.Errorf("client-final = %q, %v", fin, err)
			}
			if err := c.verify([]byte(v.final)); err != nil {
				t.Error(err)
			}
		})
	}
}

type tlsKind int

const (
	noTLS tlsKind = iota
	tls12
	tls13
	tlsNoCB // TLS without any channel binding offered
)

// connInfo returns the server-side ChannelBindingInfo and the client's view
// of the binding data for each type, from a real TLS handshake.
func connInfo(t testing.TB, k tlsKind) (ChannelBindingInfo, map[string][]byte) {
	t.Helper()
	switch k {
	case noTLS:
		return ChannelBindingInfoFor(nil), nil
	case tlsNoCB:
		return ChannelBindingInfo{TLS: true}, nil
	}
	v := uint16(tls.VersionTLS12)
	if k == tls13 {
		v = tls.VersionTLS13
	}
	ss, cs := tlsPair(t, v)
	client := map[string][]byte{}
	if len(cs.TLSUnique) > 0 {
		client[CBTLSUnique] = cs.TLSUnique
	}
	if ekm, err := cs.ExportKeyingMaterial("EXPORTER-Channel-Binding", nil, 32); err == nil {
		client[CBTLSExporter] = ekm
	}
	return ChannelBindingInfoFor(&ss), client
}

func TestScramExchanges(t *testing.T) {
	ownJID := WithAuthorizer(AllowOwnBareJID("example.org", testNormalise))
	tests := []struct {
		name      string
		mech      string
		tls       tlsKind
		user      string // as sent; defaults to "user"
		password  string // defaults to the account's
		authzid   string
		flag      string // defaults to "n", or p=<first offered> for PLUS
		opts      []Option
		noInitial bool
		wantUser  string
	}{
		{name: "sha1", mech: ScramSHA1},
		{name: "sha256", mech: ScramSHA256},
		{name: "sha1 tls13 no cb used", mech: ScramSHA1, tls: tls13},
		{name: "sha256 tls12 no cb used", mech: ScramSHA256, tls: tls12},
		{name: "sha1-plus tls-exporter", mech: ScramSHA1Plus, tls: tls13},
		{name: "sha256-plus tls-exporter", mech: ScramSHA256Plus, tls: tls13},
		{name: "sha1-plus tls-unique", mech: ScramSHA1Plus, tls: tls12},
		{name: "sha256-plus tls-unique", mech: ScramSHA256Plus, tls: tls12},
		{name: "y flag without tls", mech: ScramSHA256, flag: "y"},
		{name: "y flag tls without cb", mech: ScramSHA256, tls: tlsNoCB, flag: "y"},
		{name: "absent initial response", mech: ScramSHA256, noInitial: true},
		{name: "escaped username", mech: ScramSHA256, user: "We,ird=Name", wantUser: "we,ird=name"},
		{name: "normalised username", mech: ScramSHA1, user: "USER", wantUser: "user"},
		{name: "unicode password", mech: ScramSHA256, user: "ünïcode", password: "pass wörd"},
		{name: "own bare jid authzid", mech: ScramSHA256, authzid: "User@Example.ORG", opts: []Option{ownJID}},
		{name: "sha256 on sha256-only account", mech: ScramSHA256, user: "only256", password: "only256"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			info, clientCB := connInfo(t, tc.tls)
			if tc.user == "" {
				tc.user = "user"
			}
			if tc.wantUser == "" {
				tc.wantUser = tc.user
			}
			if tc.password == "" {
				tc.password = testPasswords[tc.wantUser]
			}
			c := &scramClient{mech: tc.mech, user: tc.user, password: tc.password, authzid: tc.authzid, flag: tc.flag}
			if strings.HasSuffix(tc.mech, "-PLUS") {
				typ := info.Types()[0]
				c.flag = "p=" + typ
				c.cbData = clientCB[typ]
			}
			srv, err := NewServer(tc.mech, testLookup(t), info, testNormalise, tc.opts...)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := exchange(t, srv, c, !tc.noInitial); err != nil {
				t.Fatalf("exchange failed: %v", err)
			}
			if srv.Username() != tc.wantUser {
				t.Errorf("Username() = %q, want %q", srv.Username(), tc.wantUser)
			}
			if srv.AuthzID() != tc.authzid {
				t.Errorf("AuthzID() = %q, want %q", srv.AuthzID(), tc.authzid)
			}
			if srv.Mechanism() != tc.mech {
				t.Errorf("Mechanism() = %q", srv.Mechanism())
			}
			if _, _, err := srv.Step([]byte("n,,n=user,r=abc")); asFailure(t, err).Condition != CondMalformedRequest {
				t.Errorf("Step after success: %v", err)
			}
		})
	}
}

func TestScramFailures(t *testing.T) {
	flipLastProofByte := func(w, p string) string {
		b, _ := base64.StdEncoding.DecodeString(p)
		b[len(b)-1] ^= 1
		return w + ",p=" + base64.StdEncoding.EncodeToString(b)
	}
	replaceFinal := func(f func(w, p string) string) func(string, string) string { return f }
	tests := []struct {
		name      string
		mech      string
		tls       tlsKind
		user      string
		password  string
		authzid   string
		flag      string // "" = n (or p=first offered for PLUS)
		cbData    []byte // overrides the correct client binding data
		first     string // raw client-first-message, replaces the client's
		editFirst func(string) string
		editFinal func(w, p string) string
		opts      []Option
		stage     int
		cond      string
		serverErr string
	}{
		{name: "wrong password", mech: ScramSHA256, password: "pen", stage: 2, cond: CondNotAuthorized, serverErr: ScramErrInvalidProof},
		{name: "unknown user", mech: ScramSHA256, user: "nobody", password: "pencil", stage: 2, cond: CondNotAuthorized, serverErr: ScramErrInvalidProof},
		{name: "unnormalisable user", mech: ScramSHA1, user: "a b", password: "pencil", stage: 2, cond: CondNotAuthorized, serverErr: ScramErrInvalidProof},
		{name: "missing sha1 credential", mech: ScramSHA1, user: "only256", password: "only256", stage: 2, cond: CondNotAuthorized, serverErr: ScramErrInvalidProof},
		{name: "lookup error", mech: ScramSHA256, user: "broken-store", stage: 1, cond: CondTemporaryAuthFailure},
		{name: "tampered proof", mech: ScramSHA1, editFinal: flipLastProofByte, stage: 2, cond: CondNotAuthorized, serverErr: ScramErrInvalidProof},
		{name: "short proof", mech: ScramSHA256, editFinal: func(w, p string) string { return w + ",p=AAAA" }, stage: 2, cond: CondNotAuthorized, serverErr: ScramErrInvalidProof},
		{name: "bad nonce", mech: ScramSHA256, editFinal: func(w, p string) string { return strings.Replace(w, ",r=", ",r=x", 1) + ",p=" + p }, stage: 2, cond: CondNotAuthorized, serverErr: ScramErrOtherError},
		{name: "client nonce only", mech: ScramSHA256, editFinal: func(w, p string) string {
			return strings.SplitN(w, ",r=", 2)[0] + ",r=clientNONCE0123456789,p=" + p
		}, stage: 2, cond: CondNotAuthorized, serverErr: ScramErrOtherError},
		{name: "wrong cb data exporter", mech: ScramSHA256Plus, tls: tls13, cbData: bytes.Repeat([]byte{7}, 32), stage: 2, cond: CondNotAuthorized, serverErr: ScramErrChannelBindingsDontMatch},
		{name: "wrong cb data unique", mech: ScramSHA1Plus, tls: tls12, cbData: []byte("not the finished message"), stage: 2, cond: CondNotAuthorized, serverErr: ScramErrChannelBindingsDontMatch},
		{name: "missing cb data", mech: ScramSHA256Plus, tls: tls13, cbData: []byte{}, stage: 2, cond: CondNotAuthorized, serverErr: ScramErrChannelBindingsDontMatch},
		{name: "cb type not offered", mech: ScramSHA256Plus, tls: tls13, flag: "p=tls-unique", stage: 1, cond: CondNotAuthorized, serverErr: ScramErrUnsupportedCBType},
		{name: "cb type unknown", mech: ScramSHA256Plus, tls: tls12, flag: "p=tls-server-end-point", stage: 1, cond: CondNotAuthorized, serverErr: ScramErrUnsupportedCBType},
		{name: "y flag while PLUS offered tls13", mech: ScramSHA256, tls: tls13, flag: "y", stage: 1, cond: CondNotAuthorized, serverErr: ScramErrServerDoesSupportCB},
		{name: "y flag while PLUS offered tls12", mech: ScramSHA1, tls: tls12, flag: "y", stage: 1, cond: CondNotAuthorized, serverErr: ScramErrServerDoesSupportCB},
		{name: "n flag with PLUS", mech: ScramSHA256Plus, tls: tls13, flag: "n", stage: 1, cond: CondMalformedRequest},
		{name: "y flag with PLUS", mech: ScramSHA256Plus, tls: tls13, flag: "y", stage: 1, cond: CondMalformedRequest},
		{name: "p flag without PLUS", mech: ScramSHA256, tls: tls13, flag: "p=tls-exporter", stage: 1, cond: CondMalformedRequest},
		{name: "p flag without cb", mech: ScramSHA256, flag: "p=tls-exporter", stage: 1, cond: CondMalformedRequest, serverErr: ScramErrChannelBindingNotSupported},
		{name: "gs2 header changed in c=", mech: ScramSHA256, editFinal: func(w, p string) string {
			return "c=" + base64.StdEncoding.EncodeToString([]byte("y,,")) + w[len("c=biws"):] + ",p=" + p
		}, stage: 2, cond: CondNotAuthorized, serverErr: ScramErrChannelBindingsDontMatch},
		{name: "m extension first", mech: ScramSHA256, editFirst: func(s string) string { return strings.Replace(s, ",,n=", ",,m=x,n=", 1) }, stage: 1, cond: CondMalformedRequest, serverErr: ScramErrExtensionsNotSupported},
		{name: "m extension final", mech: ScramSHA256, editFinal: func(w, p string) string { return w + ",m=x,p=" + p }, stage: 2, cond: CondMalformedRequest, serverErr: ScramErrExtensionsNotSupported},
		{name: "authzid without authorizer", mech: ScramSHA256, authzid: "user@example.org", stage: 2, cond: CondInvalidAuthzID},
		{name: "authzid of someone else", mech: ScramSHA256, authzid: "alice@example.org", opts: []Option{WithAuthorizer(AllowOwnBareJID("example.org", testNormalise))}, stage: 2, cond: CondInvalidAuthzID},
		{name: "authzid full jid", mech: ScramSHA256, authzid: "user@example.org/res", opts: []Option{WithAuthorizer(AllowOwnBareJID("example.org", testNormalise))}, stage: 2, cond: CondInvalidAuthzID},
		{name: "authzid other domain", mech: ScramSHA256, authzid: "user@example.com", opts: []Option{WithAuthorizer(AllowOwnBareJID("example.org", testNormalise))}, stage: 2, cond: CondInvalidAuthzID},
		{name: "authzid and wrong password", mech: ScramSHA256, authzid: "alice@example.org", password: "x", stage: 2, cond: CondNotAuthorized, serverErr: ScramErrInvalidProof},
		// Malformed client-final-messages.
		{name: "final without proof", mech: ScramSHA256, editFinal: func(w, p string) string { return w }, stage: 2, cond: CondMalformedRequest},
		{name: "final proof not last", mech: ScramSHA256, editFinal: func(w, p string) string { return w + ",p=" + p + ",x=y" }, stage: 2, cond: CondMalformedRequest},
		{name: "final proof with newline", mech: ScramSHA256, editFinal: func(w, p string) string { return w + ",p=" + p[:8] + "\n" + p[8:] }, stage: 2, cond: CondMalformedRequest, serverErr: ScramErrInvalidEncoding},
		{name: "final proof bad base64", mech: ScramSHA256, editFinal: func(w, p string) string { return w + ",p=" + p[:len(p)-1] }, stage: 2, cond: CondMalformedRequest, serverErr: ScramErrInvalidEncoding},
		{name: "final c= bad base64", mech: ScramSHA256, editFinal: func(w, p string) string { return "c=biw*" + w[len("c=biws"):] + ",p=" + p }, stage: 2, cond: CondMalformedRequest, serverErr: ScramErrInvalidEncoding},
		{name: "final c= non-canonical base64", mech: ScramSHA256, editFinal: func(w, p string) string { return "c=bh==" + w[len("c=biws"):] + ",p=" + p }, stage: 2, cond: CondMalformedRequest, serverErr: ScramErrInvalidEncoding},
		{name: "final missing c=", mech: ScramSHA256, editFinal: func(w, p string) string { return w[len("c=biws,"):] + ",x=y,p=" + p }, stage: 2, cond: CondMalformedRequest},
		{name: "final missing r=", mech: ScramSHA256, editFinal: replaceFinal(func(w, p string) string { return "c=biws,p=" + p }), stage: 2, cond: CondMalformedRequest},
		{name: "final attributes swapped", mech: ScramSHA256, editFinal: func(w, p string) string {
			a := strings.Split(w, ",")
			return a[1] + "," + a[0] + ",p=" + p
		}, stage: 2, cond: CondMalformedRequest},
		{name: "final repeated r=", mech: ScramSHA256, editFinal: func(w, p string) string { return w + ",r=x,p=" + p }, stage: 2, cond: CondMalformedRequest},
		{name: "final invalid utf-8", mech: ScramSHA256, editFinal: func(w, p string) string { return w + ",x=\xff,p=" + p }, stage: 2, cond: CondMalformedRequest},
		{name: "final unknown extension ignored but proof covers it", mech: ScramSHA256, editFinal: func(w, p string) string { return w + ",x=extra,p=" + p }, stage: 2, cond: CondNotAuthorized, serverErr: ScramErrInvalidProof},
		// Malformed client-first-messages.
		{name: "first empty", mech: ScramSHA256, first: "", stage: 1, cond: CondMalformedRequest},
		{name: "first no gs2", mech: ScramSHA256, first: "n=user,r=abc", stage: 1, cond: CondMalformedRequest},
		{name: "first flag only", mech: ScramSHA256, first: "n,", stage: 1, cond: CondMalformedRequest},
		{name: "first no bare", mech: ScramSHA256, first: "n,,", stage: 1, cond: CondMalformedRequest},
		{name: "first bad flag", mech: ScramSHA256, first: "x,,n=user,r=abc", stage: 1, cond: CondMalformedRequest},
		{name: "first empty cb name", mech: ScramSHA256Plus, tls: tls13, first: "p=,,n=user,r=abc", stage: 1, cond: CondMalformedRequest},
		{name: "first bad cb name", mech: ScramSHA256Plus, tls: tls13, first: "p=tls_exporter,,n=user,r=abc", stage: 1, cond: CondMalformedRequest},
		{name: "first bad authzid field", mech: ScramSHA256, first: "n,b=x,n=user,r=abc", stage: 1, cond: CondMalformedRequest},
		{name: "first empty authzid", mech: ScramSHA256, first: "n,a=,n=user,r=abc", stage: 1, cond: CondMalformedRequest},
		{name: "first bad authzid escape", mech: ScramSHA256, first: "n,a=x=2c,n=user,r=abc", stage: 1, cond: CondMalformedRequest, serverErr: ScramErrInvalidEncoding},
		{name: "first attributes swapped", mech: ScramSHA256, first: "n,,r=abc,n=user", stage: 1, cond: CondMalformedRequest},
		{name: "first bad username escape", mech: ScramSHA256, first: "n,,n=us=er,r=abc", stage: 1, cond: CondMalformedRequest, serverErr: ScramErrInvalidUsernameEncoding},
		{name: "first truncated escape", mech: ScramSHA256, first: "n,,n=user=2,r=abc", stage: 1, cond: CondMalformedRequest, serverErr: ScramErrInvalidUsernameEncoding},
		{name: "first empty username", mech: ScramSHA256, first: "n,,n=,r=abc", stage: 1, cond: CondMalformedRequest},
		{name: "first empty nonce", mech: ScramSHA256, first: "n,,n=user,r=", stage: 1, cond: CondMalformedRequest},
		{name: "first nonce with space", mech: ScramSHA256, first: "n,,n=user,r=a b", stage: 1, cond: CondMalformedRequest},
		{name: "first nonce non-ascii", mech: ScramSHA256, first: "n,,n=user,r=abcé", stage: 1, cond: CondMalformedRequest},
		{name: "first missing nonce", mech: ScramSHA256, first: "n,,n=user", stage: 1, cond: CondMalformedRequest},
		{name: "first bad extension", mech: ScramSHA256, first: "n,,n=user,r=abc,xyz", stage: 1, cond: CondMalformedRequest},
		{name: "first m extension later", mech: ScramSHA256, first: "n,,n=user,r=abc,m=1", stage: 1, cond: CondMalformedRequest, serverErr: ScramErrExtensionsNotSupported},
		{name: "first invalid utf-8", mech: ScramSHA256, first: "n,,n=us\xc3er,r=abc", stage: 1, cond: CondMalformedRequest, serverErr: ScramErrInvalidEncoding},
		{name: "first NUL", mech: ScramSHA256, first: "n,,n=us\x00er,r=abc", stage: 1, cond: CondMalformedRequest, serverErr: ScramErrInvalidEncoding},
		{name: "first too long", mech: ScramSHA256, first: "n,,n=user,r=" + strings.Repeat("a", maxMessage), stage: 1, cond: CondMalformedRequest},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			info, clientCB := connInfo(t, tc.tls)
			if tc.user == "" {
				tc.user = "user"
			}
			if tc.password == "" {
				tc.password = testPasswords[tc.user]
			}
			c := &scramClient{mech: tc.mech, user: tc.user, password: tc.password, authzid: tc.authzid,
				flag: tc.flag, editFirst: tc.editFirst, editFinal: tc.editFinal}
			if strings.HasSuffix(tc.mech, "-PLUS") && c.flag == "" && len(info.Types()) > 0 {
				c.flag = "p=" + info.Types()[0]
			}
			if typ, ok := strings.CutPrefix(c.flag, "p="); ok {
				c.cbData = clientCB[typ]
			}
			if tc.cbData != nil {
				c.cbData = tc.cbData
			}
			if tc.first != "" || tc.name == "first empty" {
				first := tc.first
				c.editFirst = func(string) string { return first }
			}
			srv, err := NewServer(tc.mech, testLookup(t), info, testNormalise, tc.opts...)
			if err != nil {
				t.Fatal(err)
			}
			stage, err := exchange(t, srv, c, true)
			if err == nil {
				t.Fatal("exchange succeeded")
			}
			f := asFailure(t, err)
			if stage != tc.stage || f.Condition != tc.cond || (tc.serverErr != "" && f.ServerError != tc.serverErr) {
				t.Errorf("stage %d, %+v; want stage %d, condition %q, server error %q", stage, f, tc.stage, tc.cond, tc.serverErr)
			}
			if f.Condition == CondNotAuthorized && f.ServerError == ScramErrInvalidProof && f.Text != textAuthFailed {
				t.Errorf("credential failure text %q", f.Text)
			}
			if srv.Username() != "" || srv.AuthzID() != "" {
				t.Errorf("identity set after failure: %q %q", srv.Username(), srv.AuthzID())
			}
			_, done, err := srv.Step([]byte("c=biws,r=x,p=AAAA"))
			if done || asFailure(t, err).Condition != CondMalformedRequest {
				t.Errorf("Step after failure: %v %v", done, err)
			}
		})
	}
}

// TestScramUnknownUserIndistinguishable checks that an unknown user looks
// exactly like an existing user with a wrong password: same server-first
// shape (salt length, iteration count), a salt that is stable across
// attempts, and an identical failure.
func TestScramUnknownUserIndistinguishable(t *testing.T) {
	type result struct {
		salt    []byte
		iter    string
		stage   int
		failure Failure
	}
	run := func(mech, user string) result {
		t.Helper()
		srv, err := NewServer(mech, testLookup(t), ChannelBindingInfo{}, testNormalise)
		if err != nil {
			t.Fatal(err)
		}
		var r result
		c := &scramClient{mech: mech, user: user, password: "wrong password"}
		first := c.first()
		out, _, err := srv.Step(first)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range strings.Split(string(out), ",") {
			switch a[0] {
			case 's':
				r.salt, _ = base64.StdEncoding.DecodeString(a[2:])
			case 'i':
				r.iter = a[2:]
			}
		}
		fin, err := c.final(out)
		if err != nil {
			t.Fatal(err)
		}
		_, _, err = srv.Step(fin)
		r.stage = 2
		r.failure = *asFailure(t, err)
		return r
	}
	for _, mech := range []string{ScramSHA1, ScramSHA256} {
		known := run(mech, "user")
		unknown := run(mech, "nobody")
		if len(known.salt) != len(unknown.salt) || known.iter != unknown.iter {
			t.Errorf("%s: server-first differs in shape: known salt %d bytes i=%s, unknown salt %d bytes i=%s",
				mech, len(known.salt), known.iter, len(unknown.salt), unknown.iter)
		}
		if !reflect.DeepEqual(known.failure, unknown.failure) || known.stage != unknown.stage {
			t.Errorf("%s: failures differ: %+v vs %+v", mech, known.failure, unknown.failure)
		}
		again := run(mech, "nobody")
		if !bytes.Equal(again.salt, unknown.salt) {
			t.Errorf("%s: decoy salt not stable for the same user", mech)
		}
		if bytes.Equal(run(mech, "somebody-else").salt, unknown.salt) {
			t.Errorf("%s: decoy salt identical for different users", mech)
		}
		// Real salts are stable too.
		if !bytes.Equal(run(mech, "user").salt, known.salt) {
			t.Errorf("%s: real salt not stable", mech)
		}
	}
	// SHA-1 and SHA-256 decoys differ, like real per-hash salts.
	if bytes.Equal(run(ScramSHA1, "nobody").salt, run(ScramSHA256, "nobody").salt) {
		t.Error("decoy salts equal across hashes")
	}
}

func TestSetDecoyParameters(t *testing.T) {
	decoy.mu.RLock()
	oldSecret, oldIter := decoy.secret, decoy.iterations
	decoy.mu.RUnlock()
	t.Cleanup(func() {
		decoy.mu.Lock()
		decoy.secret, decoy.iterations = oldSecret, oldIter
		decoy.mu.Unlock()
	})
	if err := SetDecoyParameters([]byte("short"), 0); err == nil {
		t.Error("short secret accepted")
	}
	if err := SetDecoyParameters(bytes.Repeat([]byte{1}, 32), -1); err == nil {
		t.Error("negative iterations accepted")
	}
	secret := bytes.Repeat([]byte{42}, 32)
	if err := SetDecoyParameters(secret, 8192); err != nil {
		t.Fatal(err)
	}
	a := decoyCredential(hashSHA256, "ghost")
	if a.Iterations != 8192 || len(a.Salt) != SaltSize || len(a.StoredKey) != 32 || len(a.ServerKey) != 32 {
		t.Errorf("decoy credential shape: %+v", a)
	}
	// Same secret (e.g. after a restart): same decoy.
	if err := SetDecoyParameters(append([]byte(nil), secret...), 0); err != nil {
		t.Fatal(err)
	}
	if b := decoyCredential(hashSHA256, "ghost"); !reflect.DeepEqual(a, b) {
		t.Error("decoy not deterministic for a fixed secret")
	}
	if d := decoyCredential(hashSHA1, "ghost"); len(d.StoredKey) != 20 {
		t.Errorf("SHA-1 decoy key length %d", len(d.StoredKey))
	}
}

// TestScramChannelBindingAcrossConnections simulates a man in the middle: the
// client computes its binding on its own TLS connection, the server checks it
// against a different connection's binding.
func TestScramChannelBindingAcrossConnections(t *testing.T) {
	for _, k := range []tlsKind{tls12, tls13} {
		serverInfo, _ := connInfo(t, k)
		_, otherClient := connInfo(t, k)
		typ := serverInfo.Types()[0]
		c := &scramClient{mech: ScramSHA256Plus, user: "user", password: "pencil", flag: "p=" + typ, cbData: otherClient[typ]}
		srv, err := NewServer(ScramSHA256Plus, testLookup(t), serverInfo, testNormalise)
		if err != nil {
			t.Fatal(err)
		}
		_, err = exchange(t, srv, c, true)
		if f := asFailure(t, err); f.ServerError != ScramErrChannelBindingsDontMatch {
			t.Errorf("%s: %+v", typ, f)
		}
	}
}

func TestChannelBindingFor(t *testing.T) {
	types, get := ChannelBindingFor(nil)
	if len(types) != 0 {
		t.Errorf("nil state: types %v", types)
	}
	if _, err := get(CBTLSExporter); err == nil {
		t.Error("nil state: exporter available")
	}
	if info := ChannelBindingInfoFor(&tls.ConnectionState{}); info.TLS || info.Available() {
		t.Errorf("incomplete handshake: %+v", info)
	}

	s13, c13 := tlsPair(t, tls.VersionTLS13)
	types, get = ChannelBindingFor(&s13)
	if !reflect.DeepEqual(types, []string{CBTLSExporter}) {
		t.Errorf("TLS 1.3 types %v", types)
	}
	d, err := get(CBTLSExporter)
	want, _ := c13.ExportKeyingMaterial("EXPORTER-Channel-Binding", []byte{}, 32)
	if err != nil || len(d) != 32 || !bytes.Equal(d, want) {
		t.Errorf("TLS 1.3 exporter %x, %v; client %x", d, err, want)
	}
	if _, err := get(CBTLSUnique); err == nil {
		t.Error("tls-unique available on TLS 1.3")
	}

	s12, c12 := tlsPair(t, tls.VersionTLS12)
	types, get = ChannelBindingFor(&s12)
	if !reflect.DeepEqual(types, []string{CBTLSUnique}) {
		t.Errorf("TLS 1.2 types %v", types)
	}
	d, err = get(CBTLSUnique)
	if err != nil || len(d) == 0 || !bytes.Equal(d, c12.TLSUnique) {
		t.Errorf("TLS 1.2 tls-unique %x, %v; client %x", d, err, c12.TLSUnique)
	}
	if _, err := get(CBTLSExporter); err == nil {
		t.Error("tls-exporter offered on TLS 1.2")
	}
	if _, err := get("tls-server-end-point"); err == nil {
		t.Error("unknown type available")
	}

	info := ChannelBindingInfoFor(&s13)
	if !info.TLS || !info.Available() || !reflect.DeepEqual(info.Types(), []string{CBTLSExporter}) {
		t.Errorf("info %+v", info)
	}
	if !reflect.DeepEqual(info.Mechanisms(), Mechanisms(true, true)) {
		t.Errorf("info.Mechanisms() = %v", info.Mechanisms())
	}
	if (ChannelBinding{}).Available() {
		t.Error("zero ChannelBinding available")
	}
}

func TestMechanisms(t *testing.T) {
	tests := []struct {
		tls, cb bool
		want    []string
	}{
		{false, false, []string{ScramSHA256, ScramSHA1}},
		{false, true, []string{ScramSHA256, ScramSHA1}},
		{true, false, []string{ScramSHA256, ScramSHA1, Plain}},
		{true, true, []string{ScramSHA256Plus, ScramSHA1Plus, ScramSHA256, ScramSHA1, Plain}},
	}
	for _, tc := range tests {
		if got := Mechanisms(tc.tls, tc.cb); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Mechanisms(%v, %v) = %v, want %v", tc.tls, tc.cb, got, tc.want)
		}
	}
}

func TestNewServerErrors(t *testing.T) {
	tlsCB := ChannelBindingInfo{TLS: true, Bindings: []ChannelBinding{{Type: CBTLSExporter, Data: make([]byte, 32)}}}
	tests := []struct {
		mech string
		info ChannelBindingInfo
		cond string
	}{
		{"DIGEST-MD5", tlsCB, CondInvalidMechanism},
		{"scram-sha-256", tlsCB, CondInvalidMechanism},
		{"", tlsCB, CondInvalidMechanism},
		{ScramSHA256Plus, ChannelBindingInfo{}, CondInvalidMechanism},
		{ScramSHA1Plus, ChannelBindingInfo{TLS: true}, CondInvalidMechanism},
		{ScramSHA1Plus, ChannelBindingInfo{TLS: true, Bindings: []ChannelBinding{{Type: CBTLSUnique}}}, CondInvalidMechanism},
		{Plain, ChannelBindingInfo{}, CondEncryptionRequired},
	}
	for _, tc := range tests {
		_, err := NewServer(tc.mech, testLookup(t), tc.info, nil)
		if f := asFailure(t, err); f.Condition != tc.cond {
			t.Errorf("NewServer(%q): %v, want %s", tc.mech, err, tc.cond)
		}
	}
	if _, err := NewServer(ScramSHA256, nil, ChannelBindingInfo{}, nil); err == nil {
		t.Error("nil lookup accepted")
	}
	for _, m := range Mechanisms(true, true) {
		if _, err := NewServer(m, testLookup(t), tlsCB, nil); err != nil {
			t.Errorf("NewServer(%q): %v", m, err)
		}
	}
}

func TestScramAbsentInitialResponseTwice(t *testing.T) {
	srv, _ := NewServer(ScramSHA256, testLookup(t), ChannelBindingInfo{}, nil)
	if out, _, err := srv.Step(nil); err != nil || len(out) != 0 {
		t.Fatal(out, err)
	}
	if _, _, err := srv.Step(nil); asFailure(t, err).Condition != CondMalformedRequest {
		t.Error(err)
	}
}

func TestScramMissingFinal(t *testing.T) {
	srv, _ := NewServer(ScramSHA256, testLookup(t), ChannelBindingInfo{}, nil)
	if _, _, err := srv.Step([]byte("n,,n=user,r=abc")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := srv.Step(nil); asFailure(t, err).Condition != CondMalformedRequest {
		t.Error(err)
	}
}

func TestFailureError(t *testing.T) {
	cause := errors.New("db down")
	f := &Failure{Condition: CondTemporaryAuthFailure, Text: "store", cause: cause}
	if !errors.Is(f, cause) || !strings.Contains(f.Error(), "temporary-auth-failure") {
		t.Errorf("%v", f)
	}
	srv, _ := NewServer(ScramSHA256, testLookup(t), ChannelBindingInfo{}, nil)
	_, _, err := srv.Step([]byte("n,,n=broken-store,r=abc"))
	if f := asFailure(t, err); f.Condition != CondTemporaryAuthFailure || errors.Unwrap(err) == nil {
		t.Errorf("lookup error not wrapped: %v", err)
	}
}

func TestScramNonceError(t *testing.T) {
	srv, _ := NewServer(ScramSHA256, testLookup(t), ChannelBindingInfo{}, nil)
	srv.(*scramServer).nonce = func() (string, error) { return "", errors.New("no entropy") }
	if _, _, err := srv.Step([]byte("n,,n=user,r=abc")); asFailure(t, err).Condition != CondTemporaryAuthFailure {
		t.Error(err)
	}
}

func TestScramFinalTooShort(t *testing.T) {
	for _, final := range []string{"p=AAAA", ",p=AAAA", "c=biws,p=AAAA"} {
		srv, _ := NewServer(ScramSHA256, testLookup(t), ChannelBindingInfo{}, nil)
		if _, _, err := srv.Step([]byte("n,,n=user,r=abc")); err != nil {
			t.Fatal(err)
		}
		if _, _, err := srv.Step([]byte(final)); asFailure(t, err).Condition != CondMalformedRequest {
			t.Errorf("%q: %v", final, err)
		}
	}
}

func TestDecodeSaslname(t *testing.T) {
	tests := map[string]string{"a": "a", "a=2Cb": "a,b", "=3D=2C": "=,", "x=3D": "x="}
	for in, want := range tests {
		if got, ok := decodeSaslname(in); !ok || got != want {
			t.Errorf("decodeSaslname(%q) = %q, %v", in, got, ok)
		}
	}
	for _, in := range []string{"", "=", "=2", "=2c", "a=41", "=3d"} {
		if _, ok := decodeSaslname(in); ok {
			t.Errorf("decodeSaslname(%q) accepted", in)
		}
	}
}
