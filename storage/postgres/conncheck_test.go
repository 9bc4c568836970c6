package postgres

import (
	"context"
	"fmt"
	"net"
	"sync/atomic"
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

// slowWriteConn delays every Write, after the bytes are sent, while slow
// is set: the write pgconn times takes longer than its 15 ms threshold,
// as on a loaded machine, and the server's answer arrives meanwhile.
type slowWriteConn struct {
	net.Conn
	slow *atomic.Bool
}

func (c slowWriteConn) Write(b []byte) (int, error) {
	n, err := c.Conn.Write(b)
	if c.slow.Load() {
		time.Sleep(100 * time.Millisecond)
	}
	return n, err
}

// NetConn lets peekReadable reach the socket, as through TLS.
func (c slowWriteConn) NetConn() net.Conn { return c.Conn }

// TestAcquireAfterSlowWrite: a write slower than pgconn's 15 ms threshold
// starts its background reader, which reads the answer, loops and stays
// parked in Read on the idle connection after the statement has
// returned. The next acquire must not peek at that socket (the peek would
// wait for the reader's lock for ever): it must return, and the
// connection must work.
func TestAcquireAfterSlowWrite(t *testing.T) {
	cfg, err := pgxpool.ParseConfig(pgtest.DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	var slow atomic.Bool
	dialer := &net.Dialer{Timeout: 10 * time.Second}
	cfg.ConnConfig.DialFunc = func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := dialer.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return slowWriteConn{c, &slow}, nil
	}
	cfg.MaxConns = 1
	cfg.ShouldPing = shouldPing
	pool, err := pgxpool.NewWithConfig(bg, cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(bg, 10*time.Second)
	defer cancel()
	if err := pool.Ping(ctx); err != nil { // the connection, dialled at normal speed
		t.Fatal(err)
	}
	var pid uint32
	err = pool.AcquireFunc(ctx, func(c *pgxpool.Conn) error {
		slow.Store(true)
		pid = c.Conn().PgConn().PID()
		_, err := c.Exec(ctx, `SELECT 1`)
		return err
	})
	slow.Store(false)
	if err != nil {
		t.Fatal(err)
	}

	done := make(chan error, 1)
	go func() {
		done <- pool.AcquireFunc(ctx, func(c *pgxpool.Conn) error {
			_, err := c.Exec(ctx, `SELECT 1`)
			return err
		})
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("statement after a slow write: %v", err)
		}
		pool.Close()
	case <-time.After(5 * time.Second):
		// The peek waits for the reader, which no context reaches: the
		// acquire and the pool are left behind (Close would wait for
		// them), the backend ended so that they do not outlive the test.
		pgtest.Exec(t, pgtest.ServerDSN(), `SELECT pg_terminate_backend($1)`, int32(pid))
		t.Fatal("acquire after a slow write hung (a peek at a socket pgconn's background reader is reading)")
	}
}
