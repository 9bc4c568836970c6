package postgres

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/skald-xmpp/skald/storage"
	"github.com/skald-xmpp/skald/storage/postgres/pgtest"
)

// TestKilledBackendsRecover ends every pooled backend of a store from
// another connection (as a server restart or an admin does) and then
// appends and reads at once, within the second after which pgxpool would
// ping an idle connection on its own: every operation must succeed on a
// fresh connection instead of failing on a dead one.
func TestKilledBackendsRecover(t *testing.T) {
	const conns = 4
	for _, round := range []string{"append first", "read first"} {
		t.Run(round, func(t *testing.T) {
			s := openTest(t, Options{MaxConns: conns})
			pids := fillPool(t, s.pool, conns)
			pgtest.Exec(t, pgtest.ServerDSN(),
				`SELECT pg_terminate_backend(pid, 5000) FROM unnest($1::int[]) AS pid`, pids)

			for i := range conns {
				owner := fmt.Sprintf("u%d@example.org", i)
				if round == "read first" {
					if _, err := s.QueryArchive(bg, storage.ArchiveQuery{Owner: owner, Limit: 10}); err != nil {
						t.Fatalf("read %d after the kill: %v", i, err)
					}
				}
				if err := s.AppendArchive(bg, []*storage.ArchivedMessage{{Owner: owner, With: "peer@example.net",
					Stamp: time.Now(), Body: "hi", Stanza: []byte("<message/>")}}); err != nil {
					t.Fatalf("append %d after the kill: %v", i, err)
				}
				p, err := s.QueryArchive(bg, storage.ArchiveQuery{Owner: owner, Limit: 10})
				if err != nil {
					t.Fatalf("read %d after the kill: %v", i, err)
				}
				if len(p.Messages) != 1 {
					t.Fatalf("read %d: %d messages, want 1", i, len(p.Messages))
				}
			}
		})
	}
}

// fillPool makes the pool open n connections (all acquired at once) and
// returns their backends' pids, with the connections back in the pool.
func fillPool(t *testing.T, pool *pgxpool.Pool, n int) []int32 {
	t.Helper()
	ctx, cancel := context.WithTimeout(bg, 10*time.Second)
	defer cancel()
	var pids []int32
	var held []*pgxpool.Conn
	for range n {
		c, err := pool.Acquire(ctx)
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, c)
		pids = append(pids, int32(c.Conn().PgConn().PID()))
	}
	for _, c := range held {
		c.Release()
	}
	return pids
}
