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
	return r.query(to.DomainJID(), to, iq, timeout, done, s.Send)
}

// QueryRemote is QueryClient for a full JID on a remote domain: the iq
// goes from the served domain from over the remote transport, and the
// answer, which the remote server addresses to that domain, comes back
// through HandleFromRemote. Only an answer from to itself is taken.
func (r *Router) QueryRemote(from, to jid.JID, iq *xml.Element, timeout time.Duration, done func(resp *xml.Element)) error {
	if !r.IsRemote(to) || !to.IsFull() || !r.domains[from.Domain()] {
		return ErrNoSession
	}
	from = from.DomainJID()
	return r.query(from, to, iq, timeout, done, func(st *xml.Element) error {
		return r.SendRemote(st, from, to)
	})
}

// query records a pending query to to and sends iq with send.
func (r *Router) query(from, to jid.JID, iq *xml.Element, timeout time.Duration, done func(resp *xml.Element), send func(*xml.Element) error) error {
	var b [9]byte
	_, _ = rand.Read(b[:])
	id := "srv-" + hex.EncodeToString(b[:])
	iq.SetAttr("id", id)
	iq.SetAttr("from", from.String())
	iq.SetAttr("to", to.String())
	p := &pendingQuery{to: to, done: done}
	q := &r.queries
	q.mu.Lock()
	if len(q.m) >= MaxPendingQueries {
		q.mu.Unlock()
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
	q.mu.Unlock()
	if err := send(iq); err != nil {
		if q.take(id, jid.JID{}, true) != nil {
			done(nil)
		}
	}
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

// answered hands an iq result or error addressed to the server to the
// query it answers; one that answers no query of ours is dropped (RFC
// 6120 §8.2.3: never answer a response).
func (r *Router) answered(st *xml.Element, from jid.JID) {
	if p := r.queries.take(st.Attr("id"), from, false); p != nil {
		p.done(st)
	}
}
