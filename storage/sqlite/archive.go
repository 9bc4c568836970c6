package sqlite

import (
	"context"
	"errors"
	"math"
	"strings"
	"time"

	"github.com/ncruces/go-sqlite3"

	"github.com/skald-xmpp/skald/storage"
)

var errEmptyOwner = errors.New("storage/sqlite: empty owner")

const msgCols = `id, with_jid, with_resource, outgoing, stamp, origin_id, body, stanza`

// ceilMicro is the smallest microsecond count not earlier than t.
func ceilMicro(t time.Time) int64 {
	us := t.UnixMicro()
	if t.Nanosecond()%1000 != 0 {
		us++
	}
	return us
}

// scanner turns result rows into messages. A page's OriginIDs and Bodies
// are copied back to back into one text buffer and its Stanzas into one
// blob buffer, and finish hands them out as substrings and subslices: a
// few allocations per page instead of three per row. With and
// WithResource are interned per page (a page usually has few peers).
type scanner struct {
	owner string
	hint  int // rows expected, to size the buffers
	with  string
	res   string
	names map[string]string // interned With and WithResource values
	text  strings.Builder   // String does not copy
	blob  []byte
	ends  []rowEnds
}

// maxPresize bounds the buffer space a page reserves before it has read
// more than its first row; past it the buffers grow as rows come.
const maxPresize = 256 << 10

// rowEnds are the end offsets of one row's fields in the buffers.
type rowEnds struct{ origin, body, stanza int }

// intern returns b as a string, shared with earlier equal values.
func (sc *scanner) intern(b []byte) string {
	if sc.names == nil {
		sc.names = make(map[string]string)
	}
	if v, ok := sc.names[string(b)]; ok {
		return v
	}
	v := string(b)
	sc.names[v] = v
	return v
}

// scan reads the current row. Its OriginID, Body and Stanza are set by
// finish, which must see the scanned messages in scan order.
func (sc *scanner) scan(st *sqlite3.Stmt) storage.ArchivedMessage {
	m := storage.ArchivedMessage{
		ID:       st.ColumnInt64(0),
		Owner:    sc.owner,
		Outgoing: st.ColumnInt64(3) != 0,
		Stamp:    time.UnixMicro(st.ColumnInt64(4)).UTC(),
	}
	if w := st.ColumnRawText(1); string(w) != sc.with {
		sc.with = sc.intern(w)
	}
	m.With = sc.with
	if r := st.ColumnRawText(2); string(r) != sc.res {
		sc.res = sc.intern(r)
	}
	m.WithResource = sc.res
	origin, body, stanza := st.ColumnRawText(5), st.ColumnRawText(6), st.ColumnRawBlob(7)
	if sc.ends == nil {
		// Sized from the first row, within a bound: one big first stanza
		// must not reserve Limit times its size.
		n := max(sc.hint, 1)
		sc.ends = make([]rowEnds, 0, n)
		sc.text.Grow(min(n*(len(origin)+len(body)), maxPresize))
		sc.blob = make([]byte, 0, min(n*len(stanza), maxPresize))
	}
	sc.text.Write(origin)
	e := rowEnds{origin: sc.text.Len()}
	sc.text.Write(body)
	e.body = sc.text.Len()
	sc.blob = append(sc.blob, stanza...)
	e.stanza = len(sc.blob)
	sc.ends = append(sc.ends, e)
	return m
}

// finish sets the OriginID, Body and Stanza of the scanned messages ms.
func (sc *scanner) finish(ms []storage.ArchivedMessage) {
	text := sc.text.String()
	t, b := 0, 0
	for i, e := range sc.ends {
		ms[i].OriginID, ms[i].Body = text[t:e.origin], text[e.origin:e.body]
		if e.stanza > b {
			ms[i].Stanza = sc.blob[b:e.stanza:e.stanza]
		}
		t, b = e.body, e.stanza
	}
}

// scanOne reads the current row as a message of its own, without the
// page buffers.
func scanOne(st *sqlite3.Stmt, owner string) storage.ArchivedMessage {
	m := storage.ArchivedMessage{
		ID:           st.ColumnInt64(0),
		Owner:        owner,
		With:         st.ColumnText(1),
		WithResource: st.ColumnText(2),
		Outgoing:     st.ColumnInt64(3) != 0,
		Stamp:        time.UnixMicro(st.ColumnInt64(4)).UTC(),
		Body:         st.ColumnText(6),
		Stanza:       st.ColumnBlob(7, nil),
	}
	if st.ColumnType(5) != sqlite3.NULL {
		m.OriginID = st.ColumnText(5)
	}
	return m
}

// ---------------------------------------------------------------- append

// lastStamp returns the stamp of the newest stored archive item; writer
// goroutine only. The value is cached between appends and dropped by every
// delete and every failed operation.
func (s *Store) lastStamp(w *conn) (int64, error) {
	if s.wstampOK {
		return s.wstamp, nil
	}
	st, err := w.prep(`SELECT stamp FROM archive ORDER BY id DESC LIMIT 1`)
	if err != nil {
		return 0, err
	}
	defer st.Reset()
	s.wstamp = math.MinInt64
	if st.Step() {
		s.wstamp = st.ColumnInt64(0)
	} else if err := st.Err(); err != nil {
		return 0, err
	}
	s.wstampOK = true
	return s.wstamp, nil
}

type appended struct {
	id, stamp int64
	dup       bool // not stored: a resend of item id (AppendArchiveOnce)
}

// AppendArchive implements storage.Archive. The messages of one call are
// inserted in one transaction, usually shared with concurrent callers
// (group commit); it returns after COMMIT. On success it sets ID and Stamp
// (as stored: UTC, microseconds, clamped to be no earlier than the newest
// stored item) of every message; on error it changes nothing.
func (s *Store) AppendArchive(ctx context.Context, msgs []*storage.ArchivedMessage) error {
	_, err := s.appendArchive(ctx, msgs, false)
	return err
}

// AppendArchiveOnce is AppendArchive with the archive module's resend
// check done in the same transaction: a message with an OriginID is not
// stored again if the newest item of its owner with the same peer (With),
// direction and origin-id has the same Body; it gets that item's ID and
// Stamp instead, and dup reports which messages were such resends. Done
// here rather than by FindByOriginID before appending, the check costs
// an index seek on the writer's warm connection instead of a read
// transaction per archive, and two copies racing each other are stored
// once.
func (s *Store) AppendArchiveOnce(ctx context.Context, msgs []*storage.ArchivedMessage) (dup []bool, err error) {
	return s.appendArchive(ctx, msgs, true)
}

func (s *Store) appendArchive(ctx context.Context, msgs []*storage.ArchivedMessage, once bool) ([]bool, error) {
	for _, m := range msgs {
		if m == nil || m.Owner == "" {
			return nil, errEmptyOwner
		}
	}
	if len(msgs) == 0 {
		return nil, nil
	}
	now := time.Now().UnixMicro()
	res := make([]appended, len(msgs))
	err := s.writeBatchAtomic(ctx, func(w *conn) error { return s.appendOp(w, msgs, res, now, once) })
	if err != nil {
		return nil, err
	}
	var dup []bool
	if once {
		dup = make([]bool, len(msgs))
	}
	for i, m := range msgs {
		m.ID = res[i].id
		m.Stamp = time.UnixMicro(res[i].stamp).UTC()
		if once {
			dup[i] = res[i].dup
		}
	}
	return dup, nil
}

// resendSQL finds the newest item a resend would duplicate, with a seek on
// archive_origin_key (originkey.go).
const resendSQL = `SELECT id, stamp, body FROM archive INDEXED BY archive_origin_key
	WHERE origin_key=?1 AND owner=?2 AND with_jid=?3 AND origin_id=?4 AND outgoing=?5 ORDER BY id DESC LIMIT 1`

// findResend looks for the item m would duplicate (see AppendArchiveOnce);
// key is m's originKey.
func findResend(w *conn, m *storage.ArchivedMessage, key int64) (appended, bool, error) {
	st, err := w.prep(resendSQL)
	if err != nil {
		return appended{}, false, err
	}
	defer st.Reset()
	if err := errors.Join(st.BindInt64(1, key), st.BindText(2, m.Owner), st.BindText(3, m.With),
		st.BindText(4, m.OriginID), st.BindBool(5, m.Outgoing)); err != nil {
		return appended{}, false, err
	}
	if !st.Step() {
		return appended{}, false, st.Err()
	}
	if st.ColumnText(2) != m.Body {
		return appended{}, false, nil
	}
	return appended{id: st.ColumnInt64(0), stamp: st.ColumnInt64(1), dup: true}, true, nil
}

func (s *Store) appendOp(w *conn, msgs []*storage.ArchivedMessage, res []appended, now int64, once bool) error {
	last, err := s.lastStamp(w)
	if err != nil {
		return err
	}
	ins, err := w.prep(`INSERT INTO archive(owner, with_jid, with_resource, outgoing, stamp, origin_id, body, stanza, origin_key)
		VALUES(?,?,?,?,?,?,?,?,?)`)
	if err != nil {
		return err
	}
	for i, m := range msgs {
		// The origin key, hashed once per row for the resend check and
		// the insert; NULL (not indexed) without an origin-id.
		var key int64
		hasKey := m.OriginID != ""
		if hasKey {
			key = originKey(m.Owner, m.With, m.Outgoing, m.OriginID)
		}
		if once && hasKey {
			prev, found, err := findResend(w, m, key)
			if err != nil {
				return err
			}
			if found {
				res[i] = prev
				continue
			}
		}
		us := now
		if !m.Stamp.IsZero() {
			us = m.Stamp.UnixMicro()
		}
		us = max(us, last)
		err := errors.Join(
			ins.BindText(1, m.Owner),
			ins.BindText(2, m.With),
			ins.BindText(3, m.WithResource),
			ins.BindBool(4, m.Outgoing),
			ins.BindInt64(5, us),
			bindOptText(ins, 6, m.OriginID),
			ins.BindText(7, m.Body),
			ins.BindBlob(8, nonNil(m.Stanza)),
			bindOriginKey(ins, 9, key, hasKey),
		)
		if err == nil {
			err = ins.Exec()
		}
		if err != nil {
			ins.Reset()
			return err
		}
		res[i] = appended{id: w.db.LastInsertRowID(), stamp: us}
		last = us
	}
	for i, m := range msgs {
		if !res[i].dup {
			s.counts.add(m.Owner, 1)
		}
	}
	s.wstamp, s.wstampOK = last, true
	// The full-text indexer picks the rows up later (fulltext_index.go).
	s.index.behind = true
	s.index.high = max(s.index.high, w.db.LastInsertRowID())
	return nil
}

func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// bindOriginKey binds an origin_key, NULL when the row has none.
func bindOriginKey(st *sqlite3.Stmt, i int, key int64, ok bool) error {
	if !ok {
		return st.BindNull(i)
	}
	return st.BindInt64(i, key)
}

func bindOptText(st *sqlite3.Stmt, i int, v string) error {
	if v == "" {
		return st.BindNull(i)
	}
	return st.BindText(i, v)
}
