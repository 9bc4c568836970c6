package sasl

import (
	"crypto/rand"
	"fmt"
)

// CredentialCompleter is implemented by the Server of a mechanism that
// sees the password (PLAIN). Accounts imported from another server often
// have credentials for one hash only (Prosody's default export:
// SCRAM-SHA-1), and SCRAM clients choosing the other hash cannot log in
// to them; after a successful PLAIN login the password is at hand, and
// the missing credentials can be derived from it.
type CredentialCompleter interface {
	// CompleteCredentials returns, once the exchange succeeded, the
	// user's stored credentials with every unusable one (missing or
	// malformed) derived from the password, with a fresh salt and
	// iterations (0: DefaultIterations); complete is false when none was
	// missing or the exchange did not succeed, and creds then says
	// nothing. The password is forgotten either way: a second call
	// returns complete=false.
	CompleteCredentials(iterations int) (creds Credentials, complete bool, err error)
}

var _ CredentialCompleter = (*plainServer)(nil)

func (p *plainServer) CompleteCredentials(iterations int) (Credentials, bool, error) {
	password := p.password
	p.password = ""
	if !p.done || password == "" {
		return Credentials{}, false, nil
	}
	return completeCredentials(p.creds, password, iterations)
}

// completeCredentials derives the credentials c lacks from password.
func completeCredentials(c Credentials, password string, iterations int) (Credentials, bool, error) {
	if iterations == 0 {
		iterations = DefaultIterations
	}
	if iterations < MinIterations || iterations > MaxIterations {
		return Credentials{}, false, fmt.Errorf("sasl: iteration count %d outside [%d, %d]", iterations, MinIterations, MaxIterations)
	}
	var prepared string
	changed := false
	for _, h := range allHashes {
		cred := h.pick(&c)
		if cred.usable(h) {
			continue
		}
		if prepared == "" {
			var err error
			if prepared, err = PreparePassword(password); err != nil {
				return Credentials{}, false, err
			}
		}
		salt := make([]byte, SaltSize)
		if _, err := rand.Read(salt); err != nil {
			return Credentials{}, false, fmt.Errorf("sasl: generating salt: %w", err)
		}
		d, err := deriveCredential(h, prepared, salt, iterations)
		if err != nil {
			return Credentials{}, false, err
		}
		*cred = d
		changed = true
	}
	if !changed {
		return Credentials{}, false, nil
	}
	return c, true, nil
}
