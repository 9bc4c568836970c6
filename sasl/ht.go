package sasl

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"unicode/utf8"
)

// The Hashed Token mechanisms of XEP-0484 (FAST), as
// draft-schmaus-kitten-sasl-ht-08 defines them (the version XEP-0484
// cites): HT-<hash>-<cb-type>, one round trip, the client proving it holds
// a token the server issued earlier. EXPR binds to tls-exporter (TLS 1.3)
// and UNIQ to tls-unique (TLS 1.2), the bindings the -PLUS mechanisms use
// (channelbinding.go); NONE, which XEP-0484 adds, binds to nothing.
// tls-server-end-point (ENDP) is not offered, as it is not for SCRAM.
const (
	HTSHA256Expr = "HT-SHA-256-EXPR"
	HTSHA256Uniq = "HT-SHA-256-UNIQ"
	HTSHA256None = "HT-SHA-256-NONE"
)

// htBindings maps each HT mechanism to the channel binding it uses ("" for
// none), strongest first.
var htBindings = []struct{ mech, cb string }{
	{HTSHA256Expr, CBTLSExporter},
	{HTSHA256Uniq, CBTLSUnique},
	{HTSHA256None, ""},
}

// HTMechanisms returns the HT mechanisms a connection can use, strongest
// first: those whose channel binding it has, then HT-SHA-256-NONE; none
// without TLS (the draft's §1.2: HT only over TLS), nor on a TLS session
// resumed without the extended master secret (§6: HT "MUST be used over
// a TLS channel that has had the session hash extension negotiated, or
// session resumption MUST NOT have been used"; NONE too, which the
// draft does not know: a token is a credential, and that session's keys
// may be shared with another server, RFC 7627 §1).
func HTMechanisms(info ChannelBindingInfo) []string {
	if !info.TLS || info.ResumedWithoutEMS {
		return nil
	}
	var out []string
	for _, b := range htBindings {
		if _, ok := info.lookup(b.cb); ok || b.cb == "" {
			out = append(out, b.mech)
		}
	}
	return out
}

// HTChannelBinding returns the cb-data of mech on a connection: empty for
// NONE; ok is false for an unknown mechanism or one whose binding the
// connection does not have.
func HTChannelBinding(mech string, info ChannelBindingInfo) (cb []byte, ok bool) {
	for _, b := range htBindings {
		if b.mech != mech {
			continue
		}
		if b.cb == "" {
			return []byte{}, info.TLS
		}
		binding, ok := info.lookup(b.cb)
		return binding.Data, ok
	}
	return nil, false
}

// htTokenBytes is the randomness of a token: 54 bytes, 432 bits (the
// draft's §5 asks at least 128), which base64 makes 72 characters.
const htTokenBytes = 54

// NewHTToken returns a new token and its key, the form to store (HTKey).
// Its 72 characters are more than HMAC-SHA-256's 64-byte block, which is
// what lets the key stand for the token.
func NewHTToken() (token string, key []byte, err error) {
	b := make([]byte, htTokenBytes)
	if _, err := rand.Read(b); err != nil {
		return "", nil, err
	}
	token = base64.RawURLEncoding.EncodeToString(b)
	return token, HTKey(token), nil
}

// HTKey is the SHA-256 hash of a token. HMAC replaces a key longer than
// its hash's block by the key's hash (RFC 2104 §2), so for a token longer
// than 64 bytes (all NewHTToken makes) HMAC-SHA-256 keyed with HTKey(token)
// equals HMAC-SHA-256 keyed with the token: the server verifies a login
// and answers it without keeping the token. The key still logs in as the
// client's token would (the HT proof is made from it), so it is stored
// like a credential; what it spares is the token itself.
func HTKey(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// ParseHTMessage splits the initiator-msg of the draft's §3.1: authcid
// (UTF-8, at least one character, no NUL), NUL, initiator-hashed-token
// (at least one octet). A malformed message is a *Failure with
// malformed-request.
func ParseHTMessage(msg []byte) (authcid string, proof []byte, err error) {
	if len(msg) > maxMessage {
		return "", nil, &Failure{Condition: CondMalformedRequest, Text: "message too long"}
	}
	for i, c := range msg {
		if c != 0 {
			continue
		}
		authcid, proof = string(msg[:i]), msg[i+1:]
		if authcid == "" || !utf8.ValidString(authcid) || len(proof) == 0 {
			break
		}
		return authcid, proof, nil
	}
	return "", nil, &Failure{Condition: CondMalformedRequest, Text: "malformed HT message"}
}

func htMAC(key []byte, label string, cb []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(label))
	m.Write(cb)
	return m.Sum(nil)
}

// VerifyHT reports, in constant time, whether proof is the
// initiator-hashed-token HMAC(token, "Initiator" || cb-data) of the token
// whose key (HTKey) is key.
func VerifyHT(key, cb, proof []byte) bool {
	return hmac.Equal(htMAC(key, "Initiator", cb), proof)
}

// HTResponderMessage is the responder-msg, HMAC(token, "Responder" ||
// cb-data), sent with success for mutual authentication (the draft's §3.3).
func HTResponderMessage(key, cb []byte) []byte {
	return htMAC(key, "Responder", cb)
}
