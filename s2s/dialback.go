package s2s

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
)

// DialbackKey is the XEP-0220 key of a stream, computed as XEP-0185 §3
// recommends: HEX(HMAC-SHA256(SHA256(secret), receiving ' ' originating
// ' ' streamID)). Only the originating domain's servers know the secret,
// so only they can vouch for the key when the receiving server asks.
func DialbackKey(secret []byte, receiving, originating, streamID string) string {
	k := sha256.Sum256(secret)
	m := hmac.New(sha256.New, k[:])
	m.Write([]byte(receiving + " " + originating + " " + streamID))
	return hex.EncodeToString(m.Sum(nil))
}

// DeriveSecret derives the dialback secret from the server secret, so
// that dialback keys never reveal anything about the archive ids made
// with the same secret.
func DeriveSecret(serverSecret []byte) []byte {
	m := hmac.New(sha256.New, serverSecret)
	m.Write([]byte("skald s2s dialback secret"))
	return m.Sum(nil)
}

// keyEqual compares keys in constant time.
func keyEqual(a, b string) bool { return hmac.Equal([]byte(a), []byte(b)) }
