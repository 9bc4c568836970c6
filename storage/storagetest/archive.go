package storagetest

import (
	"bytes"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/skald-xmpp/skald/storage"
)

var t0 = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)

const (
	alice = "alice@example.org"
	room  = "room@muc.example.org"
	bob   = "bob@example.net"
	carl  = "carl@example.net"
	dave  = "dave@example.com"
)

var seq atomic.Int64

func msg(owner, with string, stamp time.Time) *storage.ArchivedMessage {
	n := strconv.FormatInt(seq.Add(1), 10)
	return &storage.ArchivedMessage{
		Owner:  owner,
		With:   with,
		Stamp:  stamp,
		Body:   "body " + n,
		Stanza: []byte("<message xmlns='jabber:client' id='" + n + "'><body>body " + n + "</body></message>"),
	}
}

func appendMsgs(t *testing.T, s storage.Store, msgs ...*storage.ArchivedMessage) {
	t.Helper()
	must(t, s.AppendArchive(bg, msgs))
}

// appendN appends n messages to owner's archive, one second apart from
// start, and returns them.
func appendN(t *testing.T, s storage.Store, owner string, n int, start time.Time) []*storage.ArchivedMessage {
	t.Helper()
	var ms []*storage.ArchivedMessage
	for i := range n {
		ms = append(ms, msg(owner, bob, start.Add(time.Duration(i)*time.Second)))
	}
	appendMsgs(t, s, ms...)
	return ms
}

func query(t *testing.T, s storage.Store, q storage.ArchiveQuery) storage.ArchivePage {
	t.Helper()
	p, err := s.QueryArchive(bg, q)
	must(t, err)
	return p
}

func ids(ms []storage.ArchivedMessage) []int64 {
	out := make([]int64, len(ms))
	for i, m := range ms {
		out[i] = m.ID
	}
	return out
}

// msgDiff describes how got differs from want, "" if it does not.
func msgDiff(got, want storage.ArchivedMessage) string {
	var d []string
	if got.ID != want.ID {
		d = append(d, fmt.Sprintf("ID %d != %d", got.ID, want.ID))
	}
	if got.Owner != want.Owner {
		d = append(d, fmt.Sprintf("Owner %q != %q", got.Owner, want.Owner))
	}
	if got.With != want.With || got.WithResource != want.WithResource {
		d = append(d, fmt.Sprintf("With %q/%q != %q/%q", got.With, got.WithResource, want.With, want.WithResource))
	}
	if got.Outgoing != want.Outgoing {
		d = append(d, fmt.Sprintf("Outgoing %v != %v", got.Outgoing, want.Outgoing))
	}
	if !got.Stamp.Equal(want.Stamp) || got.Stamp.Location() != time.UTC {
		d = append(d, fmt.Sprintf("Stamp %v != %v (UTC)", got.Stamp, want.Stamp))
	}
	if got.OriginID != want.OriginID {
		d = append(d, fmt.Sprintf("OriginID %q != %q", got.OriginID, want.OriginID))
	}
	if got.Body != want.Body {
		d = append(d, fmt.Sprintf("Body %q != %q", got.Body, want.Body))
	}
	if !bytes.Equal(got.Stanza, want.Stanza) {
		d = append(d, fmt.Sprintf("Stanza %q != %q", got.Stanza, want.Stanza))
	}
	if d == nil {
		return ""
	}
	return fmt.Sprint(d)
}

// ---------------------------------------------------------------- append

func testAppendIDs(t *testing.T, s storage.Store) {
	var all []*storage.ArchivedMessage
	// Single and multi-message calls, several owners in one call.
	for i := range 6 {
		batch := []*storage.ArchivedMessage{msg(alice, bob, t0.Add(time.Duration(i)*time.Second))}
		if i%2 == 1 {
			batch = append(batch, msg(room, carl, t0.Add(time.Duration(i)*time.Second)), msg(alice, carl, t0.Add(time.Duration(i)*time.Second)))
		}
		appendMsgs(t, s, batch...)
		all = append(all, batch...)
	}
	for i, m := range all {
		if m.ID <= 0 {
			t.Fatalf("message %d got id %d", i, m.ID)
		}
		if i > 0 && m.ID <= all[i-1].ID {
			t.Fatalf("ids not increasing in append order: %d after %d", m.ID, all[i-1].ID)
		}
	}
	n, err := s.CountArchive(bg, storage.ArchiveQuery{Owner: alice}, 0)
	must(t, err)
	if n != 9 {
		t.Fatalf("alice has %d items, want 9", n)
	}
	must(t, s.AppendArchive(bg, nil)) // no-op
}

func testAppendRoundtrip(t *testing.T, s storage.Store) {
	in := []*storage.ArchivedMessage{
		{Owner: alice, With: bob, WithResource: "phone", Outgoing: true,
			Stamp:    time.Date(2025, 3, 4, 5, 6, 7, 891234567, time.FixedZone("CET", 3600)),
			OriginID: "origin-1", Body: "héllo <world> & \"friends\"", Stanza: []byte("<message><body>héllo</body></message>")},
		{Owner: alice, With: carl, Stamp: t0.Add(365 * 24 * time.Hour), Stanza: []byte{}},
		{Owner: alice, With: "", Stamp: t0.Add(366 * 24 * time.Hour), Body: "no peer"},
	}
	want := make([]storage.ArchivedMessage, len(in))
	for i, m := range in {
		want[i] = *m
		want[i].Stanza = slices.Clone(m.Stanza)
	}
	appendMsgs(t, s, in...)
	in[0].Stanza[0] = 'X' // the store must have copied
	for i := range want {
		want[i].ID = in[i].ID
		want[i].Stamp = want[i].Stamp.Truncate(time.Microsecond).UTC()
		if !in[i].Stamp.Equal(want[i].Stamp) || in[i].Stamp.Location() != time.UTC {
			t.Errorf("AppendArchive set Stamp %v, want %v (UTC, µs)", in[i].Stamp, want[i].Stamp)
		}
	}
	p := query(t, s, storage.ArchiveQuery{Owner: alice})
	if len(p.Messages) != len(want) || !p.Complete {
		t.Fatalf("got %d messages (complete %v), want %d", len(p.Messages), p.Complete, len(want))
	}
	for i := range want {
		if d := msgDiff(p.Messages[i], want[i]); d != "" {
			t.Errorf("message %d: %s", i, d)
		}
	}
	p.Messages[0].Stanza[0] = 'Y' // and copy out
	again := query(t, s, storage.ArchiveQuery{Owner: alice, Limit: 1})
	if d := msgDiff(again.Messages[0], want[0]); d != "" {
		t.Errorf("after modifying a result: %s", d)
	}
	// A zero stamp means now.
	now := time.Now()
	z := &storage.ArchivedMessage{Owner: room, With: bob}
	appendMsgs(t, s, z)
	if z.Stamp.Before(now.Add(-time.Second)) || z.Stamp.After(now.Add(time.Minute)) {
		t.Errorf("zero stamp stored as %v, now is %v", z.Stamp, now)
	}
}

func testAppendInvalid(t *testing.T, s storage.Store) {
	good := msg(alice, bob, t0)
	if err := s.AppendArchive(bg, []*storage.ArchivedMessage{good, {With: bob, Stamp: t0}}); err == nil {
		t.Fatal("AppendArchive accepted a message without owner")
	}
	if err := s.AppendArchive(bg, []*storage.ArchivedMessage{good, nil}); err == nil {
		t.Fatal("AppendArchive accepted a nil message")
	}
	// A failed call stores nothing.
	if n, _ := s.CountArchive(bg, storage.ArchiveQuery{Owner: alice}, 0); n != 0 {
		t.Fatalf("failed append stored %d items", n)
	}
}

func testIDsNeverReused(t *testing.T, s storage.Store) {
	var maxID int64
	check := func(what string, ms []*storage.ArchivedMessage) {
		t.Helper()
		for _, m := range ms {
			if m.ID <= maxID {
				t.Fatalf("%s: id %d reused (max so far %d)", what, m.ID, maxID)
			}
			maxID = m.ID
		}
	}
	check("first", appendN(t, s, alice, 5, t0))
	_, err := s.PurgeArchive(bg, alice, "", time.Time{})
	must(t, err)
	check("after purge", appendN(t, s, alice, 3, t0))
	_, err = s.TrimArchive(bg, alice, 0)
	must(t, err)
	check("after trim", appendN(t, s, alice, 3, t0))
	_, err = s.ExpireArchive(bg, t0.Add(time.Hour), 0)
	must(t, err)
	check("after expire", appendN(t, s, room, 2, t0))
}

func testStampsMonotonic(t *testing.T, s storage.Store) {
	// The wall clock steps back: stamps are clamped to the newest stored
	// one, in the same call and across calls and owners.
	a := msg(alice, bob, t0.Add(10*time.Second+500*time.Nanosecond))
	b := msg(alice, bob, t0.Add(5*time.Second)) // earlier
	appendMsgs(t, s, a, b)
	c := msg(room, bob, t0) // earlier still, other owner
	appendMsgs(t, s, c)
	d := msg(alice, carl, t0.Add(11*time.Second)) // the clock recovered
	appendMsgs(t, s, d)
	want := []time.Time{t0.Add(10 * time.Second), t0.Add(10 * time.Second), t0.Add(10 * time.Second), t0.Add(11 * time.Second)}
	for i, m := range []*storage.ArchivedMessage{a, b, c, d} {
		if !m.Stamp.Equal(want[i]) {
			t.Errorf("message %d stamped %v, want %v", i, m.Stamp, want[i])
		}
	}
	p := query(t, s, storage.ArchiveQuery{Owner: alice})
	for i := 1; i < len(p.Messages); i++ {
		if p.Messages[i].Stamp.Before(p.Messages[i-1].Stamp) {
			t.Fatalf("stamps decrease: %v after %v", p.Messages[i].Stamp, p.Messages[i-1].Stamp)
		}
	}
	// Range queries see the stored (clamped) stamps.
	p = query(t, s, storage.ArchiveQuery{Owner: alice, End: t0.Add(10 * time.Second)})
	if !slices.Equal(ids(p.Messages), []int64{a.ID, b.ID}) {
		t.Errorf("End query after clamp: %v", ids(p.Messages))
	}
	p = query(t, s, storage.ArchiveQuery{Owner: alice, Start: t0.Add(6 * time.Second)})
	if !slices.Equal(ids(p.Messages), []int64{a.ID, b.ID, d.ID}) {
		t.Errorf("Start query after clamp: %v", ids(p.Messages))
	}
	// Once the newest item is gone, it no longer holds stamps up.
	_, err := s.PurgeArchive(bg, alice, "", time.Time{})
	must(t, err)
	_, err = s.PurgeArchive(bg, room, "", time.Time{})
	must(t, err)
	e := msg(alice, bob, t0)
	appendMsgs(t, s, e)
	if !e.Stamp.Equal(t0) {
		t.Errorf("after purging everything, stamp %v, want %v", e.Stamp, t0)
	}
}

// ---------------------------------------------------------------- queries

// fixture appends the query fixture: ten items of alice with several
// peers, resources and equal or microsecond-apart stamps, interleaved with
// items of another owner. It returns alice's items and the other owner's.
func fixture(t *testing.T, s storage.Store) (a, other []*storage.ArchivedMessage) {
	type row struct {
		owner, with, res string
		at               time.Duration
	}
	rows := []row{
		{alice, bob, "r1", 0},
		{alice, carl, "", time.Second},
		{room, bob, "", time.Second},
		{alice, bob, "r2", 2 * time.Second},
		{alice, bob, "r1", 2 * time.Second},
		{alice, carl, "", 3 * time.Second},
		{room, carl, "", 3 * time.Second},
		{alice, bob, "", 3*time.Second + time.Microsecond},
		{alice, dave, "r1", 3*time.Second + 2*time.Microsecond},
		{alice, bob, "r1", 4 * time.Second},
		{alice, carl, "", 5 * time.Second},
		{alice, bob, "r2", 6 * time.Second},
	}
	for i, r := range rows {
		m := msg(r.owner, r.with, t0.Add(r.at))
		m.WithResource = r.res
		m.Outgoing = i%3 == 0
		if i%4 == 0 {
			m.OriginID = "o" + strconv.Itoa(i)
		}
		// Mix single appends and a multi-message call.
		if i == 5 || i == 6 {
			continue
		}
		if i == 7 {
			m5 := msg(rows[5].owner, rows[5].with, t0.Add(rows[5].at))
			m6 := msg(rows[6].owner, rows[6].with, t0.Add(rows[6].at))
			appendMsgs(t, s, m5, m6, m)
			a = append(a, m5)
			other = append(other, m6)
			a = append(a, m)
			continue
		}
		appendMsgs(t, s, m)
		if r.owner == alice {
			a = append(a, m)
		} else {
			other = append(other, m)
		}
	}
	if len(a) != 10 || len(other) != 2 {
		t.Fatalf("fixture: %d/%d", len(a), len(other))
	}
	return a, other
}

func testQueryTable(t *testing.T, s storage.Store) {
	a, other := fixture(t, s)
	id := func(i int) int64 { return a[i].ID }
	sec := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Second) }
	us := time.Microsecond
	cases := []struct {
		name     string
		q        storage.ArchiveQuery
		want     []int // indexes into a
		complete bool
	}{
		{"all", storage.ArchiveQuery{}, []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, true},
		{"limit", storage.ArchiveQuery{Limit: 4}, []int{0, 1, 2, 3}, false},
		{"limit exact", storage.ArchiveQuery{Limit: 10}, []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, true},
		{"limit above", storage.ArchiveQuery{Limit: 11}, []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, true},
		{"limit 1", storage.ArchiveQuery{Limit: 1}, []int{0}, false},
		{"last", storage.ArchiveQuery{Last: true, Limit: 3}, []int{7, 8, 9}, false},
		{"last 1", storage.ArchiveQuery{Last: true, Limit: 1}, []int{9}, false},
		{"last exact", storage.ArchiveQuery{Last: true, Limit: 10}, []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, true},
		{"last no limit", storage.ArchiveQuery{Last: true}, []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, true},
		{"with bare", storage.ArchiveQuery{With: bob}, []int{0, 2, 3, 5, 7, 9}, true},
		{"with bare limit", storage.ArchiveQuery{With: bob, Limit: 2}, []int{0, 2}, false},
		{"with bare last", storage.ArchiveQuery{With: bob, Last: true, Limit: 2}, []int{7, 9}, false},
		{"with bare last exact", storage.ArchiveQuery{With: bob, Last: true, Limit: 6}, []int{0, 2, 3, 5, 7, 9}, true},
		{"with full", storage.ArchiveQuery{With: bob, WithResource: "r1"}, []int{0, 3, 7}, true},
		{"with full last", storage.ArchiveQuery{With: bob, WithResource: "r2", Last: true, Limit: 1}, []int{9}, false},
		{"with other resource", storage.ArchiveQuery{With: dave, WithResource: "r2"}, nil, true},
		{"resource without with", storage.ArchiveQuery{WithResource: "r1"}, []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, true},
		{"with unknown", storage.ArchiveQuery{With: "nobody@example.org"}, nil, true},
		{"with other owner's peer only", storage.ArchiveQuery{With: room}, nil, true},
		{"start inclusive", storage.ArchiveQuery{Start: sec(2)}, []int{2, 3, 4, 5, 6, 7, 8, 9}, true},
		{"start 1ns later", storage.ArchiveQuery{Start: sec(2).Add(time.Nanosecond)}, []int{4, 5, 6, 7, 8, 9}, true},
		{"start 1ns earlier", storage.ArchiveQuery{Start: sec(2).Add(-time.Nanosecond)}, []int{2, 3, 4, 5, 6, 7, 8, 9}, true},
		{"end inclusive", storage.ArchiveQuery{End: sec(3)}, []int{0, 1, 2, 3, 4}, true},
		{"end 1ns earlier", storage.ArchiveQuery{End: sec(3).Add(-time.Nanosecond)}, []int{0, 1, 2, 3}, true},
		{"end 999ns later", storage.ArchiveQuery{End: sec(3).Add(999 * time.Nanosecond)}, []int{0, 1, 2, 3, 4}, true},
		{"start=end one µs", storage.ArchiveQuery{Start: sec(3).Add(us), End: sec(3).Add(us)}, []int{5}, true},
		{"µs range", storage.ArchiveQuery{Start: sec(3).Add(us), End: sec(3).Add(2 * us)}, []int{5, 6}, true},
		{"sub-µs range between items", storage.ArchiveQuery{Start: sec(3).Add(us + 1), End: sec(3).Add(2*us - 1)}, nil, true},
		{"start after end", storage.ArchiveQuery{Start: sec(5), End: sec(1)}, nil, true},
		{"start after all", storage.ArchiveQuery{Start: sec(3600)}, nil, true},
		{"end before all", storage.ArchiveQuery{End: sec(-1)}, nil, true},
		{"range limit", storage.ArchiveQuery{Start: sec(1), End: sec(5), Limit: 3}, []int{1, 2, 3}, false},
		{"range last", storage.ArchiveQuery{Start: sec(1), End: sec(5), Last: true, Limit: 3}, []int{6, 7, 8}, false},
		{"range last exact", storage.ArchiveQuery{Start: sec(1), End: sec(5), Last: true, Limit: 8}, []int{1, 2, 3, 4, 5, 6, 7, 8}, true},
		{"range with", storage.ArchiveQuery{Start: sec(2), End: sec(4), With: carl}, []int{4}, true},
		{"range with full", storage.ArchiveQuery{Start: sec(2), End: sec(4), With: bob, WithResource: "r1"}, []int{3, 7}, true},
		{"after", storage.ArchiveQuery{AfterID: id(3)}, []int{4, 5, 6, 7, 8, 9}, true},
		{"before", storage.ArchiveQuery{BeforeID: id(3)}, []int{0, 1, 2}, true},
		{"after and before", storage.ArchiveQuery{AfterID: id(1), BeforeID: id(7)}, []int{2, 3, 4, 5, 6}, true},
		{"after and before adjacent", storage.ArchiveQuery{AfterID: id(4), BeforeID: id(5)}, nil, true},
		{"after and before crossed", storage.ArchiveQuery{AfterID: id(6), BeforeID: id(2)}, nil, true},
		{"after last", storage.ArchiveQuery{AfterID: id(9)}, nil, true},
		{"before first", storage.ArchiveQuery{BeforeID: id(0)}, nil, true},
		{"after limit", storage.ArchiveQuery{AfterID: id(2), Limit: 2}, []int{3, 4}, false},
		{"after limit to end", storage.ArchiveQuery{AfterID: id(7), Limit: 2}, []int{8, 9}, true},
		{"before last page", storage.ArchiveQuery{BeforeID: id(9), Last: true, Limit: 2}, []int{7, 8}, false},
		{"before last page to start", storage.ArchiveQuery{BeforeID: id(2), Last: true, Limit: 2}, []int{0, 1}, true},
		{"after last page", storage.ArchiveQuery{AfterID: id(6), Last: true, Limit: 2}, []int{8, 9}, false},
		{"after with", storage.ArchiveQuery{AfterID: id(3), With: bob, Limit: 2}, []int{5, 7}, false},
		{"before with last", storage.ArchiveQuery{BeforeID: id(7), With: bob, Last: true, Limit: 2}, []int{3, 5}, false},
		{"after other owner's id", storage.ArchiveQuery{AfterID: other[0].ID}, []int{2, 3, 4, 5, 6, 7, 8, 9}, true},
		{"after id beats start", storage.ArchiveQuery{AfterID: id(6), Start: sec(1)}, []int{7, 8, 9}, true},
		{"start beats after id", storage.ArchiveQuery{AfterID: id(1), Start: sec(3)}, []int{4, 5, 6, 7, 8, 9}, true},
		{"before id and end", storage.ArchiveQuery{BeforeID: id(8), End: sec(3)}, []int{0, 1, 2, 3, 4}, true},
		{"ids", storage.ArchiveQuery{IDs: []int64{id(9), id(1), id(5)}}, []int{1, 5, 9}, true},
		{"ids duplicate", storage.ArchiveQuery{IDs: []int64{id(5), id(5)}}, []int{5}, true},
		{"ids limit", storage.ArchiveQuery{IDs: []int64{id(1), id(5), id(9)}, Limit: 2}, []int{1, 5}, false},
		{"ids last", storage.ArchiveQuery{IDs: []int64{id(1), id(5), id(9)}, Last: true, Limit: 2}, []int{5, 9}, false},
		{"ids foreign and missing", storage.ArchiveQuery{IDs: []int64{id(2), other[1].ID, 1 << 40, -1}}, []int{2}, true},
		{"ids none exist", storage.ArchiveQuery{IDs: []int64{other[0].ID}}, nil, true},
		{"ids with", storage.ArchiveQuery{IDs: []int64{id(1), id(2), id(3), id(4)}, With: bob}, []int{2, 3}, true},
		{"ids with full", storage.ArchiveQuery{IDs: []int64{id(0), id(2), id(3)}, With: bob, WithResource: "r1"}, []int{0, 3}, true},
		{"ids after", storage.ArchiveQuery{IDs: []int64{id(1), id(5), id(9)}, AfterID: id(5)}, []int{9}, true},
		{"ids range", storage.ArchiveQuery{IDs: []int64{id(0), id(4), id(8)}, Start: sec(1), End: sec(4)}, []int{4}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			q := tc.q
			q.Owner = alice
			p := query(t, s, q)
			var want []int64
			for _, i := range tc.want {
				want = append(want, a[i].ID)
			}
			if got := ids(p.Messages); !slices.Equal(got, want) || p.Complete != tc.complete {
				t.Fatalf("got %v complete=%v, want %v complete=%v", got, p.Complete, want, tc.complete)
			}
			for i, m := range p.Messages {
				if d := msgDiff(m, *a[tc.want[i]]); d != "" {
					t.Fatalf("message %d: %s", i, d)
				}
			}
		})
	}
	t.Run("other owner", func(t *testing.T) {
		p := query(t, s, storage.ArchiveQuery{Owner: room})
		if len(p.Messages) != 2 || !p.Complete {
			t.Fatalf("room archive: %v", ids(p.Messages))
		}
		for i, m := range p.Messages {
			if d := msgDiff(m, *other[i]); d != "" {
				t.Fatalf("message %d: %s", i, d)
			}
		}
	})
}

// testQueryPaging walks an archive page by page in both directions, as a
// MAM client does with RSM after/before, and checks that the pages add up
// to the whole range with Complete set exactly on the last page.
func testQueryPaging(t *testing.T, s storage.Store) {
	var all []*storage.ArchivedMessage
	for i := range 23 {
		with := bob
		if i%3 == 0 {
			with = carl
		}
		m := msg(alice, with, t0.Add(time.Duration(i)*time.Second))
		appendMsgs(t, s, m)
		all = append(all, m)
	}
	for _, f := range []storage.ArchiveQuery{
		{},
		{With: bob},
		{Start: t0.Add(4 * time.Second), End: t0.Add(19 * time.Second)},
		{With: carl, Start: t0.Add(time.Second)},
	} {
		f.Owner = alice
		var want []int64
		for _, m := range all {
			if (f.With == "" || m.With == f.With) && !m.Stamp.Before(f.Start) && (f.End.IsZero() || !m.Stamp.After(f.End)) {
				want = append(want, m.ID)
			}
		}
		for _, limit := range []int{1, 2, 5, 7, len(want), len(want) + 1} {
			// Forward.
			var got []int64
			q := f
			q.Limit = limit
			for pages := 0; ; pages++ {
				if pages > len(want)+1 {
					t.Fatalf("%+v: forward paging does not end", q)
				}
				p := query(t, s, q)
				got = append(got, ids(p.Messages)...)
				if p.Complete {
					break
				}
				if len(p.Messages) == 0 {
					t.Fatalf("%+v: empty incomplete page", q)
				}
				q.AfterID = p.Messages[len(p.Messages)-1].ID
			}
			if !slices.Equal(got, want) {
				t.Fatalf("forward %+v limit %d: %v, want %v", f, limit, got, want)
			}
			// Backward.
			got = nil
			q = f
			q.Limit, q.Last = limit, true
			for pages := 0; ; pages++ {
				if pages > len(want)+1 {
					t.Fatalf("%+v: backward paging does not end", q)
				}
				p := query(t, s, q)
				got = append(ids(p.Messages), got...)
				if p.Complete {
					break
				}
				q.BeforeID = p.Messages[0].ID
			}
			if !slices.Equal(got, want) {
				t.Fatalf("backward %+v limit %d: %v, want %v", f, limit, got, want)
			}
		}
	}
}

func testQueryEmpty(t *testing.T, s storage.Store) {
	for _, q := range []storage.ArchiveQuery{
		{Owner: alice},
		{Owner: alice, Last: true, Limit: 5},
		{Owner: alice, With: bob, Start: t0, End: t0.Add(time.Hour)},
		{Owner: alice, IDs: []int64{1, 2, 3}},
		{Owner: alice, AfterID: 5, BeforeID: 10},
	} {
		p := query(t, s, q)
		if len(p.Messages) != 0 || !p.Complete {
			t.Errorf("%+v on empty archive: %v complete=%v", q, ids(p.Messages), p.Complete)
		}
	}
	appendN(t, s, room, 3, t0)
	p := query(t, s, storage.ArchiveQuery{Owner: alice})
	if len(p.Messages) != 0 || !p.Complete {
		t.Errorf("alice sees the room's archive: %v", ids(p.Messages))
	}
}

// ---------------------------------------------------------------- others

func testCount(t *testing.T, s storage.Store) {
	a, other := fixture(t, s)
	sec := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Second) }
	cases := []struct {
		name string
		q    storage.ArchiveQuery
		max  int
		want int
	}{
		{"all", storage.ArchiveQuery{}, 0, 10},
		{"all max", storage.ArchiveQuery{}, 4, 4},
		{"all max above", storage.ArchiveQuery{}, 40, 10},
		{"all negative max", storage.ArchiveQuery{}, -1, 10},
		{"ignores limit and last", storage.ArchiveQuery{Limit: 1, Last: true}, 0, 10},
		{"with", storage.ArchiveQuery{With: bob}, 0, 6},
		{"with max", storage.ArchiveQuery{With: bob}, 5, 5},
		{"with full", storage.ArchiveQuery{With: bob, WithResource: "r1"}, 0, 3},
		{"start", storage.ArchiveQuery{Start: sec(2)}, 0, 8},
		{"end", storage.ArchiveQuery{End: sec(3)}, 0, 5},
		{"range", storage.ArchiveQuery{Start: sec(1), End: sec(5)}, 0, 8},
		{"range max", storage.ArchiveQuery{Start: sec(1), End: sec(5)}, 3, 3},
		{"range empty", storage.ArchiveQuery{Start: sec(5), End: sec(1)}, 0, 0},
		{"range with", storage.ArchiveQuery{Start: sec(1), End: sec(5), With: carl}, 0, 3},
		{"ids", storage.ArchiveQuery{IDs: []int64{a[0].ID, a[4].ID, other[0].ID}}, 0, 2},
		{"ids max", storage.ArchiveQuery{IDs: []int64{a[0].ID, a[4].ID, a[5].ID}}, 2, 2},
		{"ids with", storage.ArchiveQuery{IDs: []int64{a[0].ID, a[1].ID}, With: bob}, 0, 1},
	}
	for _, tc := range cases {
		q := tc.q
		q.Owner = alice
		n, err := s.CountArchive(bg, q, tc.max)
		must(t, err)
		if n != tc.want {
			t.Errorf("%s: CountArchive = %d, want %d", tc.name, n, tc.want)
		}
	}
	if n, err := s.CountArchive(bg, storage.ArchiveQuery{Owner: "nobody@example.org"}, 0); err != nil || n != 0 {
		t.Errorf("count of unknown owner = %d, %v", n, err)
	}
	if n, err := s.CountArchive(bg, storage.ArchiveQuery{Owner: room}, 0); err != nil || n != 2 {
		t.Errorf("count of room = %d, %v", n, err)
	}
}

// testCountIDBounds: CountArchive honours AfterID and BeforeID (exclusive)
// like QueryArchive, alone and with every other filter, and still stops at
// max. Each count is checked against the full page of the same query.
func testCountIDBounds(t *testing.T, s storage.Store) {
	a, other := fixture(t, s)
	id := func(i int) int64 { return a[i].ID }
	sec := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Second) }
	// a: 0 bob/r1 0s, 1 carl 1s, 2 bob/r2 2s, 3 bob/r1 2s, 4 carl 3s,
	// 5 bob 3s+1µs, 6 dave/r1 3s+2µs, 7 bob/r1 4s, 8 carl 5s, 9 bob/r2 6s;
	// other[1] (the room's, 3s) lies between a[4] and a[5] in id order.
	cases := []struct {
		name string
		q    storage.ArchiveQuery
		max  int
		want int
	}{
		{"after", storage.ArchiveQuery{AfterID: id(3)}, 0, 6},
		{"before", storage.ArchiveQuery{BeforeID: id(3)}, 0, 3},
		{"after and before", storage.ArchiveQuery{AfterID: id(3), BeforeID: id(7)}, 0, 3},
		{"after and before adjacent", storage.ArchiveQuery{AfterID: id(3), BeforeID: id(4)}, 0, 0},
		{"after and before crossed", storage.ArchiveQuery{AfterID: id(7), BeforeID: id(3)}, 0, 0},
		{"after the last", storage.ArchiveQuery{AfterID: id(9)}, 0, 0},
		{"before the first", storage.ArchiveQuery{BeforeID: id(0)}, 0, 0},
		{"after, equal stamps", storage.ArchiveQuery{AfterID: id(2)}, 0, 7},
		{"before, equal stamps", storage.ArchiveQuery{BeforeID: id(3)}, 0, 3},
		{"after another owner's id", storage.ArchiveQuery{AfterID: other[1].ID}, 0, 5},
		{"before another owner's id", storage.ArchiveQuery{BeforeID: other[1].ID}, 0, 5},
		{"after max", storage.ArchiveQuery{AfterID: id(3)}, 4, 4},
		{"after max above", storage.ArchiveQuery{AfterID: id(3)}, 40, 6},
		{"before max", storage.ArchiveQuery{BeforeID: id(7)}, 2, 2},
		{"after and before max", storage.ArchiveQuery{AfterID: id(0), BeforeID: id(9)}, 5, 5},
		{"after ignores limit and last", storage.ArchiveQuery{AfterID: id(3), Limit: 1, Last: true}, 0, 6},
		{"with after", storage.ArchiveQuery{With: bob, AfterID: id(3)}, 0, 3},
		{"with before", storage.ArchiveQuery{With: bob, BeforeID: id(5)}, 0, 3},
		{"with after and before", storage.ArchiveQuery{With: bob, AfterID: id(0), BeforeID: id(9)}, 0, 4},
		{"with full after and before", storage.ArchiveQuery{With: bob, WithResource: "r1", AfterID: id(0), BeforeID: id(9)}, 0, 2},
		{"with after max", storage.ArchiveQuery{With: bob, AfterID: id(0)}, 2, 2},
		{"with after another owner's id", storage.ArchiveQuery{With: carl, AfterID: other[1].ID}, 0, 1},
		{"start and later after", storage.ArchiveQuery{Start: sec(3), AfterID: id(4)}, 0, 5},
		{"start later than after", storage.ArchiveQuery{Start: sec(4), AfterID: id(2)}, 0, 3},
		{"end and earlier before", storage.ArchiveQuery{End: sec(3), BeforeID: id(4)}, 0, 4},
		{"end earlier than before", storage.ArchiveQuery{End: sec(2), BeforeID: id(8)}, 0, 4},
		{"end within equal stamps after", storage.ArchiveQuery{End: sec(2), AfterID: id(2)}, 0, 1},
		{"range after and before", storage.ArchiveQuery{Start: sec(1), End: sec(5), AfterID: id(2), BeforeID: id(8)}, 0, 5},
		{"range after and before max", storage.ArchiveQuery{Start: sec(1), End: sec(5), AfterID: id(2), BeforeID: id(8)}, 3, 3},
		{"range with after", storage.ArchiveQuery{Start: sec(1), End: sec(5), With: carl, AfterID: id(1)}, 0, 2},
		{"range with before", storage.ArchiveQuery{Start: sec(2), End: sec(6), With: bob, BeforeID: id(9)}, 0, 4},
		{"ids after", storage.ArchiveQuery{IDs: []int64{id(0), id(4), id(5), id(9)}, AfterID: id(4)}, 0, 2},
		{"ids before", storage.ArchiveQuery{IDs: []int64{id(0), id(4), id(5), id(9)}, BeforeID: id(5)}, 0, 2},
		{"ids after and before", storage.ArchiveQuery{IDs: []int64{id(0), id(4), id(5), id(9)}, AfterID: id(0), BeforeID: id(9)}, 0, 2},
		{"ids after max", storage.ArchiveQuery{IDs: []int64{id(0), id(4), id(5), id(9)}, AfterID: id(0)}, 2, 2},
		{"ids with after", storage.ArchiveQuery{IDs: []int64{id(0), id(1), id(2), id(3)}, With: bob, AfterID: id(0)}, 0, 2},
		{"ids start after", storage.ArchiveQuery{IDs: []int64{id(0), id(3), id(5), id(9)}, Start: sec(2), AfterID: id(3)}, 0, 2},
		{"ids end before", storage.ArchiveQuery{IDs: []int64{id(0), id(3), id(5), id(9)}, End: sec(4), BeforeID: id(5)}, 0, 2},
	}
	for _, tc := range cases {
		q := tc.q
		q.Owner = alice
		n, err := s.CountArchive(bg, q, tc.max)
		must(t, err)
		if n != tc.want {
			t.Errorf("%s: CountArchive = %d, want %d", tc.name, n, tc.want)
		}
		// The count is the size of the whole page of the same query.
		q.Limit, q.Last = 0, false
		if p := query(t, s, q); tc.max <= 0 && len(p.Messages) != n {
			t.Errorf("%s: CountArchive = %d, but the page has %d items", tc.name, n, len(p.Messages))
		}
	}
}

func testIDsExist(t *testing.T, s storage.Store) {
	a, other := fixture(t, s)
	req := []int64{a[0].ID, a[9].ID, other[0].ID, 1 << 40, 0, -5}
	got, err := s.ArchiveIDsExist(bg, alice, req)
	must(t, err)
	want := map[int64]bool{a[0].ID: true, a[9].ID: true}
	for _, id := range req {
		if got[id] != want[id] {
			t.Errorf("id %d: exists=%v, want %v", id, got[id], want[id])
		}
	}
	got, err = s.ArchiveIDsExist(bg, alice, nil)
	must(t, err)
	if len(got) != 0 {
		t.Errorf("no ids: %v", got)
	}
}

func testBounds(t *testing.T, s storage.Store) {
	_, _, ok, err := s.ArchiveBounds(bg, alice)
	must(t, err)
	if ok {
		t.Fatal("bounds of an empty archive: ok")
	}
	a, other := fixture(t, s)
	first, last, ok, err := s.ArchiveBounds(bg, alice)
	must(t, err)
	if !ok {
		t.Fatal("bounds: not ok")
	}
	if d := msgDiff(first, *a[0]); d != "" {
		t.Errorf("first: %s", d)
	}
	if d := msgDiff(last, *a[9]); d != "" {
		t.Errorf("last: %s", d)
	}
	first, last, ok, err = s.ArchiveBounds(bg, room)
	must(t, err)
	if !ok || first.ID != other[0].ID || last.ID != other[1].ID {
		t.Errorf("room bounds: %d..%d ok=%v", first.ID, last.ID, ok)
	}
}

func testFindByOriginID(t *testing.T, s storage.Store) {
	mk := func(owner, with string, out bool, origin string) *storage.ArchivedMessage {
		m := msg(owner, with, t0)
		m.Outgoing, m.OriginID = out, origin
		return m
	}
	m1 := mk(alice, bob, true, "abc")
	m2 := mk(alice, bob, false, "abc")
	m3 := mk(alice, carl, true, "abc")
	m4 := mk(room, bob, true, "abc")
	m5 := mk(alice, bob, true, "def")
	m6 := mk(alice, bob, true, "abc") // a retry: newer duplicate
	m7 := mk(alice, dave, true, "")
	appendMsgs(t, s, m1, m2, m3, m4, m5, m6, m7)
	cases := []struct {
		owner, with string
		out         bool
		origin      string
		want        *storage.ArchivedMessage
	}{
		{alice, bob, true, "abc", m6},
		{alice, bob, false, "abc", m2},
		{alice, carl, true, "abc", m3},
		{alice, carl, false, "abc", nil},
		{room, bob, true, "abc", m4},
		{alice, bob, true, "def", m5},
		{alice, bob, true, "xyz", nil},
		{alice, dave, true, "", nil},
		{"nobody@example.org", bob, true, "abc", nil},
	}
	for _, tc := range cases {
		got, ok, err := s.FindByOriginID(bg, tc.owner, tc.with, tc.out, tc.origin)
		must(t, err)
		if ok != (tc.want != nil) {
			t.Errorf("FindByOriginID(%s, %s, %v, %q): ok=%v", tc.owner, tc.with, tc.out, tc.origin, ok)
			continue
		}
		if ok {
			if d := msgDiff(got, *tc.want); d != "" {
				t.Errorf("FindByOriginID(%s, %s, %v, %q): %s", tc.owner, tc.with, tc.out, tc.origin, d)
			}
		}
	}
}

func testPurge(t *testing.T, s storage.Store) {
	sec := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Second) }
	cases := []struct {
		name   string
		with   string
		before time.Time
		want   []int // survivors, indexes into the fixture
	}{
		{"all", "", time.Time{}, nil},
		{"with", bob, time.Time{}, []int{1, 4, 6, 8}},
		{"before", "", sec(3), []int{4, 5, 6, 7, 8, 9}},
		{"before exclusive sub-µs", "", sec(3).Add(time.Microsecond + 1), []int{6, 7, 8, 9}},
		{"with before", bob, sec(4), []int{1, 4, 6, 7, 8, 9}},
		{"before all", "", sec(-10), []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}},
		{"unknown peer", "nobody@example.org", time.Time{}, []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.PurgeArchive(bg, alice, "", time.Time{})
			must(t, err)
			_, err = s.PurgeArchive(bg, room, "", time.Time{})
			must(t, err)
			a, other := fixture(t, s)
			n, err := s.PurgeArchive(bg, alice, tc.with, tc.before)
			must(t, err)
			if n != 10-len(tc.want) {
				t.Errorf("purged %d, want %d", n, 10-len(tc.want))
			}
			var want []int64
			for _, i := range tc.want {
				want = append(want, a[i].ID)
			}
			if got := ids(query(t, s, storage.ArchiveQuery{Owner: alice}).Messages); !slices.Equal(got, want) {
				t.Errorf("survivors %v, want %v", got, want)
			}
			if c, _ := s.CountArchive(bg, storage.ArchiveQuery{Owner: alice}, 0); c != len(want) {
				t.Errorf("count after purge %d, want %d", c, len(want))
			}
			if got := query(t, s, storage.ArchiveQuery{Owner: room}).Messages; len(got) != len(other) {
				t.Errorf("other owner lost items: %d left", len(got))
			}
		})
	}
	n, err := s.PurgeArchive(bg, "nobody@example.org", "", time.Time{})
	must(t, err)
	if n != 0 {
		t.Errorf("purging an empty archive: %d", n)
	}
}

func testExpire(t *testing.T, s storage.Store) {
	// 12 items alternating between two owners, one second apart.
	var all []*storage.ArchivedMessage
	for i := range 12 {
		owner := alice
		if i%2 == 1 {
			owner = room
		}
		m := msg(owner, bob, t0.Add(time.Duration(i)*time.Second))
		appendMsgs(t, s, m)
		all = append(all, m)
	}
	cut := t0.Add(7 * time.Second) // items 0..6 are older
	var deleted int
	for _, batch := range []int{3, 3, 3, 3} {
		n, err := s.ExpireArchive(bg, cut, batch)
		must(t, err)
		deleted += n
		// Oldest first: exactly the first `deleted` items are gone.
		var want []int64
		for _, m := range all[min(deleted, 7):] {
			want = append(want, m.ID)
		}
		var got []int64
		for _, o := range []string{alice, room} {
			got = append(got, ids(query(t, s, storage.ArchiveQuery{Owner: o}).Messages)...)
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Fatalf("after expiring %d: %v, want %v", deleted, got, want)
		}
	}
	if deleted != 7 {
		t.Fatalf("expired %d, want 7", deleted)
	}
	stats, err := s.ArchiveStats(bg, "")
	must(t, err)
	if stats[alice] != 2 || stats[room] != 3 {
		t.Fatalf("stats after expire: %v", stats)
	}
	// batch <= 0: everything older at once; before is exclusive.
	n, err := s.ExpireArchive(bg, all[10].Stamp, 0)
	must(t, err)
	if n != 3 {
		t.Fatalf("unbounded expire deleted %d, want 3", n)
	}
	n, err = s.ExpireArchive(bg, all[10].Stamp, 0)
	must(t, err)
	if n != 0 {
		t.Fatalf("second expire deleted %d", n)
	}
}

func testTrim(t *testing.T, s storage.Store) {
	a := appendN(t, s, alice, 10, t0)
	r := appendN(t, s, room, 4, t0.Add(time.Hour))
	cases := []struct {
		keep, wantDeleted, wantLeft int
	}{
		{20, 0, 10},
		{10, 0, 10},
		{7, 3, 7},
		{2, 5, 2},
		{0, 2, 0},
		{0, 0, 0},
	}
	for _, tc := range cases {
		n, err := s.TrimArchive(bg, alice, tc.keep)
		must(t, err)
		if n != tc.wantDeleted {
			t.Fatalf("TrimArchive(keep=%d) deleted %d, want %d", tc.keep, n, tc.wantDeleted)
		}
		var want []int64
		for _, m := range a[10-tc.wantLeft:] {
			want = append(want, m.ID)
		}
		if got := ids(query(t, s, storage.ArchiveQuery{Owner: alice}).Messages); !slices.Equal(got, want) {
			t.Fatalf("after TrimArchive(keep=%d): %v, want %v", tc.keep, got, want)
		}
	}
	n, err := s.TrimArchive(bg, room, -1)
	must(t, err)
	if n != len(r) {
		t.Fatalf("TrimArchive(keep=-1) deleted %d", n)
	}
}

func testStats(t *testing.T, s storage.Store) {
	stats, err := s.ArchiveStats(bg, "")
	must(t, err)
	if len(stats) != 0 {
		t.Fatalf("empty store stats %v", stats)
	}
	appendN(t, s, alice, 3, t0)
	appendN(t, s, room, 5, t0)
	appendMsgs(t, s, msg(alice, bob, t0), msg(dave, bob, t0))
	stats, err = s.ArchiveStats(bg, "")
	must(t, err)
	want := map[string]int{alice: 4, room: 5, dave: 1}
	if len(stats) != len(want) {
		t.Fatalf("stats %v, want %v", stats, want)
	}
	for k, v := range want {
		if stats[k] != v {
			t.Fatalf("stats %v, want %v", stats, want)
		}
	}
	one, err := s.ArchiveStats(bg, room)
	must(t, err)
	if len(one) != 1 || one[room] != 5 {
		t.Fatalf("stats(room) = %v", one)
	}
	none, err := s.ArchiveStats(bg, "nobody@example.org")
	must(t, err)
	if n, ok := none["nobody@example.org"]; !ok || n != 0 || len(none) != 1 {
		t.Fatalf("stats(nobody) = %v", none)
	}
	_, err = s.PurgeArchive(bg, dave, "", time.Time{})
	must(t, err)
	stats, _ = s.ArchiveStats(bg, "")
	if _, ok := stats[dave]; ok {
		t.Fatalf("emptied archive still listed: %v", stats)
	}
}

func testPrefs(t *testing.T, s storage.Store) {
	_, ok, err := s.ArchivePrefs(bg, alice)
	must(t, err)
	if ok {
		t.Fatal("prefs of a new user: ok")
	}
	cases := []storage.ArchivePrefs{
		{Default: "roster", Always: []string{"bob@example.net", "carl@example.net/phone"}, Never: []string{"spam@example.com"}},
		{Default: "never"},
		{Default: "always", Never: []string{"x@y"}},
	}
	for _, p := range cases {
		in := storage.ArchivePrefs{Default: p.Default, Always: slices.Clone(p.Always), Never: slices.Clone(p.Never)}
		must(t, s.SetArchivePrefs(bg, alice, in))
		if len(in.Always) > 0 {
			in.Always[0] = "mutated"
		}
		got, ok, err := s.ArchivePrefs(bg, alice)
		must(t, err)
		if !ok || got.Default != p.Default || !slices.Equal(got.Always, p.Always) || !slices.Equal(got.Never, p.Never) {
			t.Fatalf("prefs roundtrip: got %+v ok=%v, want %+v", got, ok, p)
		}
	}
	if _, ok, _ := s.ArchivePrefs(bg, bob); ok {
		t.Fatal("bob has alice's prefs")
	}
}

func testConcurrentAppend(t *testing.T, s storage.Store) {
	const workers, each = 50, 4
	var wg sync.WaitGroup
	got := make([][]*storage.ArchivedMessage, workers)
	errs := make([]error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			owner := alice
			if w%5 == 0 {
				owner = room
			}
			for i := range each {
				batch := []*storage.ArchivedMessage{msg(owner, bob, t0.Add(time.Duration(i)*time.Millisecond))}
				if i == each-1 {
					batch = append(batch, msg(owner, carl, t0))
				}
				if err := s.AppendArchive(bg, batch); err != nil {
					errs[w] = err
					return
				}
				got[w] = append(got[w], batch...)
			}
		}()
	}
	wg.Wait()
	seen := make(map[int64]bool)
	total := 0
	for w := range workers {
		must(t, errs[w])
		for i, m := range got[w] {
			if seen[m.ID] {
				t.Fatalf("id %d handed out twice", m.ID)
			}
			seen[m.ID] = true
			if i > 0 && m.ID <= got[w][i-1].ID {
				t.Fatalf("worker %d: ids not increasing: %d after %d", w, m.ID, got[w][i-1].ID)
			}
			total++
		}
	}
	var visible []storage.ArchivedMessage
	for _, o := range []string{alice, room} {
		visible = append(visible, query(t, s, storage.ArchiveQuery{Owner: o}).Messages...)
	}
	if len(visible) != total {
		t.Fatalf("%d items visible, %d appended", len(visible), total)
	}
	for _, m := range visible {
		if !seen[m.ID] {
			t.Fatalf("visible id %d was never returned", m.ID)
		}
	}
	slices.SortFunc(visible, func(a, b storage.ArchivedMessage) int { return int(a.ID - b.ID) })
	for i := 1; i < len(visible); i++ {
		if visible[i].Stamp.Before(visible[i-1].Stamp) {
			t.Fatalf("stamp of id %d is before that of id %d", visible[i].ID, visible[i-1].ID)
		}
	}
	stats, err := s.ArchiveStats(bg, "")
	must(t, err)
	if stats[alice]+stats[room] != total {
		t.Fatalf("stats %v, want %d in all", stats, total)
	}
}
