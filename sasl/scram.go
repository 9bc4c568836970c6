package sasl

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"strconv"
	"strings"
	"unicode/utf8"
)

// scramServer implements the server side of SCRAM-SHA-1(-PLUS) and
// SCRAM-SHA-256(-PLUS) (RFC 5802, RFC 7677).
type scramServer struct {
	common
	plus bool
	h    scramHash
	// nonce generates the server part of the nonce; tests replace it to
	// reproduce the RFC test vectors.
	nonce func() (string, error)

	gotFirst        bool
	gs2Header       string
	cbData          []byte // expected channel binding data (-PLUS only)
	clientFirstBare string
	serverFirst     string
	fullNonce       string
	cred            Credential
	real            bool // cred is a stored credential, not a decoy
	pendingUser     string
	pendingAuthz    string
}

// randomNonce returns 24 printable characters (144 random bits).
func randomNonce() (string, error) {
	b := make([]byte, 18)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawStdEncoding.EncodeToString(b), nil
}

func (s *scramServer) Step(in []byte) ([]byte, bool, error) {
	if f := s.finished(); f != nil {
		return nil, false, f
	}
	if !s.gotFirst {
		if in == nil {
			if s.askedInitial {
				return s.fail(failure(CondMalformedRequest, "missing client-first-message"))
			}
			s.askedInitial = true
			return []byte{}, false, nil
		}
		return s.clientFirst(in)
	}
	if in == nil {
		return s.fail(failure(CondMalformedRequest, "missing client-final-message"))
	}
	return s.clientFinal(in)
}

// checkMessage applies the checks common to every client message.
func checkMessage(in []byte) *Failure {
	if len(in) == 0 {
		return failure(CondMalformedRequest, "empty message")
	}
	if len(in) > maxMessage {
		return failure(CondMalformedRequest, "message too long")
	}
	if !utf8.Valid(in) {
		return scramFailure(CondMalformedRequest, ScramErrInvalidEncoding, "message is not UTF-8")
	}
	for _, c := range in {
		if c == 0 {
			return scramFailure(CondMalformedRequest, ScramErrInvalidEncoding, "message contains NUL")
		}
	}
	return nil
}

func (s *scramServer) clientFirst(in []byte) ([]byte, bool, error) {
	if f := checkMessage(in); f != nil {
		return s.fail(f)
	}
	msg := string(in)

	// gs2-header = gs2-cbind-flag "," [ authzid ] ","
	flag, rest, ok := strings.Cut(msg, ",")
	if !ok {
		return s.fail(failure(CondMalformedRequest, "missing GS2 header"))
	}
	authzField, bare, ok := strings.Cut(rest, ",")
	if !ok {
		return s.fail(failure(CondMalformedRequest, "missing GS2 header"))
	}
	gs2Header := msg[:len(flag)+len(authzField)+2]

	var cbType string
	switch {
	case flag == "n", flag == "y":
	case strings.HasPrefix(flag, "p="):
		cbType = flag[2:]
		if !validCBName(cbType) {
			return s.fail(failure(CondMalformedRequest, "invalid channel binding type name"))
		}
	default:
		return s.fail(failure(CondMalformedRequest, "invalid gs2-cbind-flag"))
	}

	var authzid string
	if authzField != "" {
		v, ok := strings.CutPrefix(authzField, "a=")
		if !ok {
			return s.fail(failure(CondMalformedRequest, "invalid authzid field"))
		}
		if authzid, ok = decodeSaslname(v); !ok {
			return s.fail(scramFailure(CondMalformedRequest, ScramErrInvalidEncoding, "invalid authzid encoding"))
		}
	}

	// client-first-message-bare = [reserved-mext ","] username "," nonce ["," extensions]
	attrs := strings.Split(bare, ",")
	if strings.HasPrefix(attrs[0], "m=") {
		return s.fail(scramFailure(CondMalformedRequest, ScramErrExtensionsNotSupported, "mandatory extensions are not supported"))
	}
	if len(attrs) < 2 {
		return s.fail(failure(CondMalformedRequest, "client-first-message too short"))
	}
	rawUser, ok := strings.CutPrefix(attrs[0], "n=")
	if !ok {
		return s.fail(failure(CondMalformedRequest, "missing username"))
	}
	if rawUser, ok = decodeSaslname(rawUser); !ok {
		return s.fail(scramFailure(CondMalformedRequest, ScramErrInvalidUsernameEncoding, "invalid username encoding"))
	}
	cnonce, ok := strings.CutPrefix(attrs[1], "r=")
	if !ok || !validNonce(cnonce) {
		return s.fail(failure(CondMalformedRequest, "missing or invalid client nonce"))
	}
	if f := checkExtensions(attrs[2:]); f != nil {
		return s.fail(f)
	}

	// Channel binding flag versus mechanism and what the connection offers
	// (RFC 5802 §6).
	switch {
	case s.plus && cbType == "":
		return s.fail(scramFailure(CondMalformedRequest, ScramErrOtherError, "-PLUS mechanism requires a p= channel binding flag"))
	case s.plus:
		b, ok := s.cb.lookup(cbType)
		if !ok {
			return s.fail(scramFailure(CondNotAuthorized, ScramErrUnsupportedCBType, "unsupported channel binding type"))
		}
		s.cbData = b.Data
	case cbType != "":
		serr := ScramErrOtherError
		if !s.cb.Available() {
			serr = ScramErrChannelBindingNotSupported
		}
		return s.fail(scramFailure(CondMalformedRequest, serr, "channel binding requested with a non-PLUS mechanism"))
	case flag == "y" && s.cb.Available():
		// The client supports channel binding but believes we do not,
		// although we advertised -PLUS: possible downgrade attack.
		return s.fail(scramFailure(CondNotAuthorized, ScramErrServerDoesSupportCB, "server supports channel binding"))
	}

	// Everything above depends only on the message; from here on the work
	// is the same whether or not the user exists.
	user, creds, known, f := s.resolveUser(rawUser)
	if f != nil {
		return s.fail(f)
	}
	cred := *s.h.pick(&creds)
	real := known && cred.usable(s.h)
	if !real {
		cred = decoyCredential(s.h, user)
	}

	snonce, err := s.nonce()
	if err != nil {
		return s.fail(&Failure{Condition: CondTemporaryAuthFailure, Text: "cannot generate nonce", cause: err})
	}
	s.fullNonce = cnonce + snonce
	s.serverFirst = "r=" + s.fullNonce +
		",s=" + base64.StdEncoding.EncodeToString(cred.Salt) +
		",i=" + strconv.Itoa(cred.Iterations)
	s.gotFirst = true
	s.gs2Header = gs2Header
	s.clientFirstBare = bare
	s.cred = cred
	s.real = real
	s.pendingUser = user
	s.pendingAuthz = authzid
	return []byte(s.serverFirst), false, nil
}

func (s *scramServer) clientFinal(in []byte) ([]byte, bool, error) {
	if f := checkMessage(in); f != nil {
		return s.fail(f)
	}
	msg := string(in)

	// client-final-message = client-final-message-without-proof "," proof
	i := strings.LastIndex(msg, ",p=")
	if i < 0 {
		return s.fail(failure(CondMalformedRequest, "missing proof"))
	}
	withoutProof, proofB64 := msg[:i], msg[i+3:]
	if strings.Contains(proofB64, ",") {
		return s.fail(failure(CondMalformedRequest, "proof must be the last attribute"))
	}
	// client-final-message-without-proof = channel-binding "," nonce ["," extensions]
	attrs := strings.Split(withoutProof, ",")
	if len(attrs) < 2 {
		return s.fail(failure(CondMalformedRequest, "client-final-message too short"))
	}
	cbB64, ok := strings.CutPrefix(attrs[0], "c=")
	if !ok {
		return s.fail(failure(CondMalformedRequest, "missing channel binding attribute"))
	}
	nonce, ok := strings.CutPrefix(attrs[1], "r=")
	if !ok {
		return s.fail(failure(CondMalformedRequest, "missing nonce"))
	}
	if f := checkExtensions(attrs[2:]); f != nil {
		return s.fail(f)
	}
	cbInput, ok := decodeBase64(cbB64)
	if !ok {
		return s.fail(scramFailure(CondMalformedRequest, ScramErrInvalidEncoding, "invalid base64 in channel binding"))
	}
	proof, ok := decodeBase64(proofB64)
	if !ok {
		return s.fail(scramFailure(CondMalformedRequest, ScramErrInvalidEncoding, "invalid base64 in proof"))
	}

	// c= must be the GS2 header of the client-first-message followed, for
	// -PLUS, by this connection's channel binding data.
	want := make([]byte, 0, len(s.gs2Header)+len(s.cbData))
	want = append(append(want, s.gs2Header...), s.cbData...)
	if subtle.ConstantTimeCompare(cbInput, want) != 1 {
		return s.fail(scramFailure(CondNotAuthorized, ScramErrChannelBindingsDontMatch, "channel bindings do not match"))
	}
	if nonce != s.fullNonce {
		return s.fail(scramFailure(CondNotAuthorized, ScramErrOtherError, "nonce mismatch"))
	}
	if len(proof) != s.h.size {
		return s.fail(scramFailure(CondNotAuthorized, ScramErrInvalidProof, textAuthFailed))
	}

	// AuthMessage = client-first-message-bare "," server-first-message ","
	//               client-final-message-without-proof
	authMessage := []byte(s.clientFirstBare + "," + s.serverFirst + "," + withoutProof)
	clientSig := hmacSum(s.h, s.cred.StoredKey, authMessage)
	clientKey := make([]byte, s.h.size)
	subtle.XORBytes(clientKey, proof, clientSig)
	storedKey := hashSum(s.h, clientKey)
	match := subtle.ConstantTimeCompare(storedKey, s.cred.StoredKey)
	// Same work on both paths; a decoy never authenticates.
	if match != 1 || !s.real {
		return s.fail(scramFailure(CondNotAuthorized, ScramErrInvalidProof, textAuthFailed))
	}
	if !s.authorized(s.pendingUser, s.pendingAuthz) {
		return s.fail(scramFailure(CondInvalidAuthzID, ScramErrOtherError, "not allowed to act as the requested authorization identity"))
	}

	serverSig := hmacSum(s.h, s.cred.ServerKey, authMessage)
	s.done = true
	s.user, s.authzid = s.pendingUser, s.pendingAuthz
	return []byte("v=" + base64.StdEncoding.EncodeToString(serverSig)), true, nil
}

// checkExtensions validates optional extensions (attr-val, RFC 5802 §7):
// unknown ones are ignored, "m" is refused, and attributes with a meaning of
// their own may not appear there.
func checkExtensions(exts []string) *Failure {
	for _, e := range exts {
		if len(e) < 3 || e[1] != '=' || !isAlpha(e[0]) {
			return failure(CondMalformedRequest, "invalid attribute")
		}
		switch e[0] {
		case 'm':
			return scramFailure(CondMalformedRequest, ScramErrExtensionsNotSupported, "mandatory extensions are not supported")
		case 'a', 'n', 'r', 'c', 's', 'i', 'p', 'v', 'e':
			return failure(CondMalformedRequest, "unexpected attribute")
		}
	}
	return nil
}

// decodeSaslname decodes a saslname (RFC 5802 §7): "=2C" is ",", "=3D" is
// "=", any other "=" is an error; the result must not be empty.
func decodeSaslname(v string) (string, bool) {
	if v == "" {
		return "", false
	}
	if !strings.Contains(v, "=") {
		return v, true
	}
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		if v[i] != '=' {
			b.WriteByte(v[i])
			continue
		}
		switch {
		case strings.HasPrefix(v[i:], "=2C"):
			b.WriteByte(',')
		case strings.HasPrefix(v[i:], "=3D"):
			b.WriteByte('=')
		default:
			return "", false
		}
		i += 2
	}
	return b.String(), true
}

// validNonce: c-nonce = printable = %x21-2B / %x2D-7E, at least one.
func validNonce(n string) bool {
	if n == "" {
		return false
	}
	for i := 0; i < len(n); i++ {
		if c := n[i]; c < 0x21 || c > 0x7e || c == ',' {
			return false
		}
	}
	return true
}

// validCBName: cb-name = 1*(ALPHA / DIGIT / "." / "-").
func validCBName(n string) bool {
	if n == "" {
		return false
	}
	for i := 0; i < len(n); i++ {
		if c := n[i]; !isAlpha(c) && !(c >= '0' && c <= '9') && c != '.' && c != '-' {
			return false
		}
	}
	return true
}

func isAlpha(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// decodeBase64 decodes padded standard base64, refusing whitespace (which
// encoding/base64 would silently skip), non-canonical encodings and empty
// input.
func decodeBase64(s string) ([]byte, bool) {
	if s == "" {
		return nil, false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isAlpha(c) && !(c >= '0' && c <= '9') && c != '+' && c != '/' && c != '=' {
			return nil, false
		}
	}
	b, err := base64.StdEncoding.Strict().DecodeString(s)
	if err != nil {
		return nil, false
	}
	return b, true
}
