package sqlite

import (
	"context"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ncruces/go-sqlite3"

	"github.com/skald-xmpp/skald/storage"
)

// BenchmarkAppendChat appends what the server appends per chat message:
// one AppendArchiveOnce of two rows, the sender's copy and the
// recipient's, between random pairs of chatUsers users, into an archive
// prefilled with chatPrefill rows of those users. Unlike BenchmarkAppend
// (one owner, so every index insert lands on the rightmost page), each
// row here lands in the middle of its owner's index ranges, as in
// production, which is what the WAL pays for.
//
// Reported per archived row: rows/s, process CPU time, WAL pages (frames written by the
// writer connection) and WAL KiB (pages plus frame headers).
//
//	go test -run '^$' -bench AppendChat -benchmem ./storage/sqlite
const (
	chatUsers   = 1000
	chatPrefill = 100_000
)

var chatDB struct {
	once sync.Once
	path string
}

// chatTemplate builds the prefilled database once per process.
func chatTemplate(b *testing.B) string {
	chatDB.once.Do(func() {
		path := filepath.Join(benchTempDir(b), "chat-template.db")
		s, err := Open(context.Background(), path, Options{Synchronous: SyncOff})
		if err != nil {
			b.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(1, 2))
		const chunk = 1000 // messages (2 rows each) per call
		for done := 0; done < chatPrefill/2; done += chunk {
			ms := make([]*storage.ArchivedMessage, 0, 2*chunk)
			for i := range chunk {
				ms = append(ms, chatPair(rng, done+i, benchT0.Add(time.Duration(done+i)*time.Second))...)
			}
			if err := s.AppendArchive(context.Background(), ms); err != nil {
				b.Fatal(err)
			}
		}
		// The steady state: the full-text index caught up (an
		// unindexed template would have the indexer catching up with
		// 10^5 rows during the measurement).
		if err := s.IndexText(context.Background()); err != nil {
			b.Fatal(err)
		}
		if err := s.Close(); err != nil {
			b.Fatal(err)
		}
		chatDB.path = path
	})
	if chatDB.path == "" {
		b.Fatal("no chat template database")
	}
	return chatDB.path
}

func chatUser(i int) string { return "user" + strconv.Itoa(i) + "@example.org" }

// chatPair returns the two archive rows of message n between two random
// users.
func chatPair(rng *rand.Rand, n int, stamp time.Time) []*storage.ArchivedMessage {
	from := rng.IntN(chatUsers)
	to := (from + 1 + rng.IntN(chatUsers-1)) % chatUsers
	oid := "oid-" + strconv.Itoa(n)
	body := "message number " + strconv.Itoa(n)
	stanza := benchStanza(n)
	return []*storage.ArchivedMessage{
		{Owner: chatUser(from), With: chatUser(to), WithResource: "phone", Outgoing: true,
			Stamp: stamp, OriginID: oid, Body: body, Stanza: stanza},
		{Owner: chatUser(to), With: chatUser(from), WithResource: "laptop",
			Stamp: stamp, OriginID: oid, Body: body, Stanza: stanza},
	}
}

// openChat opens a private copy of the chat template.
// SKALD_BENCH_INDEX=off turns the background full-text indexer off, to
// measure the append path alone (the indexer's steps otherwise run in
// the writer's idle moments and count in cpu-µs/row).
func openChat(b *testing.B, opts Options) *Store {
	if os.Getenv("SKALD_BENCH_INDEX") == "off" {
		opts.IndexBatch = -1
	}
	src, err := os.Open(chatTemplate(b))
	if err != nil {
		b.Fatal(err)
	}
	defer src.Close()
	path := filepath.Join(b.TempDir(), "chat.db")
	dst, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		b.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		b.Fatal(err)
	}
	s, err := Open(context.Background(), path, opts)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

// walFrames returns the WAL frames the writer connection has written
// since the last call.
func walFrames(b *testing.B, s *Store) int64 {
	var n int64
	err := s.write(context.Background(), func(w *conn) error {
		cur, _, err := w.db.Status(sqlite3.DBSTATUS_CACHE_WRITE, true)
		n = cur
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	return n
}

func BenchmarkAppendChat(b *testing.B) {
	report := func(b *testing.B, s *Store, rows int64, cpu0 time.Duration) {
		cpu := processCPU() - cpu0
		frames := walFrames(b, s)
		pageSize := int64(4096)
		_ = s.read(context.Background(), func(c *conn) error {
			v, _, err := queryInt(c, `PRAGMA page_size`)
			pageSize = v
			return err
		})
		b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
		b.ReportMetric(float64(cpu.Microseconds())/float64(rows), "cpu-µs/row")
		b.ReportMetric(float64(frames)/float64(rows), "walpages/row")
		b.ReportMetric(float64(frames*(pageSize+24))/1024/float64(rows), "walKiB/row")
	}
	for _, mode := range []SyncMode{SyncFull, SyncNormal} {
		name := map[SyncMode]string{SyncFull: "sync=FULL", SyncNormal: "sync=NORMAL"}[mode]
		b.Run(name, func(b *testing.B) {
			// One caller appending 50 messages (100 rows) per call: the
			// writer's CPU per row, with one fsync per 100 rows.
			b.Run("batch50", func(b *testing.B) {
				s := openChat(b, Options{Synchronous: mode})
				rng := rand.New(rand.NewPCG(3, 4))
				n := chatPrefill
				walFrames(b, s)
				cpu0 := processCPU()
				b.ReportAllocs()
				var rows int64
				for b.Loop() {
					ms := make([]*storage.ArchivedMessage, 0, 100)
					for range 50 {
						ms = append(ms, chatPair(rng, n, time.Time{})...)
						n++
					}
					if _, err := s.AppendArchiveOnce(context.Background(), ms); err != nil {
						b.Fatal(err)
					}
					rows += int64(len(ms))
				}
				report(b, s, rows, cpu0)
			})
			// 32 callers, one message (two rows) per call, as the server's
			// sessions append: group commit decides the batch size.
			b.Run("parallel", func(b *testing.B) {
				s := openChat(b, Options{Synchronous: mode})
				var seq atomic.Int64
				seq.Store(chatPrefill)
				b0, o0 := s.nBatches.Load(), s.nOps.Load()
				walFrames(b, s)
				cpu0 := processCPU()
				b.ReportAllocs()
				b.SetParallelism(16)
				var mu sync.Mutex
				var lat []time.Duration
				b.RunParallel(func(pb *testing.PB) {
					rng := rand.New(rand.NewPCG(uint64(seq.Add(1)), 5))
					var mine []time.Duration
					for pb.Next() {
						ms := chatPair(rng, int(seq.Add(1)), time.Time{})
						start := time.Now()
						if _, err := s.AppendArchiveOnce(context.Background(), ms); err != nil {
							b.Error(err)
							return
						}
						mine = append(mine, time.Since(start))
					}
					mu.Lock()
					lat = append(lat, mine...)
					mu.Unlock()
				})
				slices.Sort(lat)
				if len(lat) > 0 {
					b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
					b.ReportMetric(float64(lat[len(lat)-1].Microseconds())/1000, "max-ms")
				}
				report(b, s, int64(b.N)*2, cpu0)
				if n := s.nBatches.Load() - b0; n > 0 {
					b.ReportMetric(float64(s.nOps.Load()-o0)/float64(n), "msgs/commit")
				}
			})
		})
	}
}
