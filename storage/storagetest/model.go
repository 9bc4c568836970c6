package storagetest

import (
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/skald-xmpp/skald/storage"
)

// ModelConfig configures RunModel. Zero fields take defaults, which the
// environment variables SKALD_MODEL_SEED and SKALD_MODEL_OPS override.
type ModelConfig struct {
	Seeds []uint64 // one run per seed (default 1, 2, 3)
	Ops   int      // operations per run (default 2000 in all, split over the seeds)
}

// RunModel applies seeded random operation sequences to a fresh store and
// to a reference model and fails at the first answer that differs.
func RunModel(t *testing.T, newStore func(t *testing.T) storage.Store, cfg ModelConfig) {
	if len(cfg.Seeds) == 0 {
		cfg.Seeds = []uint64{1, 2, 3}
	}
	if v := os.Getenv("SKALD_MODEL_SEED"); v != "" {
		seed, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("SKALD_MODEL_SEED: %v", err)
		}
		cfg.Seeds = []uint64{seed}
	}
	if cfg.Ops <= 0 {
		cfg.Ops = 2000 / len(cfg.Seeds)
	}
	if v := os.Getenv("SKALD_MODEL_OPS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			t.Fatalf("SKALD_MODEL_OPS: %v", err)
		}
		cfg.Ops = n
	}
	for _, seed := range cfg.Seeds {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			r := &modelRun{
				t:   t,
				s:   newStore(t),
				rnd: rand.New(rand.NewPCG(seed, seed^0x5eed)),
				now: t0,
			}
			for r.step = 0; r.step < cfg.Ops; r.step++ {
				r.op()
			}
			r.checkAll()
			t.Logf("seed %d: %d ops (%d appends, %d queries, %d deletes); %d items left, max id %d",
				seed, cfg.Ops, r.nAppend, r.nQuery, r.nDelete, len(r.items), r.maxID)
		})
	}
}

// The reference model: every stored item of every owner, in id order.
type modelRun struct {
	t     *testing.T
	s     storage.Store
	rnd   *rand.Rand
	step  int
	items []storage.ArchivedMessage
	maxID int64     // highest id the store ever handed out
	now   time.Time // the simulated wall clock
	// Stamps handed to the store, kept to pick interesting bounds.
	stamps []time.Time

	nAppend, nQuery, nDelete int
}

var (
	modelOwners    = []string{alice, room, "eve@example.org"}
	modelPeers     = []string{bob, carl, dave, "erin@example.org"}
	modelResources = []string{"", "", "r1", "r2"}
	modelOrigins   = []string{"", "", "", "o1", "o2", "o3"}
)

func pick[T any](r *rand.Rand, v []T) T { return v[r.IntN(len(v))] }

func (r *modelRun) fatalf(format string, args ...any) {
	r.t.Helper()
	r.t.Fatalf("step %d: "+format, append([]any{r.step}, args...)...)
}

func (r *modelRun) op() {
	r.t.Helper()
	switch n := r.rnd.IntN(100); {
	case n < 45:
		r.opAppend()
	case n < 73:
		r.opQuery()
	case n < 79:
		r.opPaging()
	case n < 85:
		r.opCount()
	case n < 87:
		r.opBounds()
	case n < 90:
		r.opIDsExist()
	case n < 93:
		r.opFind()
	case n < 95:
		r.opPurge()
	case n < 97:
		r.opTrim()
	case n < 99:
		r.opExpire()
	default:
		r.opStats()
	}
}

// ---------------------------------------------------------------- model

func truncUS(t time.Time) time.Time { return time.UnixMicro(t.UnixMicro()).UTC() }

// lastStamp is the stamp of the newest item still stored.
func (r *modelRun) lastStamp() (time.Time, bool) {
	if len(r.items) == 0 {
		return time.Time{}, false
	}
	return r.items[len(r.items)-1].Stamp, true
}

// match reports whether m is in q's range: what QueryArchive pages through
// and CountArchive counts (Limit and Last aside).
func (r *modelRun) match(m storage.ArchivedMessage, q storage.ArchiveQuery) bool {
	if m.Owner != q.Owner {
		return false
	}
	if q.With != "" && (m.With != q.With || (q.WithResource != "" && m.WithResource != q.WithResource)) {
		return false
	}
	if !q.Start.IsZero() && m.Stamp.Before(q.Start) {
		return false
	}
	if !q.End.IsZero() && m.Stamp.After(q.End) {
		return false
	}
	if len(q.IDs) > 0 && !slices.Contains(q.IDs, m.ID) {
		return false
	}
	if q.AfterID != 0 && m.ID <= q.AfterID {
		return false
	}
	if q.BeforeID != 0 && m.ID >= q.BeforeID {
		return false
	}
	return true
}

func (r *modelRun) query(q storage.ArchiveQuery) storage.ArchivePage {
	var all []storage.ArchivedMessage
	for _, m := range r.items {
		if r.match(m, q) {
			all = append(all, m)
		}
	}
	if q.Limit <= 0 || len(all) <= q.Limit {
		return storage.ArchivePage{Messages: all, Complete: true}
	}
	if q.Last {
		return storage.ArchivePage{Messages: all[len(all)-q.Limit:]}
	}
	return storage.ArchivePage{Messages: all[:q.Limit]}
}

func (r *modelRun) deleteWhere(del func(m storage.ArchivedMessage) bool) int {
	n := len(r.items)
	r.items = slices.DeleteFunc(r.items, del)
	return n - len(r.items)
}

// ---------------------------------------------------------------- random values

func (r *modelRun) owner() string { return pick(r.rnd, modelOwners) }

// stamp picks a query bound near an interesting time: an existing or past
// stamp, nudged by nothing, a nanosecond or a microsecond either way.
func (r *modelRun) stamp() time.Time {
	var base time.Time
	switch {
	case len(r.stamps) == 0 || r.rnd.IntN(10) == 0:
		base = t0.Add(time.Duration(r.rnd.Int64N(max(int64(r.now.Sub(t0)+time.Minute), 1))) - 30*time.Second)
	case len(r.items) > 0 && r.rnd.IntN(2) == 0:
		base = pick(r.rnd, r.items).Stamp
	default:
		base = pick(r.rnd, r.stamps)
	}
	return base.Add(pick(r.rnd, []time.Duration{0, 0, 0, 1, -1, time.Microsecond, -time.Microsecond, 500}))
}

// id picks an id near an existing one, or one that exists nowhere.
func (r *modelRun) id() int64 {
	if len(r.items) == 0 || r.rnd.IntN(8) == 0 {
		return r.rnd.Int64N(r.maxID+3) - 1
	}
	return pick(r.rnd, r.items).ID + pick(r.rnd, []int64{0, 0, 0, 1, -1})
}

func (r *modelRun) randomQuery() storage.ArchiveQuery {
	q := storage.ArchiveQuery{Owner: r.owner()}
	if r.rnd.IntN(3) == 0 {
		q.With = pick(r.rnd, modelPeers)
		if r.rnd.IntN(2) == 0 {
			q.WithResource = pick(r.rnd, modelResources)
		}
	} else if r.rnd.IntN(10) == 0 {
		q.WithResource = "r1" // ignored without With
	}
	if r.rnd.IntN(3) == 0 {
		q.Start = r.stamp()
	}
	if r.rnd.IntN(3) == 0 {
		q.End = r.stamp()
		if !q.Start.IsZero() && q.End.Before(q.Start) && r.rnd.IntN(4) != 0 {
			q.Start, q.End = q.End, q.Start
		}
	}
	if r.rnd.IntN(3) == 0 {
		q.AfterID = r.id()
	}
	if r.rnd.IntN(3) == 0 {
		q.BeforeID = r.id()
	}
	if r.rnd.IntN(8) == 0 {
		for range 1 + r.rnd.IntN(6) {
			q.IDs = append(q.IDs, r.id())
		}
	}
	if r.rnd.IntN(6) != 0 {
		q.Limit = 1 + r.rnd.IntN(12)
	}
	q.Last = r.rnd.IntN(2) == 0
	return q
}

// ---------------------------------------------------------------- operations

func (r *modelRun) opAppend() {
	r.nAppend++
	// The clock mostly moves forward, sometimes stands still and
	// sometimes steps back.
	switch n := r.rnd.IntN(20); {
	case n == 0:
		r.now = r.now.Add(-time.Duration(r.rnd.Int64N(int64(5 * time.Second))))
	case n < 3:
	default:
		r.now = r.now.Add(time.Duration(r.rnd.Int64N(int64(3 * time.Second))))
	}
	var msgs []*storage.ArchivedMessage
	for range 1 + r.rnd.IntN(3)*r.rnd.IntN(2) {
		st := r.now.Add(time.Duration(r.rnd.IntN(2000)))
		m := &storage.ArchivedMessage{
			Owner:        r.owner(),
			With:         pick(r.rnd, modelPeers),
			WithResource: pick(r.rnd, modelResources),
			Outgoing:     r.rnd.IntN(2) == 0,
			Stamp:        st,
			OriginID:     pick(r.rnd, modelOrigins),
			Body:         fmt.Sprintf("m%d", r.step),
			Stanza:       fmt.Appendf(nil, "<message id='%d'/>", r.step),
		}
		msgs = append(msgs, m)
		r.stamps = append(r.stamps, st)
	}
	want := make([]storage.ArchivedMessage, len(msgs))
	for i, m := range msgs {
		want[i] = *m
	}
	if err := r.s.AppendArchive(bg, msgs); err != nil {
		r.fatalf("AppendArchive: %v", err)
	}
	for i, m := range msgs {
		if m.ID <= r.maxID {
			r.fatalf("AppendArchive gave id %d, not above %d", m.ID, r.maxID)
		}
		r.maxID = m.ID
		w := want[i]
		w.ID = m.ID
		w.Stamp = truncUS(w.Stamp)
		if last, ok := r.lastStamp(); ok && w.Stamp.Before(last) {
			w.Stamp = last
		}
		if !m.Stamp.Equal(w.Stamp) || m.Stamp.Location() != time.UTC {
			r.fatalf("AppendArchive stamped %v, model says %v", m.Stamp, w.Stamp)
		}
		r.items = append(r.items, w)
	}
}

func (r *modelRun) comparePage(what string, q storage.ArchiveQuery, got, want storage.ArchivePage) {
	r.t.Helper()
	if !slices.Equal(ids(got.Messages), ids(want.Messages)) || got.Complete != want.Complete {
		r.fatalf("%s %+v:\n got  %v complete=%v\n want %v complete=%v",
			what, q, ids(got.Messages), got.Complete, ids(want.Messages), want.Complete)
	}
	for i := range got.Messages {
		if d := msgDiff(got.Messages[i], want.Messages[i]); d != "" {
			r.fatalf("%s %+v: message %d: %s", what, q, i, d)
		}
	}
}

func (r *modelRun) opQuery() {
	r.nQuery++
	q := r.randomQuery()
	got, err := r.s.QueryArchive(bg, q)
	if err != nil {
		r.fatalf("QueryArchive(%+v): %v", q, err)
	}
	r.comparePage("QueryArchive", q, got, r.query(q))
}

// opPaging pages through a random range to its end, each page checked.
func (r *modelRun) opPaging() {
	r.nQuery++
	q := r.randomQuery()
	q.AfterID, q.BeforeID = 0, 0
	q.Limit = 1 + r.rnd.IntN(6)
	for range 200 {
		got, err := r.s.QueryArchive(bg, q)
		if err != nil {
			r.fatalf("QueryArchive(%+v): %v", q, err)
		}
		r.comparePage("paging", q, got, r.query(q))
		if got.Complete {
			return
		}
		if q.Last {
			q.BeforeID = got.Messages[0].ID
		} else {
			q.AfterID = got.Messages[len(got.Messages)-1].ID
		}
	}
	r.fatalf("paging %+v did not finish", q)
}

func (r *modelRun) opCount() {
	r.nQuery++
	q := r.randomQuery()
	max := r.rnd.IntN(15) - 2
	got, err := r.s.CountArchive(bg, q, max)
	if err != nil {
		r.fatalf("CountArchive: %v", err)
	}
	want := 0
	for _, m := range r.items {
		if r.match(m, q) {
			want++
		}
	}
	if max > 0 {
		want = min(want, max)
	}
	if got != want {
		r.fatalf("CountArchive(%+v, %d) = %d, model %d", q, max, got, want)
	}
}

func (r *modelRun) opBounds() {
	r.nQuery++
	owner := r.owner()
	first, last, ok, err := r.s.ArchiveBounds(bg, owner)
	if err != nil {
		r.fatalf("ArchiveBounds: %v", err)
	}
	var mine []storage.ArchivedMessage
	for _, m := range r.items {
		if m.Owner == owner {
			mine = append(mine, m)
		}
	}
	if ok != (len(mine) > 0) {
		r.fatalf("ArchiveBounds(%s): ok=%v with %d items", owner, ok, len(mine))
	}
	if ok {
		if d := msgDiff(first, mine[0]); d != "" {
			r.fatalf("ArchiveBounds(%s) first: %s", owner, d)
		}
		if d := msgDiff(last, mine[len(mine)-1]); d != "" {
			r.fatalf("ArchiveBounds(%s) last: %s", owner, d)
		}
	}
}

func (r *modelRun) opIDsExist() {
	r.nQuery++
	owner := r.owner()
	var req []int64
	for range r.rnd.IntN(8) {
		req = append(req, r.id())
	}
	got, err := r.s.ArchiveIDsExist(bg, owner, req)
	if err != nil {
		r.fatalf("ArchiveIDsExist: %v", err)
	}
	for _, id := range req {
		want := slices.ContainsFunc(r.items, func(m storage.ArchivedMessage) bool { return m.ID == id && m.Owner == owner })
		if got[id] != want {
			r.fatalf("ArchiveIDsExist(%s, %d) = %v, model %v", owner, id, got[id], want)
		}
	}
}

func (r *modelRun) opFind() {
	r.nQuery++
	owner, with, out, origin := r.owner(), pick(r.rnd, modelPeers), r.rnd.IntN(2) == 0, pick(r.rnd, modelOrigins)
	got, ok, err := r.s.FindByOriginID(bg, owner, with, out, origin)
	if err != nil {
		r.fatalf("FindByOriginID: %v", err)
	}
	var want *storage.ArchivedMessage
	for i := len(r.items) - 1; i >= 0 && origin != ""; i-- {
		if m := r.items[i]; m.Owner == owner && m.With == with && m.Outgoing == out && m.OriginID == origin {
			want = &r.items[i]
			break
		}
	}
	if ok != (want != nil) {
		r.fatalf("FindByOriginID(%s, %s, %v, %q): ok=%v, model %v", owner, with, out, origin, ok, want != nil)
	}
	if ok {
		if d := msgDiff(got, *want); d != "" {
			r.fatalf("FindByOriginID(%s, %s, %v, %q): %s", owner, with, out, origin, d)
		}
	}
}

func (r *modelRun) opPurge() {
	r.nDelete++
	owner := r.owner()
	var with string
	var before time.Time
	if r.rnd.IntN(2) == 0 {
		with = pick(r.rnd, modelPeers)
	}
	if with == "" || r.rnd.IntN(2) == 0 {
		before = r.stamp()
	}
	if r.rnd.IntN(10) == 0 {
		with, before = "", time.Time{} // everything
	}
	got, err := r.s.PurgeArchive(bg, owner, with, before)
	if err != nil {
		r.fatalf("PurgeArchive: %v", err)
	}
	want := r.deleteWhere(func(m storage.ArchivedMessage) bool {
		return m.Owner == owner && (with == "" || m.With == with) && (before.IsZero() || m.Stamp.Before(before))
	})
	if got != want {
		r.fatalf("PurgeArchive(%s, %q, %v) = %d, model %d", owner, with, before, got, want)
	}
}

func (r *modelRun) opTrim() {
	r.nDelete++
	owner := r.owner()
	keep := r.rnd.IntN(60) - 2
	got, err := r.s.TrimArchive(bg, owner, keep)
	if err != nil {
		r.fatalf("TrimArchive: %v", err)
	}
	have := 0
	for _, m := range r.items {
		if m.Owner == owner {
			have++
		}
	}
	excess := have - max(keep, 0)
	want := r.deleteWhere(func(m storage.ArchivedMessage) bool {
		if m.Owner == owner && excess > 0 {
			excess--
			return true
		}
		return false
	})
	if got != want {
		r.fatalf("TrimArchive(%s, %d) = %d, model %d", owner, keep, got, want)
	}
}

func (r *modelRun) opExpire() {
	r.nDelete++
	before := r.stamp()
	if len(r.items) > 0 && r.rnd.IntN(4) != 0 {
		// Mostly expire the older part of the store, as a retention job does.
		before = r.items[r.rnd.IntN(len(r.items)/3+1)].Stamp.Add(pick(r.rnd, []time.Duration{0, 1, -1, time.Microsecond}))
	}
	batch := r.rnd.IntN(12) - 2
	got, err := r.s.ExpireArchive(bg, before, batch)
	if err != nil {
		r.fatalf("ExpireArchive: %v", err)
	}
	left := batch
	want := r.deleteWhere(func(m storage.ArchivedMessage) bool {
		if m.Stamp.Before(before) && (batch <= 0 || left > 0) {
			left--
			return true
		}
		return false
	})
	if got != want {
		r.fatalf("ExpireArchive(%v, %d) = %d, model %d", before, batch, got, want)
	}
}

func (r *modelRun) opStats() {
	r.nQuery++
	owner := ""
	if r.rnd.IntN(2) == 0 {
		owner = r.owner()
	}
	got, err := r.s.ArchiveStats(bg, owner)
	if err != nil {
		r.fatalf("ArchiveStats: %v", err)
	}
	want := make(map[string]int)
	if owner != "" {
		want[owner] = 0
	}
	for _, m := range r.items {
		if owner == "" || m.Owner == owner {
			want[m.Owner]++
		}
	}
	if len(got) != len(want) {
		r.fatalf("ArchiveStats(%q) = %v, model %v", owner, got, want)
	}
	for k, v := range want {
		if got[k] != v {
			r.fatalf("ArchiveStats(%q) = %v, model %v", owner, got, want)
		}
	}
}

// checkAll compares every owner's whole archive at the end of a run.
func (r *modelRun) checkAll() {
	for _, o := range modelOwners {
		q := storage.ArchiveQuery{Owner: o}
		got, err := r.s.QueryArchive(bg, q)
		if err != nil {
			r.fatalf("QueryArchive: %v", err)
		}
		r.comparePage("final", q, got, r.query(q))
	}
}
