package router

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"sync"
	"time"

	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/jid"
)

// MaxPendingQueries bounds the iqs the server may have asked clients
// without an answer yet: a client that never answers cannot make the
// table grow without limit.
const MaxPendingQueries = 10000

// ErrTooManyQueries is returned by QueryClient when MaxPendingQueries are
// waiting.
var ErrTooManyQueries = errors.New("router: too many pending server queries")

// pendingQueries is the table of iqs the server sent to clients (RFC 6120
// §8.2.3: the server is an entity that may send iq get/set too) and waits
// to see answered. Its mutex is a leaf: callbacks run after it is
// released.
type pendingQueries struct {
	mu sync.Mutex
	m  map[string]*pendingQuery // iq id -> query
}

type pendingQuery struct {
	to    jid.JID
	timer *time.Timer
	done  func(resp *xml.Element)
}

// QueryClient sends iq (type get or set, no id: one is generated) from the
// server's domain to the local full JID to, and calls done once: with the
// client's answer (an iq of type result or error, as the client sent it
// with 'from' stamped) when it arrives, or with nil after timeout, or if
// the iq could not be queued. done runs on the goroutine that handles the
// answer (the client's reader) or on a timer goroutine; it must not block
// for long.
func (r *Router) QueryClient(to jid.JID, iq *xml.Element, timeout time.Duration, done func(resp *xml.Element)) error {
	s := r.Session(to)
	if s == nil {
		return ErrNoSession
	}
	id := newQueryID()
	iq.SetAttr("id", id)
	iq.SetAttr("from", to.Domain())
	iq.SetAttr("to", to.String())
	q := &r.queries
	if err := q.add(id, to, timeout, done); err != nil {
		return err
	}
	if err := s.Send(iq); err != nil {
		if q.take(id, jid.JID{}, true) != nil {
			done(nil)
		}
	}
	return nil
}

// QueryRemote sends iq (type get or set, no id: one is generated) from
// from, a local account's bare JID, to to, a JID on a domain the router
// does not serve (neither an account domain nor a hosted service's),
// through the remote transport, and calls done once: with
// the answer (an iq result or error from to), with the error the
// transport bounces it with, or with nil after timeout. An iq the
// transport refuses at once (no federation: remote-server-not-found) is
// that error, and done is not called. The push module publishes XEP-0357
// notifications to app servers with it.
func (r *Router) QueryRemote(iq *xml.Element, from, to jid.JID, timeout time.Duration, done func(resp *xml.Element)) error {
	if !r.IsRemote(to) || r.services[to.Domain()] != nil || !r.IsLocalAccount(from) || from.IsFull() {
		return errors.New("router: QueryRemote is from a local bare JID to a remote JID")
	}
	id := newQueryID()
	iq.SetAttr("id", id)
	iq.SetAttr("from", from.String())
	iq.SetAttr("to", to.String())
	q := &r.queries
	if err := q.add(id, to, timeout, done); err != nil {
		return err
	}
	if err := r.SendRemote(iq, from, to); err != nil {
		if q.take(id, jid.JID{}, true) == nil {
			return nil // timed out meanwhile: done has run
		}
		return err
	}
	return nil
}

func newQueryID() string {
	var b [9]byte
	_, _ = rand.Read(b[:])
	return "srv-" + hex.EncodeToString(b[:])
}

// add records a pending query answered by to, which times out after
// timeout.
func (q *pendingQueries) add(id string, to jid.JID, timeout time.Duration, done func(*xml.Element)) error {
	p := &pendingQuery{to: to, done: done}
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.m) >= MaxPendingQueries {
		return ErrTooManyQueries
	}
	if q.m == nil {
		q.m = make(map[string]*pendingQuery)
	}
	q.m[id] = p
	p.timer = time.AfterFunc(timeout, func() {
		if q.take(id, jid.JID{}, true) != nil {
			done(nil)
		}
	})
	return nil
}

// ErrNoSession is returned by QueryClient for a full JID with no session.
var ErrNoSession = errors.New("router: no such session")

// take removes and returns the query with id if from may answer it (any
// sender when anyFrom), else nil.
func (q *pendingQueries) take(id string, from jid.JID, anyFrom bool) *pendingQuery {
	q.mu.Lock()
	defer q.mu.Unlock()
	p := q.m[id]
	if p == nil || (!anyFrom && p.to != from) {
		return nil
	}
	delete(q.m, id)
	p.timer.Stop()
	return p
}

// bounced hands an iq the remote transport could not deliver to the
// query it was (QueryRemote), as the error reply, and reports whether it
// was one.
func (r *Router) bounced(st, reply *xml.Element) bool {
	if st.Local != "iq" {
		return false
	}
	to, err := jid.Parse(st.Attr("to"))
	if err != nil {
		return false
	}
	p := r.queries.take(st.Attr("id"), to, false)
	if p == nil {
		return false
	}
	p.done(reply)
	return true
}

// answered hands an iq result or error addressed to the server to the
// query it answers; one that answers no query of ours is dropped (RFC
// 6120 §8.2.3: never answer a response).
func (r *Router) answered(st *xml.Element, from jid.JID) {
	if p := r.queries.take(st.Attr("id"), from, false); p != nil {
		p.done(st)
	}
}
