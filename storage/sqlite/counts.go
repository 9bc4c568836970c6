package sqlite

import (
	"errors"
	"slices"
)

// countDeltas holds the archive_count changes that the appends of the
// running batch have not written yet: an owner appended to N times in one
// batch (a busy room, a bulk append) costs one upsert instead of N.
//
// The deltas are written before COMMIT, and before any op of the batch
// that is not an append, since that op may read or change the counts
// (TrimArchive reads them, DeleteUser deletes them): every op sees the
// counts as if each earlier append had updated them itself. Only
// batchAtomic ops add deltas, so a failed op never leaves one behind: its
// failure rolls the whole batch back and the deltas are dropped with it.
// Writer goroutine only.
type countDeltas struct {
	n      map[string]int
	owners []string // scratch for flush
}

func (d *countDeltas) add(owner string, n int) {
	if d.n == nil {
		d.n = make(map[string]int)
	}
	d.n[owner] += n
}

// flush writes the pending deltas, in owner order (neighbouring keys of
// archive_count), and forgets them.
func (d *countDeltas) flush(w *conn) error {
	if len(d.n) == 0 {
		return nil
	}
	d.owners = d.owners[:0]
	for owner := range d.n {
		d.owners = append(d.owners, owner)
	}
	slices.Sort(d.owners)
	for _, owner := range d.owners {
		if err := addCount(w, owner, d.n[owner]); err != nil {
			return err
		}
	}
	d.reset()
	return nil
}

func (d *countDeltas) reset() {
	clear(d.n)
	clear(d.owners)
	d.owners = d.owners[:0]
}

// addCount adds n (may be negative) to owner's maintained item count.
func addCount(w *conn, owner string, n int) error {
	if n == 0 {
		return nil
	}
	st, err := w.prep(`INSERT INTO archive_count(owner, n) VALUES(?, ?)
		ON CONFLICT(owner) DO UPDATE SET n = n + excluded.n`)
	if err != nil {
		return err
	}
	if err := errors.Join(st.BindText(1, owner), st.BindInt64(2, int64(n))); err != nil {
		st.Reset()
		return err
	}
	if err := st.Exec(); err != nil {
		return err
	}
	if n < 0 {
		return w.exec(`DELETE FROM archive_count WHERE owner=? AND n<=0`, owner)
	}
	return nil
}
