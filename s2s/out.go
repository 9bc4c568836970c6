package s2s

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"time"

	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/stanza"
	"github.com/skald-xmpp/skald/stream"
)

// outStream is the one outgoing stream of a (local, remote) domain pair.
// SendRemote queues stanzas (under Server.mu, never blocking); run, its
// only writer, connects, authenticates, then writes them. While it is set
// up stanzas wait in the queue, at most queue_stanzas of them.
//
// Invariant: once removeOut has run, no stanza joins the queue, so run
// can bounce every stanza left in it and none is lost unanswered.
type outStream struct {
	s *Server
	pair
	queue    chan *xml.Element
	stopOnce sync.Once
	stopped  chan struct{} // closed by stop (Shutdown)
}

func newOutStream(s *Server, p pair) *outStream {
	return &outStream{s: s, pair: p, queue: make(chan *xml.Element, s.cfg.QueueStanzas), stopped: make(chan struct{})}
}

func (o *outStream) stop() { o.stopOnce.Do(func() { close(o.stopped) }) }

// run is the stream's goroutine.
func (o *outStream) run() {
	s := o.s
	ctx, cancel := context.WithTimeout(s.ctx, s.cfg.ConnectTimeout)
	pc, err := s.connect(ctx, o.local, o.remote)
	if err == nil {
		// Shutdown ends the negotiation at once, not at its deadline.
		stop := context.AfterFunc(ctx, func() { pc.nc.Close() })
		err = s.authenticate(pc, o.local, o.remote)
		if !stop() && err == nil {
			err = ctx.Err()
		}
		if err != nil {
			pc.nc.Close()
		}
	}
	cancel()
	if err != nil {
		s.counters.outFailed.Inc()
		s.log.Info("s2s: outgoing stream failed", "local", o.local, "remote", o.remote, "err", err)
		cond := stanza.RemoteServerTimeout
		if errors.Is(err, errNotFound) {
			cond = stanza.RemoteServerNotFound
		}
		if s.ctx.Err() == nil {
			// Before end, so that no stanza after it starts another
			// attempt. Shutdown's cancellation is no failure of the peer.
			s.mu.Lock()
			s.backoff.failed(o.remote, cond, s.now())
			s.mu.Unlock()
		}
		o.end(cond)
		return
	}
	s.log.Info("s2s: outgoing stream ready", "local", o.local, "remote", o.remote)
	s.peerAlive(o.remote)
	pc.nc.SetDeadline(time.Time{})

	// The peer sends nothing on our stream but its end (or an error):
	// a reader notices that, so the stream is not written into the void.
	dead := make(chan struct{})
	s.mu.Lock()
	started := s.goroutineLocked(func() {
		defer close(dead)
		for {
			if _, err := pc.rd.Next(); err != nil {
				return
			}
		}
	})
	s.mu.Unlock()
	if !started {
		pc.nc.Close()
		o.end(stanza.RemoteServerTimeout)
		return
	}
	idle := time.NewTimer(s.cfg.IdleTimeout)
	defer idle.Stop()
	var buf bytes.Buffer
	for {
		select {
		case st := <-o.queue:
			buf.Reset()
			n := 0
			batch := []*xml.Element{st}
			serverCopy(st).WriteTo(&buf, stream.NSServer)
			// Whatever else is queued goes in the same write.
		more:
			for n < 63 {
				select {
				case st := <-o.queue:
					batch = append(batch, st)
					serverCopy(st).WriteTo(&buf, stream.NSServer)
					n++
				default:
					break more
				}
			}
			if err := writeAll(pc.nc, s.cfg.ConnectTimeout, buf.Bytes()); err != nil {
				for _, st := range batch {
					s.bounce(st, stanza.RemoteServerTimeout)
				}
				pc.nc.Close()
				o.end(stanza.RemoteServerTimeout)
				<-dead
				return
			}
			s.counters.stanzasOut.Add(uint64(len(batch)))
			idle.Reset(s.cfg.IdleTimeout)
		case <-idle.C:
			o.close(pc, dead)
			return
		case <-o.stopped:
			// Shutdown: what is queued (the unavailable presence of the
			// sessions c2s just ended) still goes, then the stream ends.
			buf.Reset()
			n := 0
		flush:
			for {
				select {
				case st := <-o.queue:
					serverCopy(st).WriteTo(&buf, stream.NSServer)
					n++
				default:
					break flush
				}
			}
			if n > 0 && writeAll(pc.nc, time.Second, buf.Bytes()) == nil {
				s.counters.stanzasOut.Add(uint64(n))
			}
			o.close(pc, dead)
			return
		case <-dead:
			pc.nc.Close()
			o.end(stanza.RemoteServerTimeout)
			return
		}
	}
}

// close ends the stream gracefully (RFC 6120 §4.4): stanzas queued
// meanwhile bounce, since the stream is gone and a new one will only be
// made for new stanzas.
func (o *outStream) close(pc *peerConn, dead chan struct{}) {
	o.s.removeOut(o)
	writeAll(pc.nc, time.Second, []byte(stream.Close))
	select {
	case <-dead: // the peer closed its side
	case <-time.After(time.Second):
	}
	pc.nc.Close()
	<-dead
	o.drain(stanza.RemoteServerTimeout)
}

// end forgets the stream and bounces what is queued.
func (o *outStream) end(cond stanza.Condition) {
	o.s.removeOut(o)
	o.drain(cond)
}

func (o *outStream) drain(cond stanza.Condition) {
	for {
		select {
		case st := <-o.queue:
			o.s.bounce(st, cond)
		default:
			return
		}
	}
}

// bounce answers a queued stanza that will not be delivered.
func (s *Server) bounce(st *xml.Element, cond stanza.Condition) {
	s.counters.bounced.Inc()
	s.r.Bounce(st, cond)
}
