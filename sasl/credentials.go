package sasl

import (
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"hash"

	"golang.org/x/text/secure/precis"
)

const (
	// DefaultIterations is the PBKDF2 iteration count used by
	// DeriveCredentials when called with iterations == 0 (RFC 7677 §4
	// recommends at least 4096).
	DefaultIterations = 4096
	// MinIterations is the smallest iteration count DeriveCredentials accepts.
	MinIterations = 4096
	// MaxIterations is the largest iteration count DeriveCredentials accepts.
	// It bounds the CPU an attacker can make the server spend on PLAIN.
	MaxIterations = 10_000_000
	// SaltSize is the length in bytes of the random salts DeriveCredentials
	// generates (and of the decoy salts shown for unknown users).
	SaltSize = 16
)

// Credential is what the server stores for one SCRAM hash function (RFC 5802
// §3): the salt, the iteration count, StoredKey = H(ClientKey) and ServerKey.
// Neither the password nor SaltedPassword is ever kept. StoredKey and
// ServerKey are as long as the hash output (20 bytes for SHA-1, 32 for
// SHA-256). A Credential with an empty StoredKey means "not set"; one with
// wrong key lengths, an empty salt or an iteration count outside
// [1, MaxIterations] is unusable and treated like a missing one.
type Credential struct {
	Salt       []byte
	Iterations int
	StoredKey  []byte
	ServerKey  []byte
}

// Credentials holds one Credential per supported hash function.
type Credentials struct {
	SHA1   Credential
	SHA256 Credential
}

// scramHash describes one hash function usable with SCRAM.
type scramHash struct {
	name    string // "SHA-1" / "SHA-256"
	newHash func() hash.Hash
	size    int
	pick    func(*Credentials) *Credential
}

var (
	hashSHA1 = scramHash{"SHA-1", sha1.New, sha1.Size,
		func(c *Credentials) *Credential { return &c.SHA1 }}
	hashSHA256 = scramHash{"SHA-256", sha256.New, sha256.Size,
		func(c *Credentials) *Credential { return &c.SHA256 }}
	allHashes = []scramHash{hashSHA1, hashSHA256}
)

// usable reports whether c is a well-formed credential for hash h.
func (c *Credential) usable(h scramHash) bool {
	return len(c.Salt) > 0 && c.Iterations > 0 && c.Iterations <= MaxIterations &&
		len(c.StoredKey) == h.size && len(c.ServerKey) == h.size
}

// ErrInvalidPassword is returned (wrapped) by DeriveCredentials when the
// password is not a valid PRECIS OpaqueString (for example when it is empty
// or contains control characters).
var ErrInvalidPassword = errors.New("sasl: invalid password")

// PreparePassword applies the preparation this package uses for passwords on
// both sides (storage and verification): the PRECIS OpaqueString profile of
// RFC 8265 §4.2, which RFC 8265 designates as the successor of SASLprep (RFC
// 4013) that RFC 5802 and RFC 7677 reference. It maps non-ASCII spaces to
// U+0020, applies Unicode NFC and rejects empty strings and disallowed code
// points (controls, unassigned code points, ...). For the passwords clients
// realistically use, the result equals SASLprep's, so SCRAM clients that
// implement SASLprep (or send ASCII passwords unmodified) interoperate.
func PreparePassword(password string) (string, error) {
	p, err := precis.OpaqueString.String(password)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrInvalidPassword, err)
	}
	return p, nil
}

// DeriveCredentials computes the SCRAM-SHA-1 and SCRAM-SHA-256 credentials for
// password, each with its own fresh random SaltSize-byte salt. iterations == 0
// selects DefaultIterations; otherwise it must lie in
// [MinIterations, MaxIterations]. The password is prepared with
// PreparePassword (PRECIS OpaqueString).
func DeriveCredentials(password string, iterations int) (Credentials, error) {
	if iterations == 0 {
		iterations = DefaultIterations
	}
	if iterations < MinIterations || iterations > MaxIterations {
		return Credentials{}, fmt.Errorf("sasl: iteration count %d outside [%d, %d]", iterations, MinIterations, MaxIterations)
	}
	prepared, err := PreparePassword(password)
	if err != nil {
		return Credentials{}, err
	}
	var out Credentials
	for _, h := range allHashes {
		salt := make([]byte, SaltSize)
		if _, err := rand.Read(salt); err != nil {
			return Credentials{}, fmt.Errorf("sasl: generating salt: %w", err)
		}
		c, err := deriveCredential(h, prepared, salt, iterations)
		if err != nil {
			return Credentials{}, err
		}
		*h.pick(&out) = c
	}
	return out, nil
}

// deriveCredential computes the stored credential for an already prepared
// password with a given salt (RFC 5802 §3). Tests use it with the fixed salts
// of the RFC test vectors.
func deriveCredential(h scramHash, prepared string, salt []byte, iterations int) (Credential, error) {
	salted, err := pbkdf2.Key(h.newHash, prepared, salt, iterations, h.size)
	if err != nil {
		return Credential{}, fmt.Errorf("sasl: PBKDF2: %w", err)
	}
	clientKey := hmacSum(h, salted, []byte("Client Key"))
	serverKey := hmacSum(h, salted, []byte("Server Key"))
	stored := hashSum(h, clientKey)
	clear(salted)
	clear(clientKey)
	return Credential{
		Salt:       append([]byte(nil), salt...),
		Iterations: iterations,
		StoredKey:  stored,
		ServerKey:  serverKey,
	}, nil
}

// VerifyPlain reports whether password matches the stored credentials. It
// prepares the password like DeriveCredentials, recomputes the keys with the
// SHA-256 credential's salt and iteration count (falling back to the SHA-1
// credential only when no SHA-256 credential is stored) and compares StoredKey
// and ServerKey in constant time.
func VerifyPlain(c Credentials, password string) bool {
	cred, h := &c.SHA256, hashSHA256
	if !cred.usable(h) {
		cred, h = &c.SHA1, hashSHA1
		if !cred.usable(h) {
			return false
		}
	}
	return verifyPlainCred(h, cred, password)
}

func verifyPlainCred(h scramHash, cred *Credential, password string) bool {
	prepared, err := PreparePassword(password)
	if err != nil {
		return false
	}
	got, err := deriveCredential(h, prepared, cred.Salt, cred.Iterations)
	if err != nil {
		return false
	}
	a := subtle.ConstantTimeCompare(got.StoredKey, cred.StoredKey)
	b := subtle.ConstantTimeCompare(got.ServerKey, cred.ServerKey)
	return a&b == 1
}

func hmacSum(h scramHash, key, msg []byte) []byte {
	m := hmac.New(h.newHash, key)
	m.Write(msg)
	return m.Sum(nil)
}

func hashSum(h scramHash, b []byte) []byte {
	d := h.newHash()
	d.Write(b)
	return d.Sum(nil)
}
