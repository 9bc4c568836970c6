// Package storage defines the persistence interfaces of Skald. Backends
// live in sub-packages (sqlite, postgres, memory); storagetest is the contract suite
// each of them must pass.
//
// Layering: storage imports nothing of Skald. Feature packages talk to
// storage only through these interfaces.
//
// Full-text search of archives (ArchiveQuery.Text) is defined once, in
// fulltext.go (FoldText, TextTerms, MatchText): every backend returns
// exactly the items MatchText accepts; their indexes only narrow the
// candidates (storage/sqlite: a background FTS5 trigram index plus a scan
// of the unindexed tail; storage/postgres: pg_trgm on a folded column;
// storage/memory: a scan).
//
// Accounts may be disabled (Users.SetUserDisabled): an operator's flag,
// with an optional reason for operators, that keeps everything the
// account owns while c2s refuses its logins. It lives in the users row
// of the SQL backends (SQLite migration 0009, PostgreSQL 0006), so the
// CLI and a running server on the same database see the same flag.
//
// XEP-0484 FAST tokens (fast.go, FastTokens) are kept as the XEP's two
// slots per account and client, each a hash of the token with its
// mechanism and expiry; SetUserCredentials, ReplaceUserCredentials and
// DeleteUser delete an account's tokens in the same transaction, so no
// path that changes a password can leave a fast login behind. An account holds tokens for at
// most MaxFastTokenClients clients: issuing to one more drops the
// tokens of the one issued to least recently.
package storage
