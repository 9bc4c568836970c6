package postgres

import (
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/skald-xmpp/skald/storage"
)

// Benchmarks, next to storage/sqlite's and shaped like them; skipped when
// PostgreSQL is unreachable (pgtest). Query benchmarks run against
// archives of 10^3 and 10^5 rows (10^5 skipped with -short): half the rows
// belong to the queried owner (20 peers, one message per second), the
// other half to 100 other owners, interleaved.
//
//	go test -run '^$' -bench . -benchtime 2000x ./storage/postgres

const benchOwner = "alice@example.org"

var benchT0 = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// prefill fills the archive with rows rows in one statement, as appends
// would have (ids and stamps increasing together), and the counts.
func prefill(b *testing.B, s *Store, rows int) {
	_, err := s.pool.Exec(bg, `INSERT INTO archive (id, owner, with_jid, with_resource, outgoing, stamp, origin_id, body, stanza)
		SELECT nextval('archive_id_seq'),
			CASE WHEN i % 2 = 0 THEN $2 ELSE 'u' || (i % 100) || '@example.org' END,
			'peer' || (i / 2 % 20) || '@example.net', 'res', i % 3 = 0, $3 + i::bigint * 1000000, 'o' || i,
			'message number ' || i || ' of the benchmark',
			convert_to('<message xmlns=''jabber:client'' type=''chat'' id=''m' || i || '''><body>message number ' || i ||
				' of the benchmark</body></message>', 'UTF8')
		FROM generate_series(0, $1 - 1) AS i ORDER BY i`, rows, benchOwner, benchT0.UnixMicro())
	if err == nil {
		_, err = s.pool.Exec(bg, `INSERT INTO archive_count SELECT owner, count(*) FROM archive GROUP BY owner`)
	}
	if err == nil {
		_, err = s.pool.Exec(bg, `VACUUM ANALYZE archive`)
	}
	if err != nil {
		b.Fatal(err)
	}
}

// BenchmarkQuery pages an archive: the last page (what a client opening a
// conversation asks for first), a page after an id in the middle, a
// peer's last page (20: a peer has 25 items of the small archive) and a
// Start/End range.
func BenchmarkQuery(b *testing.B) {
	for _, rows := range []int{1_000, 100_000} {
		b.Run(fmt.Sprintf("rows=%d", rows), func(b *testing.B) {
			if rows >= 100_000 && testing.Short() {
				b.Skip("10^5 rows skipped in short mode")
			}
			s := openTest(b, Options{})
			start := time.Now()
			prefill(b, s, rows)
			b.Logf("prefilled %d rows in %v", rows, time.Since(start).Round(time.Millisecond))
			first, _, _, err := s.ArchiveBounds(bg, benchOwner)
			if err != nil {
				b.Fatal(err)
			}
			mid := first.ID + int64(rows/2)
			queries := []struct {
				name string
				q    storage.ArchiveQuery
			}{
				{"last", storage.ArchiveQuery{Owner: benchOwner, Last: true, Limit: 50}},
				{"forward-after-mid", storage.ArchiveQuery{Owner: benchOwner, AfterID: mid, Limit: 50}},
				{"with-last", storage.ArchiveQuery{Owner: benchOwner, With: "peer6@example.net", Last: true, Limit: 20}},
				{"range-mid", storage.ArchiveQuery{Owner: benchOwner,
					Start: benchT0.Add(time.Duration(rows*2/5) * time.Second),
					End:   benchT0.Add(time.Duration(rows*3/5) * time.Second), Limit: 50}},
			}
			for _, bq := range queries {
				b.Run(bq.name, func(b *testing.B) {
					b.ReportAllocs()
					for b.Loop() {
						p, err := s.QueryArchive(bg, bq.q)
						if err != nil {
							b.Fatal(err)
						}
						if len(p.Messages) != bq.q.Limit {
							b.Fatalf("page of %d", len(p.Messages))
						}
					}
				})
			}
		})
	}
}

func benchMsgs(n int) []*storage.ArchivedMessage {
	ms := make([]*storage.ArchivedMessage, n)
	for i := range ms {
		ms[i] = &storage.ArchivedMessage{Owner: benchOwner, With: "peer@example.net", WithResource: "res",
			OriginID: "o" + strconv.Itoa(i), Body: "message number " + strconv.Itoa(i),
			Stanza: fmt.Appendf(nil, "<message xmlns='jabber:client' type='chat' id='m%d'><body>message number %d</body></message>", i, i)}
	}
	return ms
}

// BenchmarkAppend appends a batch of 100 messages per call, one message
// per call, and one message per call from 32 goroutines (group commit:
// msgs/commit is the batch size the writer reached).
func BenchmarkAppend(b *testing.B) {
	b.Run("batch100", func(b *testing.B) {
		s := openTest(b, Options{})
		ms := benchMsgs(100)
		b.ReportAllocs()
		for b.Loop() {
			if err := s.AppendArchive(bg, ms); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N*100)/b.Elapsed().Seconds(), "msgs/s")
	})
	b.Run("single", func(b *testing.B) {
		s := openTest(b, Options{})
		ms := benchMsgs(1)
		b.ReportAllocs()
		for b.Loop() {
			if err := s.AppendArchive(bg, ms); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
	})
	b.Run("parallel", func(b *testing.B) {
		s := openTest(b, Options{})
		b0, o0 := s.WriteStats()
		b.ReportAllocs()
		b.SetParallelism(16) // 16 goroutines per GOMAXPROCS
		b.RunParallel(func(pb *testing.PB) {
			ms := benchMsgs(1)
			for pb.Next() {
				if err := s.AppendArchive(bg, ms); err != nil {
					b.Error(err)
					return
				}
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
		if bt, o := s.WriteStats(); bt > b0 {
			b.ReportMetric(float64(o-o0)/float64(bt-b0), "msgs/commit")
		}
	})
}
