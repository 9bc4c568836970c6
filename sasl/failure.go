package sasl

// SASL failure conditions defined by RFC 6120 §6.5. The caller reports a
// failed exchange as <failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>
// containing an empty element whose name is the condition.
const (
	CondAborted              = "aborted"
	CondAccountDisabled      = "account-disabled"
	CondCredentialsExpired   = "credentials-expired"
	CondEncryptionRequired   = "encryption-required"
	CondIncorrectEncoding    = "incorrect-encoding"
	CondInvalidAuthzID       = "invalid-authzid"
	CondInvalidMechanism     = "invalid-mechanism"
	CondMalformedRequest     = "malformed-request"
	CondMechanismTooWeak     = "mechanism-too-weak"
	CondNotAuthorized        = "not-authorized"
	CondTemporaryAuthFailure = "temporary-auth-failure"
)

// SCRAM server-error values (RFC 5802 §7, server-error-value) that this
// package produces in Failure.ServerError.
const (
	ScramErrInvalidEncoding            = "invalid-encoding"
	ScramErrExtensionsNotSupported     = "extensions-not-supported"
	ScramErrInvalidProof               = "invalid-proof"
	ScramErrChannelBindingsDontMatch   = "channel-bindings-dont-match"
	ScramErrServerDoesSupportCB        = "server-does-support-channel-binding"
	ScramErrChannelBindingNotSupported = "channel-binding-not-supported"
	ScramErrUnsupportedCBType          = "unsupported-channel-binding-type"
	ScramErrInvalidUsernameEncoding    = "invalid-username-encoding"
	ScramErrOtherError                 = "other-error"
)

// textAuthFailed is the one text used for every credential failure (wrong
// password, unknown user, unusable stored credential, unnormalisable user
// name), so that the reply never reveals whether an account exists.
const textAuthFailed = "authentication failed"

// Failure is the error returned by Server.Step (and by NewServer for
// mechanism selection problems) for every protocol-level failure. Condition is
// one of the Cond* constants (RFC 6120 §6.5) and Text a short human readable
// explanation that is safe to send to the client in the <text/> child of
// <failure/>; it never contains secrets and never distinguishes an unknown
// user from a wrong password.
//
// For SCRAM failures after the client-first-message, ServerError holds the
// RFC 5802 server-error value ("invalid-proof", "channel-bindings-dont-match",
// ...). RFC 6120 <failure/> cannot carry SASL additional data, so callers
// using plain RFC 6120 SASL usually ignore it (or put it in <text/>); a
// transport that can carry a final server message may send "e=" + ServerError.
type Failure struct {
	Condition   string
	Text        string
	ServerError string

	cause error // internal cause (for logs), never derived from account existence
}

// Error implements error.
func (f *Failure) Error() string {
	s := "sasl: " + f.Condition
	if f.Text != "" {
		s += ": " + f.Text
	}
	if f.cause != nil {
		s += ": " + f.cause.Error()
	}
	return s
}

// Unwrap returns the internal cause, if any (for example the error returned
// by a CredentialLookup). It is meant for server logs, not for the client.
func (f *Failure) Unwrap() error { return f.cause }

func failure(cond, text string) *Failure { return &Failure{Condition: cond, Text: text} }

func scramFailure(cond, serverErr, text string) *Failure {
	return &Failure{Condition: cond, Text: text, ServerError: serverErr}
}
