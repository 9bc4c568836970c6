package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/skald-xmpp/skald/storage"
)

// appendReq is one AppendArchive(Once) call waiting for the writer
// goroutine. The writer fills res; done receives the outcome once the
// transaction that holds the request has ended.
type appendReq struct {
	ctx  context.Context
	msgs []*storage.ArchivedMessage
	once bool
	// stamps are the requested stamps, microseconds (now for a zero one),
	// before the clamp.
	stamps []int64
	res    []appended
	done   chan error // buffered(1)
}

// submit hands req to the writer goroutine and waits for its outcome.
// Once the writer has taken the request, submit waits even if ctx is
// cancelled, so that a caller never takes a committed append for a failed
// one.
func (s *Store) submit(req *appendReq) error {
	if err := s.enter(req.ctx); err != nil {
		return err
	}
	select {
	case s.appends <- req:
	case <-req.ctx.Done():
		return req.ctx.Err()
	case <-s.quit:
		return storage.ErrClosed
	}
	return <-req.done
}

// writeLoop is the writer goroutine: the only code that appends to the
// archive.
//
// Group commit: it blocks for a first request, then takes the requests
// already waiting (a non-blocking receive on the unbuffered channel
// succeeds exactly when a caller is parked on it) up to MaxBatch, and
// appends them all in one transaction. Callers that arrive while that
// transaction commits (the WAL flush of synchronous_commit) park on the
// channel and form the next batch, so a lone caller is committed at once
// and concurrent callers share one flush.
//
// A batch that PostgreSQL refuses (an error it answered with) is retried
// request by request, each in its own transaction, so that one bad
// request (a string PostgreSQL refuses, say) fails alone. A batch that
// could not reach the database fails whole: retrying each request would
// make callers wait a connection timeout each.
func (s *Store) writeLoop() {
	defer close(s.writerDone)
	batch := make([]*appendReq, 0, s.opts.MaxBatch)
	for {
		var req *appendReq
		select {
		case req = <-s.appends:
		case <-s.quit:
			return
		}
		batch = append(batch[:0], req)
	gather:
		for len(batch) < s.opts.MaxBatch {
			select {
			case req = <-s.appends:
				batch = append(batch, req)
			default:
				break gather
			}
		}
		s.runBatch(batch)
		clear(batch)
	}
}

// runBatch appends the live requests of batch in one transaction and
// answers every request.
func (s *Store) runBatch(batch []*appendReq) {
	live := batch[:0:0]
	for _, r := range batch {
		if err := r.ctx.Err(); err != nil {
			r.done <- err // not started: nothing was written
			continue
		}
		live = append(live, r)
	}
	if len(live) == 0 {
		return
	}
	err := s.appendTx(live)
	var refused *pgconn.PgError
	if len(live) > 1 && errors.As(err, &refused) {
		for _, r := range live {
			r.done <- s.appendTx([]*appendReq{r})
		}
		return
	}
	for _, r := range live {
		r.done <- err
	}
}

// appendTx runs one append transaction (archive.go) with a timeout of its
// own: its callers wait whatever their contexts say.
func (s *Store) appendTx(reqs []*appendReq) (err error) {
	ctx, cancel := context.WithTimeout(context.Background(), s.opts.WriteTimeout)
	defer cancel()
	s.nBatches.Add(1)
	s.nOps.Add(int64(len(reqs)))
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("storage/postgres: panic in append: %v", r)
		}
	}()
	return s.fail(s.appendBatch(ctx, reqs))
}
