// Package sasl implements the server side of the SASL mechanisms Skald offers
// to XMPP clients (RFC 6120 §6):
//
//   - SCRAM-SHA-256-PLUS, SCRAM-SHA-1-PLUS, SCRAM-SHA-256 and SCRAM-SHA-1
//     (RFC 5802, RFC 7677), with the channel binding types "tls-exporter"
//     (RFC 9266, TLS 1.3) and "tls-unique" (RFC 5929, TLS 1.2 and older);
//   - PLAIN (RFC 4616), offered only on TLS-protected streams;
//   - the Hashed Token mechanisms HT-SHA-256-EXPR, -UNIQ and -NONE of
//     XEP-0484 (draft-schmaus-kitten-sasl-ht-08, ht.go): pure functions
//     (ParseHTMessage, VerifyHT, HTResponderMessage) over a token's key,
//     HTKey, the SHA-256 of the token; the caller keeps the tokens.
//
// # Stored credentials
//
// The server never stores a password or a SaltedPassword. DeriveCredentials
// turns a password into one Credential per hash function: a random salt, the
// iteration count, StoredKey = H(HMAC(SaltedPassword, "Client Key")) and
// ServerKey = HMAC(SaltedPassword, "Server Key"). SCRAM verifies the client
// proof against StoredKey; PLAIN (VerifyPlain) recomputes the keys from the
// submitted password with the stored salt and iteration count and compares
// them in constant time.
//
// Passwords are prepared with the PRECIS OpaqueString profile (RFC 8265
// §4.2), the successor of the SASLprep profile (RFC 4013) that RFC 5802 and
// RFC 7677 name; see PreparePassword. User names are normalised by a callback
// supplied by the caller (the XMPP localpart rules live elsewhere).
//
// # Unknown users
//
// A CredentialLookup reports unknown users with found=false. The mechanism
// then continues with decoy credentials derived from a secret and the user
// name (see SetDecoyParameters): the server-first-message has the same shape
// and is stable across attempts, the same computations run, and the exchange
// ends with the same "not-authorized" Failure as a wrong password.
//
// # Using a Server
//
//	info := sasl.ChannelBindingInfoFor(tlsStatePtrOrNil)
//	// advertise info.Mechanisms() (and info.Types() for XEP-0440)
//	srv, err := sasl.NewServer(mech, lookup, info, normaliseLocalpart,
//		sasl.WithAuthorizer(sasl.AllowOwnBareJID(domain, normaliseLocalpart)))
//	// for each client message (initial response: nil if absent):
//	out, done, err := srv.Step(decoded)
//	// err (a *Failure): send <failure><CONDITION/></failure>
//	// done: send <success>base64(out)</success>, the user is srv.Username()
//	// otherwise: send <challenge>base64(out)</challenge>
//
// Errors returned by Step are always *Failure values whose Condition is one of
// the RFC 6120 §6.5 conditions.
//
// # Channel binding and downgrades
//
// The -PLUS mechanisms are offered only when the connection has a channel
// binding (ChannelBindingInfo.Available). A client that selects a non-PLUS
// SCRAM mechanism with the GS2 flag "y" (it supports channel binding but
// believes the server does not) is refused when -PLUS was offered, as RFC 5802
// §6 requires; "p=" must name an offered type and the c= attribute must carry
// exactly the GS2 header plus this connection's binding data.
//
// The offered types are announced with XEP-0440 (c2s). XEP-0474 (SASL
// SCRAM Downgrade Protection: a hash of the offered mechanisms and types
// in the server-first-message) is not sent: it is Experimental, changed
// its wire format in 2025 (version 0.4.0: new delimiters; the hash
// attribute is now "h", earlier servers sent "d"), clients that verify it
// refuse to log in on any mismatch (Monal against ejabberd's FAST
// mechanisms, 2024), and some clients failed on the unknown attribute
// (strophe.js 1.6.2, go-xmpp before 2024). Of the clients Skald aims at,
// Monal uses it; nothing shows that Conversations does (the Snikket apps
// built on it did not in 2023).
//
// # Authorization identity
//
// A non-empty authzid is refused with "invalid-authzid" unless an Authorizer
// installed with WithAuthorizer accepts it; AllowOwnBareJID accepts only the
// user's own bare JID. The check runs after the credentials are verified.
package sasl
