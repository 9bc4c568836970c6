package sasl

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"sync"
)

// Unknown users are answered with decoy credentials: a salt, an iteration
// count and keys derived deterministically from a secret and the user name,
// so that the server-first-message for a given unknown user is stable across
// attempts (just like a real user's) and the exchange then runs exactly the
// same computations as for a real account before failing with
// "not-authorized". Nobody knows a password matching decoy keys; in addition
// the exchange refuses to succeed on a decoy whatever the proof.
var decoy struct {
	mu         sync.RWMutex
	secret     []byte
	iterations int
}

func init() {
	s := make([]byte, 32)
	if _, err := rand.Read(s); err != nil {
		panic("sasl: cannot read random decoy secret: " + err.Error())
	}
	decoy.secret = s
	decoy.iterations = DefaultIterations
}

// SetDecoyParameters configures the decoy credentials shown for unknown users.
//
// secret (at least 16 bytes) keys the derivation of the decoy salts; by default
// it is random per process, which makes decoy salts change when the server
// restarts while real salts do not. A server that wants unknown users to be
// indistinguishable across restarts too should pass a persistent secret.
// iterations should be the iteration count the deployment uses for real
// accounts (0 keeps the current value, DefaultIterations initially).
//
// Call it at start-up, before serving connections.
func SetDecoyParameters(secret []byte, iterations int) error {
	if len(secret) < 16 {
		return errors.New("sasl: decoy secret must be at least 16 bytes")
	}
	if iterations < 0 || iterations > MaxIterations {
		return errors.New("sasl: decoy iteration count out of range")
	}
	decoy.mu.Lock()
	defer decoy.mu.Unlock()
	decoy.secret = append([]byte(nil), secret...)
	if iterations != 0 {
		decoy.iterations = iterations
	}
	return nil
}

// decoyCredential returns the decoy credential for username and hash h.
func decoyCredential(h scramHash, username string) Credential {
	decoy.mu.RLock()
	secret, iterations := decoy.secret, decoy.iterations
	decoy.mu.RUnlock()

	m := hmac.New(sha256.New, secret)
	m.Write([]byte("skald sasl decoy\x00"))
	m.Write([]byte(h.name))
	m.Write([]byte{0})
	m.Write([]byte(username))
	seed := m.Sum(nil)

	expand := func(label string, n int) []byte {
		e := hmac.New(sha256.New, seed)
		e.Write([]byte(label))
		return e.Sum(nil)[:n]
	}
	return Credential{
		Salt:       expand("salt", SaltSize),
		Iterations: iterations,
		StoredKey:  expand("stored key", h.size),
		ServerKey:  expand("server key", h.size),
	}
}
