package sqlite

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/skald-xmpp/skald/storage"
)

// writeOp is one write request for the writer goroutine. fn runs inside a
// savepoint of the batch transaction on the writer connection; done
// receives fn's error, or the COMMIT error, once the batch has ended.
type writeOp struct {
	ctx context.Context
	fn  func(c *conn) error
	// batchAtomic ops run without a savepoint of their own: if fn fails,
	// the whole batch is rolled back and every request in it gets the
	// error. For appends, which fail only when the database does (I/O
	// error, disk full), so that the common case skips the SAVEPOINT and
	// RELEASE statements and the copy of every page the op touches into
	// the savepoint journal. Only batchAtomic ops may add to the pending
	// count deltas (see countDeltas).
	batchAtomic bool
	done        chan error // buffered(1); reused through opPool
}

var opPool = sync.Pool{New: func() any { return &writeOp{done: make(chan error, 1)} }}

// write hands fn to the writer goroutine and waits until the transaction
// that ran it has committed (or failed). Once the writer has accepted the
// request, write waits for the outcome even if ctx is cancelled, so that a
// caller never mistakes a committed write for a failed one.
func (s *Store) write(ctx context.Context, fn func(c *conn) error) error {
	return s.submit(ctx, fn, false)
}

// writeBatchAtomic is write for an op whose failure may fail its whole
// batch (see writeOp.batchAtomic).
func (s *Store) writeBatchAtomic(ctx context.Context, fn func(c *conn) error) error {
	return s.submit(ctx, fn, true)
}

func (s *Store) submit(ctx context.Context, fn func(c *conn) error, batchAtomic bool) error {
	if s.closed.Load() {
		return storage.ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	op := opPool.Get().(*writeOp)
	op.ctx, op.fn, op.batchAtomic = ctx, fn, batchAtomic
	select {
	case s.ops <- op:
	case <-ctx.Done():
		op.ctx, op.fn = nil, nil
		opPool.Put(op)
		return ctx.Err()
	case <-s.quit:
		op.ctx, op.fn = nil, nil
		opPool.Put(op)
		return storage.ErrClosed
	}
	err := <-op.done
	op.ctx, op.fn = nil, nil
	opPool.Put(op)
	return err
}

// writeLoop is the writer goroutine. It owns s.wconn.
//
// Group commit: it blocks for a first request, opens a transaction, runs
// the request, then keeps taking requests that are already waiting (a
// non-blocking receive on the unbuffered ops channel succeeds exactly when
// a sender is parked on it) until none is waiting or MaxBatch is reached,
// and commits. Requests that arrive while a COMMIT is being fsynced park on
// the channel and form the next batch. A lone writer is committed at once.
func (s *Store) writeLoop() {
	defer close(s.writerDone)
	defer func() {
		if err := s.wconn.close(); err != nil {
			s.closeErr = err
		}
	}()
	var timer *time.Timer
	if s.opts.MaxBatchDelay > 0 {
		timer = time.NewTimer(time.Hour)
		timer.Stop()
	}
	pending := make([]*writeOp, 0, s.opts.MaxBatch)
	// idle fires when the writer has had nothing to do for IndexPause
	// while the full-text index is behind (fulltext_index.go).
	idle := time.NewTimer(time.Hour)
	idle.Stop()
	for {
		var op *writeOp
		if s.index.behind && s.opts.IndexBatch > 0 {
			if s.indexForced(time.Now()) {
				pending = s.runIndexBatch(pending[:0], timer)
				clear(pending)
				s.checkpointIfLarge()
				continue
			}
			idle.Reset(s.opts.IndexPause)
			select {
			case op = <-s.ops:
				idle.Stop()
			case <-idle.C:
				pending = s.runIndexBatch(pending[:0], timer)
				clear(pending)
				s.checkpointIfLarge()
				continue
			case <-s.quit:
				return
			}
		} else {
			select {
			case op = <-s.ops:
			case <-s.quit:
				return
			}
		}
		pending = s.runBatch(op, pending[:0], timer)
		clear(pending)
		s.checkpointIfLarge()
	}
}

func (s *Store) runBatch(op *writeOp, pending []*writeOp, timer *time.Timer) []*writeOp {
	c := s.wconn
	if err := c.exec(`BEGIN IMMEDIATE`); err != nil {
		s.wstampOK = false
		op.done <- err
		return pending
	}
	// Another process (skald archive import while the server runs) may
	// have committed since our last batch: its rows make the cached newest
	// stamp stale, and appending with a stale clamp would break "stamps
	// never decrease with id", which paging relies on across owners (see
	// afterBound). data_version changes exactly when another connection
	// has committed; read under the write lock, nobody else commits
	// until our COMMIT.
	if v, _, err := queryInt(c, `PRAGMA data_version`); err != nil || v != s.wdataVersion {
		s.wstampOK = false
		s.wdataVersion = v
		s.index.behind = true // its rows are not indexed either
	}
	timing := false
	n := 0
	var fatal error
	for {
		n++
		var ok bool
		ok, fatal = s.runOp(c, op)
		if ok {
			pending = append(pending, op)
		}
		if fatal != nil || n >= s.opts.MaxBatch {
			break
		}
		select {
		case op = <-s.ops:
			continue
		default:
		}
		if timer == nil {
			break
		}
		if !timing {
			timer.Reset(s.opts.MaxBatchDelay)
			timing = true
		}
		select {
		case op = <-s.ops:
			continue
		case <-timer.C:
			timing = false
		}
		break
	}
	if timing {
		timer.Stop() // Go >= 1.23: no stale tick can be received later
	}

	err := fatal
	if err == nil {
		err = s.counts.flush(c)
	}
	if err == nil {
		err = c.exec(`COMMIT`)
	}
	s.counts.reset()
	s.nBatches.Add(1)
	s.nOps.Add(int64(n))
	if err != nil {
		s.wstampOK = false
		if !c.db.GetAutocommit() {
			_ = c.exec(`ROLLBACK`)
		}
	}
	for _, p := range pending {
		p.done <- err
	}
	return pending
}

// runOp runs one request inside a savepoint, or without one if it is
// batchAtomic. ok reports that it succeeded and waits for COMMIT;
// otherwise its own error has been delivered. fatal is set when the whole
// transaction is lost.
func (s *Store) runOp(c *conn, op *writeOp) (ok bool, fatal error) {
	if err := op.ctx.Err(); err != nil {
		op.done <- err
		return false, nil
	}
	if op.batchAtomic {
		if err := callOp(op.fn, c); err != nil {
			op.done <- err
			return false, err
		}
		return true, nil
	}
	// Any other op may read or change archive_count: it sees the counts
	// of the appends before it, as if each had updated them itself.
	if err := s.counts.flush(c); err != nil {
		op.done <- err
		return false, err
	}
	if err := c.exec(`SAVEPOINT op`); err != nil {
		op.done <- err
		return false, err
	}
	err := callOp(op.fn, c)
	if err == nil {
		if err = c.exec(`RELEASE op`); err == nil {
			return true, nil
		}
	}
	s.wstampOK = false
	op.done <- err
	if c.db.GetAutocommit() {
		// SQLite rolled the transaction back (I/O error, disk full...).
		return false, err
	}
	if rerr := c.exec(`ROLLBACK TO op`); rerr != nil {
		return false, rerr
	}
	if rerr := c.exec(`RELEASE op`); rerr != nil {
		return false, rerr
	}
	return false, nil
}

// callOp runs fn, turning a panic into an error so that a bug in one
// request cannot kill the writer goroutine and hang every later write.
func callOp(fn func(*conn) error, c *conn) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("storage/sqlite: panic in write: %v", r)
		}
	}()
	return fn(c)
}
