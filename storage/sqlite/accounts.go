package sqlite

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/ncruces/go-sqlite3"

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
	b := func(v []byte) any {
		if v == nil {
			return nil
		}
		return v
	}
	return []any{
		b(c.SHA1.Salt), c.SHA1.Iterations, b(c.SHA1.StoredKey), b(c.SHA1.ServerKey),
		b(c.SHA256.Salt), c.SHA256.Iterations, b(c.SHA256.StoredKey), b(c.SHA256.ServerKey),
	}
}

func blob(st *sqlite3.Stmt, col int) []byte {
	if st.ColumnType(col) == sqlite3.NULL {
		return nil
	}
	return st.ColumnBlob(col, nil)
}

// CreateUser implements storage.Users.
func (s *Store) CreateUser(ctx context.Context, bare string, c storage.Credentials) error {
	args := append([]any{bare, domainOf(bare)}, credArgs(c)...)
	return s.write(ctx, func(w *conn) error {
		if err := w.exec(`INSERT INTO users(bare, domain,
			sha1_salt, sha1_iter, sha1_stored, sha1_server,
			sha256_salt, sha256_iter, sha256_stored, sha256_server)
			VALUES(?,?,?,?,?,?,?,?,?,?) ON CONFLICT DO NOTHING`, args...); err != nil {
			return err
		}
		if w.db.Changes() == 0 {
			return storage.ErrExists
		}
		return nil
	})
}

// UserCredentials implements storage.Users.
func (s *Store) UserCredentials(ctx context.Context, bare string) (storage.Credentials, error) {
	var c storage.Credentials
	err := s.read(ctx, func(r *conn) error {
		var err error
		c, err = r.credentials(bare)
		return err
	})
	return c, err
}

// credentials reads the account's credentials on c.
func (c *conn) credentials(bare string) (storage.Credentials, error) {
	var cr storage.Credentials
	found, err := c.queryRow(`SELECT sha1_salt, sha1_iter, sha1_stored, sha1_server,
		sha256_salt, sha256_iter, sha256_stored, sha256_server FROM users WHERE bare=?`,
		func(st *sqlite3.Stmt) error {
			cr.SHA1 = storage.Credential{Salt: blob(st, 0), Iterations: st.ColumnInt(1), StoredKey: blob(st, 2), ServerKey: blob(st, 3)}
			cr.SHA256 = storage.Credential{Salt: blob(st, 4), Iterations: st.ColumnInt(5), StoredKey: blob(st, 6), ServerKey: blob(st, 7)}
			return nil
		}, bare)
	if err == nil && !found {
		err = storage.ErrNotFound
	}
	return cr, err
}

// ReplaceUserCredentials implements storage.Users: read and written by
// the one writer, in its transaction.
func (s *Store) ReplaceUserCredentials(ctx context.Context, bare string, old, c storage.Credentials) (bool, error) {
	replaced := false
	err := s.write(ctx, func(w *conn) error {
		now, err := w.credentials(bare)
		if err != nil || !now.Equal(old) {
			return err
		}
		if err := w.exec(`UPDATE users SET
			sha1_salt=?, sha1_iter=?, sha1_stored=?, sha1_server=?,
			sha256_salt=?, sha256_iter=?, sha256_stored=?, sha256_server=?
			WHERE bare=?`, append(credArgs(c), bare)...); err != nil {
			return err
		}
		replaced = true
		return w.exec(`DELETE FROM fast_token WHERE owner=?`, bare)
	})
	return replaced && err == nil, err
}

// SetUserCredentials implements storage.Users; ErrNotFound for an unknown
// account.
func (s *Store) SetUserCredentials(ctx context.Context, bare string, c storage.Credentials) error {
	args := append(credArgs(c), bare)
	return s.write(ctx, func(w *conn) error {
		if err := w.exec(`UPDATE users SET
			sha1_salt=?, sha1_iter=?, sha1_stored=?, sha1_server=?,
			sha256_salt=?, sha256_iter=?, sha256_stored=?, sha256_server=?
			WHERE bare=?`, args...); err != nil {
			return err
		}
		if w.db.Changes() == 0 {
			return storage.ErrNotFound
		}
		// A new password revokes every fast login (storage.Users).
		return w.exec(`DELETE FROM fast_token WHERE owner=?`, bare)
	})
}

// UserExists implements storage.Users.
func (s *Store) UserExists(ctx context.Context, bare string) (bool, error) {
	var ok bool
	err := s.read(ctx, func(r *conn) error {
		var err error
		ok, err = r.queryRow(`SELECT 1 FROM users WHERE bare=?`, nil, bare)
		return err
	})
	return ok, err
}

// DeleteUser implements storage.Users. The archive is deleted in batches
// of Options.DeleteBatch rows, each in its own transaction, before the
// account and the rest of its data go in one last transaction.
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
	return s.write(ctx, func(w *conn) error {
		if err := w.exec(`DELETE FROM users WHERE bare=?`, bare); err != nil {
			return err
		}
		if w.db.Changes() == 0 {
			return storage.ErrNotFound
		}
		s.wstampOK = false
		for _, q := range []string{
			`DELETE FROM roster WHERE owner=?`, // items cascade
			`DELETE FROM offline WHERE owner=?`,
			`DELETE FROM archive WHERE owner=?`, // only what arrived meanwhile
			`DELETE FROM archive_count WHERE owner=?`,
			`DELETE FROM archive_prefs WHERE owner=?`,
			`DELETE FROM blocklist WHERE owner=?`,
			`DELETE FROM documents WHERE owner=?`,
			`DELETE FROM pep_node WHERE owner=?`,
			`DELETE FROM pep_item WHERE owner=?`,
			`DELETE FROM fast_token WHERE owner=?`,                                // also cascades from users
			`DELETE FROM muc_affiliations WHERE jid=? AND affiliation<>'outcast'`, // bans stay (storage.Rooms)
		} {
			if err := w.exec(q, bare); err != nil {
				return err
			}
		}
		return nil
	})
}

// ListUsers implements storage.Users.
func (s *Store) ListUsers(ctx context.Context, domain string) ([]string, error) {
	var out []string
	err := s.read(ctx, func(r *conn) error {
		q, args := `SELECT bare FROM users ORDER BY bare`, []any(nil)
		if domain != "" {
			q, args = `SELECT bare FROM users WHERE domain=? ORDER BY bare`, []any{domain}
		}
		st, err := r.prep(q)
		if err != nil {
			return err
		}
		defer st.Reset()
		if err := bind(st, args...); err != nil {
			return err
		}
		for st.Step() {
			out = append(out, st.ColumnText(0))
		}
		return st.Err()
	})
	return out, err
}

// ---------------------------------------------------------------- rosters

func encodeList(v []string) any {
	if len(v) == 0 {
		return nil
	}
	b, _ := json.Marshal(v) // []string cannot fail
	return string(b)
}

func decodeList(st *sqlite3.Stmt, col int) ([]string, error) {
	if st.ColumnType(col) == sqlite3.NULL {
		return nil, nil
	}
	var v []string
	if err := json.Unmarshal(st.ColumnRawText(col), &v); err != nil {
		return nil, err
	}
	if len(v) == 0 {
		return nil, nil
	}
	return v, nil
}

const rosterCols = `contact, name, subscription, ask_out, pending_in, pre_approved, hidden, groups`

func scanRosterItem(st *sqlite3.Stmt) (storage.RosterItem, error) {
	it := storage.RosterItem{
		JID:          st.ColumnText(0),
		Name:         st.ColumnText(1),
		Subscription: st.ColumnText(2),
		AskOut:       st.ColumnBool(3),
		PendingIn:    st.ColumnBool(4),
		PreApproved:  st.ColumnBool(5),
		Hidden:       st.ColumnBool(6),
	}
	var err error
	it.Groups, err = decodeList(st, 7)
	return it, err
}

// Roster implements storage.Rosters.
func (s *Store) Roster(ctx context.Context, owner string) ([]storage.RosterItem, string, error) {
	var items []storage.RosterItem
	var ver int64
	err := s.readTx(ctx, func(r *conn) error {
		found, err := r.queryRow(`SELECT version FROM roster WHERE owner=?`, func(st *sqlite3.Stmt) error {
			ver = st.ColumnInt64(0)
			return nil
		}, owner)
		if err != nil || !found {
			return err // no roster row: no items either
		}
		it, err := r.prep(`SELECT ` + rosterCols + ` FROM roster_item WHERE owner=? ORDER BY contact`)
		if err != nil {
			return err
		}
		defer it.Reset()
		if err := it.BindText(1, owner); err != nil {
			return err
		}
		for it.Step() {
			item, err := scanRosterItem(it)
			if err != nil {
				return err
			}
			items = append(items, item)
		}
		return it.Err()
	})
	if err != nil {
		return nil, "", err
	}
	return items, strconv.FormatInt(ver, 10), nil
}

// RosterItem implements storage.Rosters.
func (s *Store) RosterItem(ctx context.Context, owner, contact string) (storage.RosterItem, error) {
	var item storage.RosterItem
	err := s.read(ctx, func(r *conn) error {
		found, err := r.queryRow(`SELECT `+rosterCols+` FROM roster_item WHERE owner=? AND contact=?`,
			func(st *sqlite3.Stmt) (err error) {
				item, err = scanRosterItem(st)
				return err
			}, owner, contact)
		if err == nil && !found {
			err = storage.ErrNotFound
		}
		return err
	})
	return item, err
}

// bumpRoster increments owner's roster version if visible, creating the
// roster row either way (Roster reads no items without one), and returns
// the version.
func bumpRoster(w *conn, owner string, visible bool) (string, error) {
	by := 0
	if visible {
		by = 1
	}
	var ver int64
	found, err := w.queryRow(`INSERT INTO roster(owner, version) VALUES(?1, ?2)
		ON CONFLICT(owner) DO UPDATE SET version = version + ?2 RETURNING version`, func(st *sqlite3.Stmt) error {
		ver = st.ColumnInt64(0)
		return nil
	}, owner, by)
	if err != nil || !found {
		return "", err
	}
	return strconv.FormatInt(ver, 10), nil
}

// PutRosterItem implements storage.Rosters.
func (s *Store) PutRosterItem(ctx context.Context, owner string, item storage.RosterItem, visible bool) (string, error) {
	var ver string
	err := s.write(ctx, func(w *conn) error {
		var err error
		if ver, err = bumpRoster(w, owner, visible); err != nil {
			return err
		}
		return w.exec(`INSERT OR REPLACE INTO roster_item(owner, `+rosterCols+`) VALUES(?,?,?,?,?,?,?,?,?)`,
			owner, item.JID, item.Name, item.Subscription, item.AskOut, item.PendingIn,
			item.PreApproved, item.Hidden, encodeList(item.Groups))
	})
	return ver, err
}

// DeleteRosterItem implements storage.Rosters.
func (s *Store) DeleteRosterItem(ctx context.Context, owner, contact string, visible bool) (string, error) {
	var ver string
	err := s.write(ctx, func(w *conn) error {
		if err := w.exec(`DELETE FROM roster_item WHERE owner=? AND contact=?`, owner, contact); err != nil {
			return err
		}
		if w.db.Changes() == 0 {
			return storage.ErrNotFound
		}
		var err error
		ver, err = bumpRoster(w, owner, visible)
		return err
	})
	return ver, err
}

// ---------------------------------------------------------------- offline

// StoreOffline implements storage.Offline. The Seq of m is ignored and
// assigned by the database; a zero Stored time means now.
func (s *Store) StoreOffline(ctx context.Context, owner string, m storage.OfflineMessage, limit int) error {
	stored := m.Stored
	if stored.IsZero() {
		stored = time.Now()
	}
	stanza := m.Stanza
	if stanza == nil {
		stanza = []byte{}
	}
	return s.write(ctx, func(w *conn) error {
		if limit > 0 {
			n := 0
			if _, err := w.queryRow(`SELECT count(*) FROM (SELECT 1 FROM offline WHERE owner=? LIMIT ?)`, func(st *sqlite3.Stmt) error {
				n = st.ColumnInt(0)
				return nil
			}, owner, limit); err != nil {
				return err
			}
			if n >= limit {
				return storage.ErrQuotaExceeded
			}
		}
		return w.exec(`INSERT INTO offline(owner, stored, archived, stanza) VALUES(?,?,?,?)`,
			owner, stored.UnixMicro(), m.Archived, stanza)
	})
}

// OfflineMessages implements storage.Offline.
func (s *Store) OfflineMessages(ctx context.Context, owner string) ([]storage.OfflineMessage, error) {
	var out []storage.OfflineMessage
	err := s.read(ctx, func(r *conn) error {
		st, err := r.prep(`SELECT seq, stanza, archived, stored FROM offline WHERE owner=? ORDER BY seq`)
		if err != nil {
			return err
		}
		defer st.Reset()
		if err := st.BindText(1, owner); err != nil {
			return err
		}
		for st.Step() {
			out = append(out, storage.OfflineMessage{
				Seq:      st.ColumnInt64(0),
				Stanza:   st.ColumnBlob(1, nil),
				Archived: st.ColumnBool(2),
				Stored:   time.UnixMicro(st.ColumnInt64(3)).UTC(),
			})
		}
		return st.Err()
	})
	return out, err
}

// DeleteOffline implements storage.Offline.
func (s *Store) DeleteOffline(ctx context.Context, owner string, upTo int64) error {
	return s.write(ctx, func(w *conn) error {
		return w.exec(`DELETE FROM offline WHERE owner=? AND seq<=?`, owner, upTo)
	})
}

// ---------------------------------------------------------------- prefs

// ArchivePrefs implements storage.Archive.
func (s *Store) ArchivePrefs(ctx context.Context, owner string) (storage.ArchivePrefs, bool, error) {
	var p storage.ArchivePrefs
	var ok bool
	err := s.read(ctx, func(r *conn) error {
		var err error
		ok, err = r.queryRow(`SELECT default_mode, always, never FROM archive_prefs WHERE owner=?`, func(st *sqlite3.Stmt) (err error) {
			p.Default = st.ColumnText(0)
			if p.Always, err = decodeList(st, 1); err != nil {
				return err
			}
			p.Never, err = decodeList(st, 2)
			return err
		}, owner)
		return err
	})
	return p, ok, err
}

// SetArchivePrefs implements storage.Archive.
func (s *Store) SetArchivePrefs(ctx context.Context, owner string, p storage.ArchivePrefs) error {
	return s.write(ctx, func(w *conn) error {
		return w.exec(`INSERT OR REPLACE INTO archive_prefs(owner, default_mode, always, never) VALUES(?,?,?,?)`,
			owner, p.Default, encodeList(p.Always), encodeList(p.Never))
	})
}
