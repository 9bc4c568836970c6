package storage

import (
	"context"
	"time"
)

// FastToken is one XEP-0484 token as stored: never the token itself but
// its SHA-256 hash (for a token longer than the hash's 64-byte block that
// is also the HMAC key the HT mechanisms use, RFC 2104 §2, so the server
// can verify a login without keeping the token; see sasl.HTKey).
type FastToken struct {
	Hash      []byte
	Mechanism string    // the HT mechanism the token is bound to
	Expiry    time.Time // UTC; the token is refused from then on
	// New is set for the token in the client's "new" slot: issued and not
	// yet used. The other slot, "current", holds the one last used.
	New bool
}

// MaxFastTokenClients bounds the clients an account holds tokens for. A
// client is named by its SASL2 user-agent id, which it chooses, so an
// account that logs in again and again under new ids would otherwise
// add two tokens each time until they expire. Few people use more than
// a handful of clients; one beyond the bound logs in with its password
// again.
const MaxFastTokenClients = 32

// FastTokens stores XEP-0484 tokens per account (normalised bare JID) and
// client (the SASL2 user-agent id), in the two slots of the XEP's §5.1:
// "new", where every issued token goes, and "current", where a token
// moves when it is first used. A client has at most one token in each.
// Changing an account's credentials (SetUserCredentials) deletes its
// tokens; so does DeleteUser.
type FastTokens interface {
	// FastTokens returns the client's tokens, the new one first, expired
	// ones included (the caller decides what an expired match means).
	FastTokens(ctx context.Context, owner, client string) ([]FastToken, error)
	// PutFastToken puts t in the client's new slot, replacing what was
	// there (XEP-0484 §3.5: an unused token is invalidated when another is
	// issued), and drops every expired token of the owner. Past
	// MaxFastTokenClients clients, it drops the tokens of those issued
	// to least recently (the earliest latest expiry), never the
	// client's. ErrNotFound for an unknown account. t.New is ignored.
	PutFastToken(ctx context.Context, owner, client string, t FastToken) error
	// PromoteFastToken moves the client's new token to the current slot,
	// replacing the token there, if the new slot still holds hash;
	// otherwise it does nothing.
	PromoteFastToken(ctx context.Context, owner, client string, hash []byte) error
	// DeleteFastTokens deletes the client's tokens, or with client ""
	// all the owner's.
	DeleteFastTokens(ctx context.Context, owner, client string) error
}
