package sasl

import (
	"bytes"
	"unicode/utf8"
)

// plainServer implements the server side of PLAIN (RFC 4616):
//
//	message = [authzid] UTF8NUL authcid UTF8NUL passwd
//
// The password is checked against the stored SCRAM credentials with
// VerifyPlain; unknown users are checked against decoy credentials with the
// same PBKDF2 cost.
type plainServer struct {
	common
	// After a successful exchange, until CompleteCredentials: the
	// credentials the password was verified against, and the password.
	creds    Credentials
	password string
}

// maxPlainField bounds authzid, authcid and passwd. RFC 4616 allows up to 255
// octets for each; this is more lenient but still bounded.
const maxPlainField = 1024

func (p *plainServer) Step(in []byte) ([]byte, bool, error) {
	if f := p.finished(); f != nil {
		return nil, false, f
	}
	if in == nil {
		if p.askedInitial {
			return p.fail(failure(CondMalformedRequest, "missing PLAIN message"))
		}
		p.askedInitial = true
		return []byte{}, false, nil
	}
	if len(in) > maxMessage {
		return p.fail(failure(CondMalformedRequest, "message too long"))
	}
	parts := bytes.Split(in, []byte{0})
	if len(parts) != 3 {
		return p.fail(failure(CondMalformedRequest, "PLAIN message must have exactly three NUL-separated fields"))
	}
	for _, f := range parts {
		if !utf8.Valid(f) || len(f) > maxPlainField {
			return p.fail(failure(CondMalformedRequest, "invalid PLAIN field"))
		}
	}
	authzid, authcid, passwd := string(parts[0]), string(parts[1]), string(parts[2])
	if authcid == "" || passwd == "" {
		return p.fail(failure(CondMalformedRequest, "empty authentication identity or password"))
	}

	user, creds, known, f := p.resolveUser(authcid)
	if f != nil {
		return p.fail(f)
	}
	h, cred := hashSHA256, &creds.SHA256
	if !cred.usable(h) {
		h, cred = hashSHA1, &creds.SHA1
	}
	real := known && cred.usable(h)
	if !real {
		d := decoyCredential(hashSHA256, user)
		h, cred = hashSHA256, &d
	}
	ok := verifyPlainCred(h, cred, passwd)
	if !ok || !real {
		return p.fail(failure(CondNotAuthorized, textAuthFailed))
	}
	if !p.authorized(user, authzid) {
		return p.fail(failure(CondInvalidAuthzID, "not allowed to act as the requested authorization identity"))
	}
	p.done = true
	p.user, p.authzid = user, authzid
	p.creds, p.password = creds, passwd
	return nil, true, nil
}
