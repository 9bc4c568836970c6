package mam

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
)

// MinSecretLen is the shortest server secret New accepts.
const MinSecretLen = 16

// idLen is the length of an encoded archive id: 16 bytes in unpadded
// URL-safe base64.
const idLen = 22

var idEncoding = base64.RawURLEncoding.Strict()

// idCodec maps the store's internal item ids (int64, increasing) to the
// opaque archive ids clients see, and back.
//
// Construction: AES-128 encryption of one block holding the id (8 bytes,
// big-endian) followed by 8 zero bytes, under a key derived from the
// server secret; the ciphertext is sent as 22 characters of URL-safe
// base64. Why this and not a small Feistel network over 64 bits:
//   - AES is a standard, vetted pseudo-random permutation (constant-time
//     with the AES instructions the Go runtime uses), so ids of
//     consecutive messages are unrelated and reveal neither order,
//     arrival time nor archive size (XEP-0313: "unpredictable";
//     XEP-0359 security considerations); a home-made Feistel would need its own analysis.
//   - The 8 zero bytes are a check: a string that did not come from this
//     server (typo, another server's id, a client-made id, a truncated
//     cursor) decrypts to non-zero padding with probability 1-2^-64 and
//     is rejected without touching the store, which then answers
//     item-not-found.
//   - Internal ids are never reused, so neither are archive ids; the
//     mapping is a bijection, so each item has exactly one id, and Strict
//     base64 makes that string canonical.
//
// The cost is 22 characters instead of 11; ids are sent once per message.
type idCodec struct {
	block cipher.Block
}

func newIDCodec(secret []byte) (*idCodec, error) {
	if len(secret) < MinSecretLen {
		return nil, errors.New("mam: archive id secret must be at least 16 bytes")
	}
	// Derive the key so that the secret can be shared with other uses
	// (domain-separated by the label) and may be of any length.
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte("skald mam archive-id v1"))
	key := mac.Sum(nil)[:16]
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return &idCodec{block: block}, nil
}

// encode returns the archive id of internal id n.
func (c *idCodec) encode(n int64) string {
	var b [aes.BlockSize]byte
	binary.BigEndian.PutUint64(b[:8], uint64(n))
	c.block.Encrypt(b[:], b[:])
	var out [idLen]byte
	idEncoding.Encode(out[:], b[:])
	return string(out[:])
}

// decode returns the internal id of an archive id; ok is false for any
// string encode did not produce.
func (c *idCodec) decode(s string) (n int64, ok bool) {
	if len(s) != idLen {
		return 0, false
	}
	var b [aes.BlockSize]byte
	if k, err := idEncoding.Decode(b[:], []byte(s)); err != nil || k != aes.BlockSize {
		return 0, false
	}
	c.block.Decrypt(b[:], b[:])
	if binary.BigEndian.Uint64(b[8:]) != 0 {
		return 0, false
	}
	n = int64(binary.BigEndian.Uint64(b[:8]))
	if n <= 0 {
		return 0, false
	}
	return n, true
}
