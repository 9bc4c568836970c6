package postgres

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/skald-xmpp/skald/storage"
)

// ---------------------------------------------------------------- users

func domainOf(bare string) string {
	if i := strings.IndexByte(bare, '@'); i >= 0 {
		return bare[i+1:]
	}
	return bare
}

func credArgs(c storage.Credentials) []any {
	return []any{
		c.SHA1.Salt, c.SHA1.Iterations, c.SHA1.StoredKey, c.SHA1.ServerKey,
		c.SHA256.Salt, c.SHA256.Iterations, c.SHA256.StoredKey, c.SHA256.ServerKey,
	}
}

// CreateUser implements storage.Users.
func (s *Store) CreateUser(ctx context.Context, bare string, c storage.Credentials) error {
	if err := s.enter(ctx); err != nil {
		return err
	}
	tag, err := s.pool.Exec(ctx, `INSERT INTO users (bare, domain,
		sha1_salt, sha1_iter, sha1_stored, sha1_server,
		sha256_salt, sha256_iter, sha256_stored, sha256_server)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING`,
		append([]any{bare, domainOf(bare)}, credArgs(c)...)...)
	if err != nil {
		return s.fail(err)
	}
	if tag.RowsAffected() == 0 {
		return storage.ErrExists
	}
	return nil
}

// UserCredentials implements storage.Users.
func (s *Store) UserCredentials(ctx context.Context, bare string) (storage.Credentials, error) {
	var c storage.Credentials
	if err := s.enter(ctx); err != nil {
		return c, err
	}
	err := s.pool.QueryRow(ctx, `SELECT sha1_salt, sha1_iter, sha1_stored, sha1_server,
		sha256_salt, sha256_iter, sha256_stored, sha256_server FROM users WHERE bare = $1`, bare).Scan(
		&c.SHA1.Salt, &c.SHA1.Iterations, &c.SHA1.StoredKey, &c.SHA1.ServerKey,
		&c.SHA256.Salt, &c.SHA256.Iterations, &c.SHA256.StoredKey, &c.SHA256.ServerKey)
	if errors.Is(err, pgx.ErrNoRows) {
		return storage.Credentials{}, storage.ErrNotFound
	}
	return c, s.fail(err)
}

// SetUserCredentials implements storage.Users; ErrNotFound for an unknown
// account.
func (s *Store) SetUserCredentials(ctx context.Context, bare string, c storage.Credentials) error {
	if err := s.enter(ctx); err != nil {
		return err
	}
	return s.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE users SET
			sha1_salt = $1, sha1_iter = $2, sha1_stored = $3, sha1_server = $4,
			sha256_salt = $5, sha256_iter = $6, sha256_stored = $7, sha256_server = $8
			WHERE bare = $9`, append(credArgs(c), bare)...)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return storage.ErrNotFound
		}
		// A new password revokes every fast login (storage.Users).
		_, err = tx.Exec(ctx, `DELETE FROM fast_token WHERE owner = $1`, bare)
		return err
	})
}

// ReplaceUserCredentials implements storage.Users: the row is locked
// (FOR UPDATE) from the check to the write.
func (s *Store) ReplaceUserCredentials(ctx context.Context, bare string, old, c storage.Credentials) (bool, error) {
	if err := s.enter(ctx); err != nil {
		return false, err
	}
	replaced := false
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var now storage.Credentials
		err := tx.QueryRow(ctx, `SELECT sha1_salt, sha1_iter, sha1_stored, sha1_server,
			sha256_salt, sha256_iter, sha256_stored, sha256_server FROM users WHERE bare = $1 FOR UPDATE`, bare).Scan(
			&now.SHA1.Salt, &now.SHA1.Iterations, &now.SHA1.StoredKey, &now.SHA1.ServerKey,
			&now.SHA256.Salt, &now.SHA256.Iterations, &now.SHA256.StoredKey, &now.SHA256.ServerKey)
		if errors.Is(err, pgx.ErrNoRows) {
			return storage.ErrNotFound
		}
		if err != nil || !now.Equal(old) {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE users SET
			sha1_salt = $1, sha1_iter = $2, sha1_stored = $3, sha1_server = $4,
			sha256_salt = $5, sha256_iter = $6, sha256_stored = $7, sha256_server = $8
			WHERE bare = $9`, append(credArgs(c), bare)...); err != nil {
			return err
		}
		replaced = true
		_, err = tx.Exec(ctx, `DELETE FROM fast_token WHERE owner = $1`, bare)
		return err
	})
	return replaced && err == nil, err
}

// UserExists implements storage.Users.
func (s *Store) UserExists(ctx context.Context, bare string) (bool, error) {
	if err := s.enter(ctx); err != nil {
		return false, err
	}
	var ok bool
	err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM users WHERE bare = $1)`, bare).Scan(&ok)
	return ok, s.fail(err)
}

// DeleteUser implements storage.Users. The archive is purged first, in
// transactions of Options.DeleteBatch rows; the account and the rest of
// its data (and archive items that arrived meanwhile) go in one last
// transaction, under the archive lock since it changes archive rows and
// counts.
func (s *Store) DeleteUser(ctx context.Context, bare string) error {
	ok, err := s.UserExists(ctx, bare)
	if err != nil {
		return err
	}
	if !ok {
		return storage.ErrNotFound
	}
	if _, err := s.PurgeArchive(ctx, bare, "", time.Time{}); err != nil {
		return err
	}
	return s.inTx(ctx, func(tx pgx.Tx) error {
		if err := s.lockArchiveTx(ctx, tx); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `DELETE FROM users WHERE bare = $1`, bare)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return storage.ErrNotFound
		}
		b := &pgx.Batch{}
		for _, q := range []string{
			`DELETE FROM roster WHERE owner = $1`, // items cascade
			`DELETE FROM offline WHERE owner = $1`,
			`DELETE FROM archive WHERE owner = $1`,
			`DELETE FROM archive_count WHERE owner = $1`,
			`DELETE FROM archive_prefs WHERE owner = $1`,
			`DELETE FROM blocklist WHERE owner = $1`,
			`DELETE FROM documents WHERE owner = $1`,
			`DELETE FROM pep_node WHERE owner = $1`,   // items cascade
			`DELETE FROM fast_token WHERE owner = $1`, // also cascades from users
			// Bans stay (storage.Rooms). One row per room, each touched
			// alone: no lock cycle with PutRoom (rooms.go's locking note).
			`DELETE FROM muc_affiliations WHERE jid = $1 AND affiliation <> 'outcast'`,
		} {
			b.Queue(q, bare)
		}
		return tx.SendBatch(ctx, b).Close()
	})
}

// ListUsers implements storage.Users.
func (s *Store) ListUsers(ctx context.Context, domain string) ([]string, error) {
	if err := s.enter(ctx); err != nil {
		return nil, err
	}
	sql, args := `SELECT bare FROM users ORDER BY bare`, []any(nil)
	if domain != "" {
		sql, args = `SELECT bare FROM users WHERE domain = $1 ORDER BY bare`, []any{domain}
	}
	return s.queryStrings(ctx, sql, args...)
}

// ---------------------------------------------------------------- rosters

const rosterCols = `contact, name, subscription, ask_out, pending_in, pre_approved, hidden, groups`

func scanRosterItem(row pgx.CollectableRow) (storage.RosterItem, error) {
	var it storage.RosterItem
	err := row.Scan(&it.JID, &it.Name, &it.Subscription, &it.AskOut, &it.PendingIn, &it.PreApproved, &it.Hidden, &it.Groups)
	if len(it.Groups) == 0 {
		it.Groups = nil
	}
	return it, err
}

// nilIfEmpty stores an empty list as NULL.
func nilIfEmpty(v []string) []string {
	if len(v) == 0 {
		return nil
	}
	return v
}

// Roster implements storage.Rosters: the version and the items in one
// statement, so they come from one snapshot.
func (s *Store) Roster(ctx context.Context, owner string) ([]storage.RosterItem, string, error) {
	if err := s.enter(ctx); err != nil {
		return nil, "", err
	}
	var ver int64
	var items []storage.RosterItem
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `SELECT version FROM roster WHERE owner = $1`, owner).Scan(&ver)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil // no roster row: no items either
		}
		if err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT `+rosterCols+` FROM roster_item WHERE owner = $1 ORDER BY contact`, owner)
		if err != nil {
			return err
		}
		items, err = pgx.CollectRows(rows, scanRosterItem)
		return err
	})
	if err != nil {
		return nil, "", s.fail(err)
	}
	if len(items) == 0 {
		items = nil
	}
	return items, strconv.FormatInt(ver, 10), nil
}

// RosterItem implements storage.Rosters.
func (s *Store) RosterItem(ctx context.Context, owner, contact string) (storage.RosterItem, error) {
	if err := s.enter(ctx); err != nil {
		return storage.RosterItem{}, err
	}
	rows, err := s.pool.Query(ctx, `SELECT `+rosterCols+` FROM roster_item WHERE owner = $1 AND contact = $2`, owner, contact)
	if err != nil {
		return storage.RosterItem{}, s.fail(err)
	}
	it, err := pgx.CollectOneRow(rows, scanRosterItem)
	if errors.Is(err, pgx.ErrNoRows) {
		return storage.RosterItem{}, storage.ErrNotFound
	}
	return it, s.fail(err)
}

// bumpRoster increments owner's roster version if visible, creating the
// roster row either way (Roster reads no items without one), and returns
// the version. The row lock it takes, bumped or not, serialises the
// roster's writers; every writer takes it first, so they cannot deadlock
// on the items.
func bumpRoster(ctx context.Context, tx pgx.Tx, owner string, visible bool) (string, error) {
	by := int64(0)
	if visible {
		by = 1
	}
	var ver int64
	err := tx.QueryRow(ctx, `INSERT INTO roster (owner, version) VALUES ($1, $2)
		ON CONFLICT (owner) DO UPDATE SET version = roster.version + $2 RETURNING version`, owner, by).Scan(&ver)
	return strconv.FormatInt(ver, 10), err
}

// PutRosterItem implements storage.Rosters.
func (s *Store) PutRosterItem(ctx context.Context, owner string, item storage.RosterItem, visible bool) (string, error) {
	var ver string
	err := s.inTx(ctx, func(tx pgx.Tx) (err error) {
		if ver, err = bumpRoster(ctx, tx, owner, visible); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO roster_item (owner, `+rosterCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
			ON CONFLICT (owner, contact) DO UPDATE SET name = excluded.name, subscription = excluded.subscription,
			ask_out = excluded.ask_out, pending_in = excluded.pending_in, pre_approved = excluded.pre_approved,
			hidden = excluded.hidden, groups = excluded.groups`,
			owner, item.JID, item.Name, item.Subscription, item.AskOut, item.PendingIn,
			item.PreApproved, item.Hidden, nilIfEmpty(item.Groups))
		return err
	})
	return ver, err
}

// DeleteRosterItem implements storage.Rosters. The version is bumped
// first (lock order, see bumpRoster); if there was no such item the
// transaction rolls back and the version stays.
func (s *Store) DeleteRosterItem(ctx context.Context, owner, contact string, visible bool) (string, error) {
	var ver string
	err := s.inTx(ctx, func(tx pgx.Tx) (err error) {
		if ver, err = bumpRoster(ctx, tx, owner, visible); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `DELETE FROM roster_item WHERE owner = $1 AND contact = $2`, owner, contact)
		if err == nil && tag.RowsAffected() == 0 {
			err = storage.ErrNotFound
		}
		return err
	})
	return ver, err
}

// ---------------------------------------------------------------- offline

// StoreOffline implements storage.Offline. The Seq of m is ignored and
// assigned by the database; a zero Stored time means now. The owner's
// offline lock (a transaction-level advisory lock keyed by schema and
// owner) makes the quota check and the insert atomic, and makes one
// owner's seqs increase in commit order: DeleteOffline(upTo) can never
// delete a message that committed after the ones its caller read.
func (s *Store) StoreOffline(ctx context.Context, owner string, m storage.OfflineMessage, limit int) error {
	stored := m.Stored
	if stored.IsZero() {
		stored = time.Now()
	}
	stanza := m.Stanza
	if stanza == nil {
		stanza = []byte{}
	}
	return s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, hashtext(current_schema() || '/' || $2))`, lockOffline, owner); err != nil {
			return err
		}
		if limit > 0 {
			var n int
			if err := tx.QueryRow(ctx, `SELECT count(*) FROM (SELECT 1 FROM offline WHERE owner = $1 LIMIT $2) o`, owner, limit).Scan(&n); err != nil {
				return err
			}
			if n >= limit {
				return storage.ErrQuotaExceeded
			}
		}
		_, err := tx.Exec(ctx, `INSERT INTO offline (owner, stored, archived, stanza) VALUES ($1, $2, $3, $4)`,
			owner, stored.UnixMicro(), m.Archived, stanza)
		return err
	})
}

// OfflineMessages implements storage.Offline.
func (s *Store) OfflineMessages(ctx context.Context, owner string) ([]storage.OfflineMessage, error) {
	if err := s.enter(ctx); err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, `SELECT seq, stanza, archived, stored FROM offline WHERE owner = $1 ORDER BY seq`, owner)
	if err != nil {
		return nil, s.fail(err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (storage.OfflineMessage, error) {
		var m storage.OfflineMessage
		var stored int64
		err := row.Scan(&m.Seq, &m.Stanza, &m.Archived, &stored)
		m.Stored = time.UnixMicro(stored).UTC()
		return m, err
	})
	if len(out) == 0 {
		out = nil
	}
	return out, s.fail(err)
}

// DeleteOffline implements storage.Offline.
func (s *Store) DeleteOffline(ctx context.Context, owner string, upTo int64) error {
	if err := s.enter(ctx); err != nil {
		return err
	}
	_, err := s.pool.Exec(ctx, `DELETE FROM offline WHERE owner = $1 AND seq <= $2`, owner, upTo)
	return s.fail(err)
}

// ---------------------------------------------------------------- prefs

// ArchivePrefs implements storage.Archive.
func (s *Store) ArchivePrefs(ctx context.Context, owner string) (storage.ArchivePrefs, bool, error) {
	var p storage.ArchivePrefs
	if err := s.enter(ctx); err != nil {
		return p, false, err
	}
	err := s.pool.QueryRow(ctx, `SELECT default_mode, always, never FROM archive_prefs WHERE owner = $1`, owner).
		Scan(&p.Default, &p.Always, &p.Never)
	if errors.Is(err, pgx.ErrNoRows) {
		return storage.ArchivePrefs{}, false, nil
	}
	if err != nil {
		return storage.ArchivePrefs{}, false, s.fail(err)
	}
	p.Always, p.Never = nilIfEmpty(p.Always), nilIfEmpty(p.Never)
	return p, true, nil
}

// SetArchivePrefs implements storage.Archive.
func (s *Store) SetArchivePrefs(ctx context.Context, owner string, p storage.ArchivePrefs) error {
	if err := s.enter(ctx); err != nil {
		return err
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO archive_prefs (owner, default_mode, always, never) VALUES ($1, $2, $3, $4)
		ON CONFLICT (owner) DO UPDATE SET default_mode = excluded.default_mode, always = excluded.always, never = excluded.never`,
		owner, p.Default, nilIfEmpty(p.Always), nilIfEmpty(p.Never))
	return s.fail(err)
}
