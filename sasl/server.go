package sasl

import (
	"errors"
	"strings"
)

// Mechanism names.
const (
	ScramSHA256Plus = "SCRAM-SHA-256-PLUS"
	ScramSHA1Plus   = "SCRAM-SHA-1-PLUS"
	ScramSHA256     = "SCRAM-SHA-256"
	ScramSHA1       = "SCRAM-SHA-1"
	Plain           = "PLAIN"
)

// maxMessage bounds the size of one client message (after base64 decoding).
const maxMessage = 8192

// Mechanisms returns the mechanism names to advertise, strongest first.
// PLAIN is offered only over TLS; the -PLUS variants only when a channel
// binding is available (which implies TLS).
func Mechanisms(tlsActive bool, cbAvailable bool) []string {
	var m []string
	if tlsActive && cbAvailable {
		m = append(m, ScramSHA256Plus, ScramSHA1Plus)
	}
	m = append(m, ScramSHA256, ScramSHA1)
	if tlsActive {
		m = append(m, Plain)
	}
	return m
}

// CredentialLookup returns the stored credentials for a user name (the
// localpart, already normalised by the userNormalise callback given to
// NewServer). It must return found=false (and a nil error) for unknown users;
// the mechanism then continues with decoy credentials so that a failure never
// reveals whether the account exists. A non-nil error aborts the exchange with
// "temporary-auth-failure". For the timing to be identical too, the lookup
// itself should take about as long for unknown as for existing users.
//
// A user whose Credential for the hash being used is missing or malformed is
// treated exactly like an unknown user.
type CredentialLookup func(username string) (c Credentials, found bool, err error)

// Authorizer decides whether the authenticated user (normalised localpart) may
// act as authzid, the non-empty authorization identity sent by the client. It
// is consulted only after the credentials have been verified; returning false
// fails the exchange with "invalid-authzid".
type Authorizer func(username, authzid string) bool

// Option configures a Server.
type Option func(*config)

type config struct {
	authorize Authorizer
}

// WithAuthorizer installs the policy for non-empty authorization identities.
// Without it, every non-empty authzid is refused with "invalid-authzid".
func WithAuthorizer(a Authorizer) Option { return func(c *config) { c.authorize = a } }

// AllowOwnBareJID returns an Authorizer that accepts an authzid only when it
// is the authenticated user's own bare JID, localpart@domain: the localpart is
// normalised with userNormalise (nil: compared as is) and must equal the user
// name; the domain is compared case-insensitively (ASCII) with domain,
// ignoring one trailing dot. JIDs with a resource are refused.
func AllowOwnBareJID(domain string, userNormalise func(string) (string, error)) Authorizer {
	want := strings.TrimSuffix(domain, ".")
	return func(username, authzid string) bool {
		local, dom, ok := strings.Cut(authzid, "@")
		if !ok || local == "" || strings.ContainsRune(dom, '/') {
			return false
		}
		if userNormalise != nil {
			n, err := userNormalise(local)
			if err != nil {
				return false
			}
			local = n
		}
		return local == username && want != "" && strings.EqualFold(strings.TrimSuffix(dom, "."), want)
	}
}

// Server is the server side of one SASL exchange. It is not safe for
// concurrent use.
type Server interface {
	// Step consumes one client message (already base64-decoded; nil for an
	// absent initial response) and returns the server challenge or success
	// data (raw; the caller base64-encodes it), with done=true when the
	// exchange finished successfully: out is then the additional data to put
	// in <success/> (nil for PLAIN). Every protocol failure is a *Failure;
	// after an error or success, further calls fail with malformed-request.
	//
	// An absent initial response (in == nil) yields an empty challenge
	// (out non-nil, len 0) once; a response to a challenge must be non-nil.
	Step(in []byte) (out []byte, done bool, err error)
	// Username returns the authenticated identity (normalised localpart)
	// once the exchange is done, "" before.
	Username() string
	// AuthzID returns the authorization identity the client requested (""
	// if none) once the exchange is done. A non-empty value has been accepted
	// by the Authorizer.
	AuthzID() string
	// Mechanism returns the mechanism name.
	Mechanism() string
}

// NewServer starts the server side of an exchange for mechanism mech.
//
// lookup fetches stored credentials; cb is what the connection offers (see
// ChannelBindingInfoFor); userNormalise maps the user name sent by the client
// to the localpart used as account key (e.g. PRECIS UsernameCaseMapped); nil
// means no normalisation. A user name that fails normalisation is handled like
// an unknown user.
//
// Mechanism selection errors are *Failure: "invalid-mechanism" for an unknown
// mechanism or a -PLUS mechanism without available channel binding,
// "encryption-required" for PLAIN without TLS.
func NewServer(mech string, lookup CredentialLookup, cb ChannelBindingInfo, userNormalise func(string) (string, error), opts ...Option) (Server, error) {
	if lookup == nil {
		return nil, errors.New("sasl: NewServer: nil CredentialLookup")
	}
	var cfg config
	for _, o := range opts {
		o(&cfg)
	}
	if userNormalise == nil {
		userNormalise = func(s string) (string, error) { return s, nil }
	}
	base := common{mech: mech, lookup: lookup, cb: cb, normalise: userNormalise, cfg: cfg}
	switch mech {
	case ScramSHA1, ScramSHA256, ScramSHA1Plus, ScramSHA256Plus:
		plus := strings.HasSuffix(mech, "-PLUS")
		if plus && !(cb.TLS && cb.Available()) {
			return nil, failure(CondInvalidMechanism, "channel binding not available on this connection")
		}
		h := hashSHA1
		if strings.HasPrefix(mech, "SCRAM-SHA-256") {
			h = hashSHA256
		}
		return &scramServer{common: base, plus: plus, h: h, nonce: randomNonce}, nil
	case Plain:
		if !cb.TLS {
			return nil, failure(CondEncryptionRequired, "PLAIN requires TLS")
		}
		return &plainServer{common: base}, nil
	}
	return nil, failure(CondInvalidMechanism, "unsupported mechanism")
}

// common holds what every mechanism implementation shares.
type common struct {
	mech      string
	lookup    CredentialLookup
	cb        ChannelBindingInfo
	normalise func(string) (string, error)
	cfg       config

	done, failed  bool
	askedInitial  bool // an empty challenge was sent for an absent initial response
	user, authzid string
}

func (c *common) Username() string {
	if !c.done {
		return ""
	}
	return c.user
}

func (c *common) AuthzID() string {
	if !c.done {
		return ""
	}
	return c.authzid
}

func (c *common) Mechanism() string { return c.mech }

// fail records a failure and returns it.
func (c *common) fail(f *Failure) (out []byte, done bool, err error) {
	c.failed = true
	return nil, false, f
}

// finished reports the error to return when Step is called after the end.
func (c *common) finished() *Failure {
	if c.done || c.failed {
		return failure(CondMalformedRequest, "exchange already finished")
	}
	return nil
}

// authorized applies the authzid policy.
func (c *common) authorized(user, authzid string) bool {
	if authzid == "" {
		return true
	}
	return c.cfg.authorize != nil && c.cfg.authorize(user, authzid)
}

// resolveUser normalises the user name and looks it up. known is false when
// the name does not normalise (the lookup is then skipped) or the user does
// not exist; callers then substitute decoy credentials.
func (c *common) resolveUser(raw string) (user string, creds Credentials, known bool, f *Failure) {
	user, err := c.normalise(raw)
	if err != nil || user == "" {
		return raw, Credentials{}, false, nil
	}
	creds, found, err := c.lookup(user)
	if err != nil {
		return "", Credentials{}, false, &Failure{Condition: CondTemporaryAuthFailure, Text: "credential store unavailable", cause: err}
	}
	if !found {
		return user, Credentials{}, false, nil
	}
	return user, creds, true, nil
}
