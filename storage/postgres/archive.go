package postgres

import (
	"context"
	"errors"
	"math"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/skald-xmpp/skald/storage"
)

var errEmptyOwner = errors.New("storage/postgres: empty owner")

// appended is what the writer reports for one message.
type appended struct {
	id, stamp int64
	dup       bool // not stored: a resend of item id (AppendArchiveOnce)
}

// AppendArchive implements storage.Archive. The messages of one call are
// inserted in one transaction, usually shared with concurrent callers
// (group commit); it returns once that transaction has committed with
// synchronous_commit on. On success it sets ID and Stamp (as stored: UTC,
// microseconds, clamped to be no earlier than the newest stored item) of
// every message; on error it changes nothing.
func (s *Store) AppendArchive(ctx context.Context, msgs []*storage.ArchivedMessage) error {
	_, err := s.appendArchive(ctx, msgs, false)
	return err
}

// AppendArchiveOnce is AppendArchive with the archive module's resend
// check (package mam's onceAppender) done in the append transaction, under
// the archive lock: a message with an OriginID is not stored again if the
// newest item of its owner with the same peer (With), direction and
// origin-id has the same Body; it gets that item's ID and Stamp instead,
// and dup reports which messages were such resends. Two copies racing
// each other, even from two processes, are stored once.
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
	req := &appendReq{ctx: ctx, msgs: msgs, once: once, stamps: make([]int64, len(msgs)), res: make([]appended, len(msgs)), done: make(chan error, 1)}
	now := time.Now().UnixMicro()
	for i, m := range msgs {
		req.stamps[i] = now
		if !m.Stamp.IsZero() {
			req.stamps[i] = m.Stamp.UnixMicro()
		}
	}
	if err := s.submit(req); err != nil {
		return nil, err
	}
	var dup []bool
	if once {
		dup = make([]bool, len(msgs))
	}
	for i, m := range msgs {
		m.ID = req.res[i].id
		m.Stamp = time.UnixMicro(req.res[i].stamp).UTC()
		if once {
			dup[i] = req.res[i].dup
		}
	}
	return dup, nil
}

// resendSQL finds, for each (owner, with, origin-id, direction) of the
// arrays, the newest item a resend would duplicate: a seek on
// archive_origin each.
const resendSQL = `SELECT r.k, a.id, a.stamp, a.body
	FROM unnest($1::text[], $2::text[], $3::text[], $4::boolean[]) WITH ORDINALITY AS r(owner, with_jid, origin_id, outgoing, k)
	CROSS JOIN LATERAL (SELECT id, stamp, body FROM archive
		WHERE owner = r.owner AND with_jid = r.with_jid AND origin_id = r.origin_id AND outgoing = r.outgoing
		ORDER BY owner DESC, with_jid DESC, origin_id DESC, id DESC LIMIT 1) a`

const insertSQL = `INSERT INTO archive (id, owner, with_jid, with_resource, outgoing, stamp, origin_id, body, stanza, body_fold)
	SELECT id, owner, w, r, o, st, nullif(oi, ''), b, z, f
	FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::boolean[], $6::bigint[], $7::text[], $8::text[], $9::bytea[], $10::text[])
		AS t(id, owner, w, r, o, st, oi, b, z, f)`

// originKey identifies the items a resend check compares.
type originKey struct {
	owner, with, origin string
	outgoing            bool
}

type prevItem struct {
	appended
	body string
}

// appendBatch appends the messages of reqs in one transaction, in request
// and slice order, and fills each request's res. Two round trips between
// BEGIN and COMMIT: the archive lock, the newest stamp, the ids and the resend
// checks are pipelined in the first, the rows and the counts in the
// second.
//
// Invariant (doc.go): ids are taken from archive_id_seq only after the
// archive lock, which is held until COMMIT, so every id is higher than
// every id of every transaction that committed before, in any process.
func (s *Store) appendBatch(ctx context.Context, reqs []*appendReq) error {
	n := 0
	var keys struct {
		owner, with, origin []string
		out                 []bool
		at                  [][2]int // request, message
	}
	for i, r := range reqs {
		n += len(r.msgs)
		if !r.once {
			continue
		}
		for j, m := range r.msgs {
			if m.OriginID != "" {
				keys.owner = append(keys.owner, m.Owner)
				keys.with = append(keys.with, m.With)
				keys.origin = append(keys.origin, m.OriginID)
				keys.out = append(keys.out, m.Outgoing)
				keys.at = append(keys.at, [2]int{i, j})
			}
		}
	}
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		b := &pgx.Batch{}
		b.Queue(`SELECT pg_advisory_xact_lock($1, $2)`, lockArchive, s.lockKey)
		b.Queue(`SELECT stamp FROM archive ORDER BY id DESC LIMIT 1`)
		b.Queue(`SELECT nextval('archive_id_seq') FROM generate_series(1, $1)`, n)
		if len(keys.at) > 0 {
			b.Queue(resendSQL, keys.owner, keys.with, keys.origin, keys.out)
		}
		br := tx.SendBatch(ctx, b)
		last, ids, prev, err := readFirstRound(br, len(keys.at))
		if cerr := br.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
		slices.Sort(ids) // nextval's row order is not promised; the values are ours alone
		prevOf := make(map[[2]int]prevItem, len(prev))
		for k, p := range prev {
			prevOf[keys.at[k]] = p
		}

		rows := newRowArrays(n)
		counts := make(map[string]int64)
		batchNewest := make(map[originKey]prevItem) // items of this transaction, newer than prev
		for i, r := range reqs {
			for j, m := range r.msgs {
				key := originKey{m.Owner, m.With, m.OriginID, m.Outgoing}
				if r.once && m.OriginID != "" {
					p, ok := batchNewest[key]
					if !ok {
						p, ok = prevOf[[2]int{i, j}]
					}
					if ok && p.body == m.Body {
						r.res[j] = appended{id: p.id, stamp: p.stamp, dup: true}
						continue
					}
				}
				id := ids[0]
				ids = ids[1:]
				stamp := max(r.stamps[j], last)
				last = stamp
				r.res[j] = appended{id: id, stamp: stamp}
				rows.add(id, stamp, m)
				counts[m.Owner]++
				if m.OriginID != "" {
					batchNewest[key] = prevItem{r.res[j], m.Body}
				}
			}
		}
		if len(rows.id) == 0 {
			return nil
		}
		b = &pgx.Batch{}
		b.Queue(insertSQL, rows.id, rows.owner, rows.with, rows.res, rows.out, rows.stamp, rows.origin, rows.body, rows.stanza, rows.fold)
		queueCounts(b, counts)
		return tx.SendBatch(ctx, b).Close()
	})
}

// readFirstRound reads the answers of appendBatch's first round trip: the
// newest stamp (MinInt64 for an empty archive), the ids and the newest
// item per resend key (by its position in the key arrays).
func readFirstRound(br pgx.BatchResults, nkeys int) (last int64, ids []int64, prev map[int]prevItem, err error) {
	if _, err = br.Exec(); err != nil {
		return
	}
	last = math.MinInt64
	if err = br.QueryRow().Scan(&last); errors.Is(err, pgx.ErrNoRows) {
		err = nil
	} else if err != nil {
		return
	}
	rows, err := br.Query()
	if err != nil {
		return
	}
	if ids, err = pgx.CollectRows(rows, pgx.RowTo[int64]); err != nil {
		return
	}
	if nkeys == 0 {
		return
	}
	prev = make(map[int]prevItem)
	rows, err = br.Query()
	if err != nil {
		return
	}
	var k int
	var p prevItem
	_, err = pgx.ForEachRow(rows, []any{&k, &p.id, &p.stamp, &p.body}, func() error {
		prev[k-1] = p // ordinality counts from 1
		return nil
	})
	return
}

// rowArrays are the columns of the rows to insert, one array each,
// bound to insertSQL's unnest.
type rowArrays struct {
	id, stamp                      []int64
	owner, with, res, origin, body []string
	fold                           []string // storage.FoldText(body), for text search
	out                            []bool
	stanza                         [][]byte
}

func newRowArrays(n int) *rowArrays {
	return &rowArrays{
		id: make([]int64, 0, n), stamp: make([]int64, 0, n),
		owner: make([]string, 0, n), with: make([]string, 0, n), res: make([]string, 0, n),
		origin: make([]string, 0, n), body: make([]string, 0, n), fold: make([]string, 0, n),
		out: make([]bool, 0, n), stanza: make([][]byte, 0, n),
	}
}

func (a *rowArrays) add(id, stamp int64, m *storage.ArchivedMessage) {
	a.id = append(a.id, id)
	a.stamp = append(a.stamp, stamp)
	a.owner = append(a.owner, m.Owner)
	a.with = append(a.with, m.With)
	a.res = append(a.res, m.WithResource)
	a.origin = append(a.origin, m.OriginID)
	a.body = append(a.body, m.Body)
	a.fold = append(a.fold, storage.FoldText(m.Body))
	a.out = append(a.out, m.Outgoing)
	stanza := m.Stanza
	if stanza == nil {
		stanza = []byte{} // NOT NULL
	}
	a.stanza = append(a.stanza, stanza)
}

// queueCounts queues the statements adding deltas (may be negative) to
// the owners' maintained item counts, in owner order, and dropping the
// counts that reach zero. Callers hold the archive lock.
func queueCounts(b *pgx.Batch, deltas map[string]int64) {
	if len(deltas) == 0 {
		return
	}
	owners := make([]string, 0, len(deltas))
	for o := range deltas {
		owners = append(owners, o)
	}
	slices.Sort(owners)
	ns := make([]int64, len(owners))
	neg := false
	for i, o := range owners {
		ns[i] = deltas[o]
		neg = neg || ns[i] < 0
	}
	b.Queue(`INSERT INTO archive_count (owner, n) SELECT * FROM unnest($1::text[], $2::bigint[])
		ON CONFLICT (owner) DO UPDATE SET n = archive_count.n + excluded.n`, owners, ns)
	if neg {
		b.Queue(`DELETE FROM archive_count WHERE owner = ANY($1) AND n <= 0`, owners)
	}
}
