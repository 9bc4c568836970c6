package sqlite

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/skald-xmpp/skald/storage"
)

// Benchmarks. Query benchmarks run against archives of 10^3, 10^5 and 10^6
// rows (10^6 skipped with -short), built once per process in a temporary
// directory. Half the rows belong to the queried owner (20 peers, one
// message per second), the other half to 100 other owners, interleaved.
//
//	go test -run '^$' -bench . -benchtime 2000x ./storage/sqlite

var benchDir struct {
	once sync.Once
	path string
	err  error
}

func benchTempDir(b *testing.B) string {
	benchDir.once.Do(func() {
		benchDir.path, benchDir.err = os.MkdirTemp("", "skald-bench-")
	})
	if benchDir.err != nil {
		b.Fatal(benchDir.err)
	}
	return benchDir.path
}

func TestMain(m *testing.M) {
	code := m.Run()
	if benchDir.path != "" {
		os.RemoveAll(benchDir.path)
	}
	os.Exit(code)
}

const benchOwner = "alice@example.org"

var benchT0 = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

func benchStanza(i int) []byte {
	return fmt.Appendf(nil, "<message xmlns='jabber:client' type='chat' id='m%d' from='peer@example.net/res' to='alice@example.org'><body>message number %d of the benchmark</body><origin-id xmlns='urn:xmpp:sid:0' id='o%d'/></message>", i, i, i)
}

// prefill appends n rows in transactions of 50000 on the writer
// connection. It drops the archive indexes first and recreates them from
// their stored definitions at the end, which builds them sorted instead of
// by random inserts, and gives the writer a bigger page cache (64 MiB: a
// connection's whole memory is capped at 256 MiB by the Wasm build).
func prefill(b *testing.B, s *Store, n int) {
	ctx := context.Background()
	var indexes []string
	err := s.write(ctx, func(w *conn) error {
		if err := w.db.Exec(`PRAGMA cache_size=-65536`); err != nil {
			return err
		}
		st, err := w.prep(`SELECT name, sql FROM sqlite_master WHERE type='index' AND tbl_name='archive' AND sql IS NOT NULL`)
		if err != nil {
			return err
		}
		var names []string
		for st.Step() {
			names = append(names, st.ColumnText(0))
			indexes = append(indexes, st.ColumnText(1))
		}
		if err := st.Reset(); err != nil {
			return err
		}
		for _, name := range names {
			if err := w.db.Exec(`DROP INDEX ` + name); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	const chunk = 50000
	for start := 0; start < n; start += chunk {
		err := s.write(ctx, func(w *conn) error {
			ins, err := w.prep(`INSERT INTO archive(owner, with_jid, with_resource, outgoing, stamp, origin_id, body, stanza)
				VALUES(?,?,?,?,?,?,?,?)`)
			if err != nil {
				return err
			}
			counts := map[string]int{}
			for i := start; i < min(start+chunk, n); i++ {
				owner := benchOwner
				if i%2 == 1 {
					owner = "user" + strconv.Itoa(i%200/2) + "@example.org"
				}
				counts[owner]++
				err := errors.Join(
					ins.BindText(1, owner),
					ins.BindText(2, "peer"+strconv.Itoa(i%20)+"@example.net"),
					ins.BindText(3, "res"),
					ins.BindBool(4, i%3 == 0),
					ins.BindInt64(5, benchT0.Add(time.Duration(i)*time.Second).UnixMicro()),
					ins.BindText(6, "o"+strconv.Itoa(i)),
					ins.BindText(7, "message number "+strconv.Itoa(i)),
					ins.BindBlob(8, benchStanza(i)),
				)
				if err == nil {
					err = ins.Exec()
				}
				if err != nil {
					return err
				}
			}
			for o, c := range counts {
				if err := addCount(w, o, c); err != nil {
					return err
				}
			}
			s.wstampOK = false
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	err = s.write(ctx, func(w *conn) error {
		for _, q := range indexes {
			if err := w.db.Exec(q); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
}

var benchDBs sync.Map // rows -> path of a prefilled database

func benchArchive(b *testing.B, rows int) *Store {
	path := filepath.Join(benchTempDir(b), fmt.Sprintf("archive-%d.db", rows))
	if _, ok := benchDBs.Load(rows); !ok {
		start := time.Now()
		s, err := Open(context.Background(), path, Options{Synchronous: SyncNormal})
		if err != nil {
			b.Fatal(err)
		}
		prefill(b, s, rows)
		if err := s.Close(); err != nil {
			b.Fatal(err)
		}
		fi, _ := os.Stat(path)
		b.Logf("prefilled %d rows in %v (%d MiB)", rows, time.Since(start).Round(time.Millisecond), fi.Size()>>20)
		benchDBs.Store(rows, path)
	}
	s, err := Open(context.Background(), path, Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

func BenchmarkQuery(b *testing.B) {
	for _, rows := range []int{1_000, 100_000, 1_000_000} {
		b.Run(fmt.Sprintf("rows=%d", rows), func(b *testing.B) {
			if rows >= 1_000_000 && testing.Short() {
				b.Skip("10^6 rows skipped in short mode")
			}
			s := benchArchive(b, rows)
			ctx := context.Background()
			// The owner's rows have even indexes i, ids i+1, stamps benchT0+i s.
			mid := int64(rows/2) &^ 1
			queries := []struct {
				name string
				q    storage.ArchiveQuery
			}{
				{"last", storage.ArchiveQuery{Owner: benchOwner, Last: true, Limit: 50}},
				{"forward-after-mid", storage.ArchiveQuery{Owner: benchOwner, AfterID: mid + 1, Limit: 50}},
				{"with-last", storage.ArchiveQuery{Owner: benchOwner, With: "peer6@example.net", Last: true, Limit: 50}},
				{"range-mid", storage.ArchiveQuery{Owner: benchOwner,
					Start: benchT0.Add(time.Duration(rows*2/5) * time.Second),
					End:   benchT0.Add(time.Duration(rows*3/5) * time.Second), Limit: 50}},
			}
			for _, bq := range queries {
				b.Run(bq.name, func(b *testing.B) {
					b.ReportAllocs()
					for b.Loop() {
						p, err := s.QueryArchive(ctx, bq.q)
						if err != nil {
							b.Fatal(err)
						}
						if len(p.Messages) != 50 {
							b.Fatalf("page of %d", len(p.Messages))
						}
					}
				})
			}
			b.Run("bounds", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, _, ok, err := s.ArchiveBounds(ctx, benchOwner); err != nil || !ok {
						b.Fatal(ok, err)
					}
				}
			})
			b.Run("count", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if n, err := s.CountArchive(ctx, storage.ArchiveQuery{Owner: benchOwner}, 0); err != nil || n != rows/2 {
						b.Fatal(n, err)
					}
				}
			})
		})
	}
}

func benchMsgs(n int) []*storage.ArchivedMessage {
	ms := make([]*storage.ArchivedMessage, n)
	for i := range ms {
		ms[i] = &storage.ArchivedMessage{Owner: benchOwner, With: "peer@example.net", WithResource: "res",
			OriginID: "o" + strconv.Itoa(i), Body: "message number " + strconv.Itoa(i), Stanza: benchStanza(i)}
	}
	return ms
}

func BenchmarkAppend(b *testing.B) {
	for _, mode := range []SyncMode{SyncFull, SyncNormal} {
		name := map[SyncMode]string{SyncFull: "sync=FULL", SyncNormal: "sync=NORMAL"}[mode]
		b.Run(name, func(b *testing.B) {
			b.Run("batch100", func(b *testing.B) {
				s := openTest(b, Options{Synchronous: mode})
				ms := benchMsgs(100)
				walFrames(b, s)
				b.ReportAllocs()
				for b.Loop() {
					if err := s.AppendArchive(context.Background(), ms); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.N*100)/b.Elapsed().Seconds(), "msgs/s")
				b.ReportMetric(float64(walFrames(b, s))/float64(b.N*100), "walpages/row")
			})
			b.Run("single", func(b *testing.B) {
				s := openTest(b, Options{Synchronous: mode})
				ms := benchMsgs(1)
				walFrames(b, s)
				b.ReportAllocs()
				for b.Loop() {
					if err := s.AppendArchive(context.Background(), ms); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
				b.ReportMetric(float64(walFrames(b, s))/float64(b.N), "walpages/row")
			})
			b.Run("parallel", func(b *testing.B) {
				s := openTest(b, Options{Synchronous: mode})
				walFrames(b, s)
				b0, o0 := s.nBatches.Load(), s.nOps.Load()
				b.ReportAllocs()
				b.SetParallelism(16) // 16 goroutines per GOMAXPROCS
				b.RunParallel(func(pb *testing.PB) {
					ms := benchMsgs(1)
					for pb.Next() {
						if err := s.AppendArchive(context.Background(), ms); err != nil {
							b.Error(err)
							return
						}
					}
				})
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
				b.ReportMetric(float64(walFrames(b, s))/float64(b.N), "walpages/row")
				if n := s.nBatches.Load() - b0; n > 0 {
					b.ReportMetric(float64(s.nOps.Load()-o0)/float64(n), "msgs/commit")
				}
			})
		})
	}
}
