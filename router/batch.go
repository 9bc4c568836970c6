package router

import (
	"context"
	"errors"
	"math/bits"
	"sync"

	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/stanza"
	"github.com/skald-xmpp/skald/stream"
)

// MaxBatch is the most messages HandleMessagesFromClient takes at once.
// It bounds how long the recipients' stripe locks of one batch are held.
const MaxBatch = 64

// HandleMessagesFromClient processes message stanzas that a bound client
// sent back to back, with the same result as HandleFromClient called on
// each in turn, except that outbound hooks able to take a batch
// (BatchOutboundMessageHandler) see them together: the archive writes every
// message of the batch in one durable transaction instead of one each, so
// a client that pipelines its messages is not held to one commit per
// message.
//
// It returns how many of the stanzas were processed. That is all of them
// unless the stream must end: then err is non-nil (a *stream.Error or the
// context's error), and the stanzas from index n on were not processed.
// Stanza errors are answered to the client, in order, before it returns.
func (r *Router) HandleMessagesFromClient(ctx context.Context, s *Session, sts []*xml.Element) (n int, err error) {
	if len(sts) > MaxBatch {
		panic("router: message batch larger than MaxBatch")
	}
	evs := make([]*MessageEvent, 0, len(sts))
	pos := make([]int, 0, len(sts))
	errs := make([]error, 2*len(sts))
	errs, evErrs := errs[:len(sts)], errs[len(sts):]
	n = len(sts)
	for i, st := range sts {
		to, aerr := r.stampAddresses(s, st)
		var se *stream.Error
		if errors.As(aerr, &se) {
			n, err = i, se
			break
		}
		if aerr != nil {
			errs[i] = aerr
			continue
		}
		if svc := r.services[to.Domain()]; svc != nil {
			// The service is the addressee: none of the delivery rules or
			// message hooks apply, and it has no ordering to share with
			// the batch's messages to accounts.
			errs[i] = svc.HandleServiceStanza(ctx, s, st, to)
			continue
		}
		if to.IsZero() {
			to = s.jid.Bare()
		}
		evs = append(evs, &MessageEvent{Stanza: st, From: s.jid, To: to, Sender: s})
		pos = append(pos, i)
	}
	evErrs = evErrs[:len(evs)]
	r.routeMessages(ctx, evs, evErrs)
	for j, e := range evErrs {
		errs[pos[j]] = e
	}
	for i, e := range errs[:n] {
		if e == nil {
			continue
		}
		if ctx.Err() != nil {
			return i, ctx.Err()
		}
		r.replyError(s, sts[i], r.stanzaError(e, sts[i]))
	}
	return n, err
}

// routeMessages routes messages in order; errs[i] receives message i's
// error (nil if it was delivered, stored, or dropped as the rules say).
//
// Ordering. Archive order must be the order in which the recipient's
// clients get messages (XEP-0313 §3.1), so for a local recipient the
// outbound hooks and the delivery run under the recipient's stripe lock;
// the outbound hooks run under it too, so that the archive module can
// write the sender's and the recipient's copies in one transaction. The
// stripes of every recipient of the batch are taken together, in
// ascending stripe order (the only order in which a goroutine ever holds
// more than one; hooks never route messages, so none is taken twice), and
// held until the last message is delivered.
//
// Hooks. The outbound hooks that can take a batch and are registered
// before any that cannot run first, once, over the whole batch. Then each
// message in turn runs the remaining outbound hooks and is delivered, so
// per message every hook still runs in registration order, and what a
// message's recipient sees is never ahead of its archiving.
func (r *Router) routeMessages(ctx context.Context, evs []*MessageEvent, errs []error) {
	var locks stripeSet
	var seen accountsSeen
	live := 0
	for i, ev := range evs {
		var proceed bool
		proceed, errs[i] = r.admit(ctx, ev, &seen)
		if !proceed {
			evs[i] = nil // drop it from the later passes
			continue
		}
		live++
		if ev.Inbound {
			locks.add(r.stripeOf(ev.To.Bare().String()))
		}
	}
	if live == 0 {
		return
	}
	locks.lock(&r.stripes)
	defer locks.unlock(&r.stripes)

	batched := r.batchedOutbound
	if batched > 0 {
		sent := make([]*MessageEvent, 0, live)
		at := make([]int, 0, live)
		for i, ev := range evs {
			if ev != nil && ev.Sender != nil {
				sent = append(sent, ev)
				at = append(at, i)
			}
		}
		if len(sent) > 0 {
			hookErrs := make([]error, len(sent))
			for _, h := range r.outbound[:batched] {
				h.(BatchOutboundMessageHandler).OutboundMessages(ctx, sent, hookErrs)
				// Messages a hook failed go no further, not even to the
				// next batched hook.
				k := 0
				for j, e := range hookErrs {
					if e != nil {
						errs[at[j]] = e
						evs[at[j]] = nil
						continue
					}
					sent[k], at[k] = sent[j], at[j]
					k++
				}
				sent, at, hookErrs = sent[:k], at[:k], hookErrs[:k]
			}
		}
	}
	for i, ev := range evs {
		if ev == nil {
			continue
		}
		errs[i] = r.routeOne(ctx, ev, batched)
	}
}

// admit checks a message's recipient before any hook runs and sets
// ev.Self and ev.Inbound. proceed is false when the message goes no
// further: with err set for a bounce, nil for a silent drop. seen keeps
// the accounts looked up for the batch, so a batch to one peer asks the
// store once.
func (r *Router) admit(ctx context.Context, ev *MessageEvent, seen *accountsSeen) (proceed bool, err error) {
	ev.Self = ev.From.Bare() == ev.To.Bare()
	if r.components[ev.To.Domain()] {
		// To an external component: refused before any hook runs while
		// none is connected, so a bounce is never archived; else like a
		// message to a remote server (routeOne).
		if !r.comp.ComponentConnected(ev.To.Domain()) {
			return false, stanza.E(stanza.ServiceUnavailable, "")
		}
		ev.Remote = true
		return true, nil
	}
	if !r.domains[ev.To.Domain()] {
		// From a local client, or from a hosted service (a MUC room's
		// invitation to a remote JID), never from a remote server.
		fromService := ev.Sender == nil && r.services[ev.From.Domain()] != nil
		if r.remote == nil || (ev.Sender == nil && !fromService) {
			return false, stanza.E(stanza.RemoteServerNotFound, "")
		}
		// Through the outbound hooks (blocking, the sender's archive,
		// sent carbons), then to the remote transport (routeOne).
		ev.Remote = true
		return true, nil
	}
	if ev.To.Local() != "" && !ev.Self {
		bare := ev.To.Bare().String()
		ok, known := seen.lookup(bare)
		if !known {
			if ok, err = r.users.UserExists(ctx, bare); err != nil {
				return false, err
			}
			seen.add(bare, ok)
		}
		if !ok {
			if typ := ev.Stanza.Attr("type"); typ == "error" || typ == "headline" {
				return false, nil
			}
			return false, stanza.E(stanza.ServiceUnavailable, "")
		}
	}
	if ev.To.Local() != "" && ev.To.IsFull() && goneResourceBounces(ev.Stanza.Attr("type")) && r.Session(ev.To) == nil {
		// Refused here, not after the hooks, so it is never archived.
		return false, stanza.E(stanza.ServiceUnavailable, "")
	}
	// Messages to the server itself (no localpart) go through the
	// outbound hooks only: nothing here consumes them.
	ev.Inbound = ev.To.Local() != ""
	return true, nil
}

// routeOne runs the outbound hooks from index from on, then delivers.
func (r *Router) routeOne(ctx context.Context, ev *MessageEvent, from int) error {
	if ev.Sender != nil {
		for _, h := range r.outbound[from:] {
			if err := h.OutboundMessage(ctx, ev); err != nil {
				return err
			}
		}
	}
	if ev.Remote {
		return r.SendRemote(ev.Stanza, ev.From, ev.To)
	}
	if !ev.Inbound {
		return nil
	}
	return r.deliverMessage(ctx, ev)
}

// stripeOf returns the index of a recipient account's stripe lock. Stripes
// bound memory; two accounts sharing a stripe only serialise more than
// needed.
func (r *Router) stripeOf(bare string) uint8 {
	h := uint32(2166136261)
	for i := 0; i < len(bare); i++ {
		h = (h ^ uint32(bare[i])) * 16777619
	}
	return uint8(h % uint32(len(r.stripes)))
}

// stripeSet is a set of stripe indexes; lock and unlock walk it in
// ascending order, the lock order of the stripes.
type stripeSet [4]uint64

func (s *stripeSet) add(i uint8) { s[i/64] |= 1 << (i % 64) }

func (s *stripeSet) each(f func(i int)) {
	for w, word := range s {
		for word != 0 {
			b := bits.TrailingZeros64(word)
			word &^= 1 << b
			f(w*64 + b)
		}
	}
}

func (s *stripeSet) lock(stripes *[256]sync.Mutex) { s.each(func(i int) { stripes[i].Lock() }) }

func (s *stripeSet) unlock(stripes *[256]sync.Mutex) { s.each(func(i int) { stripes[i].Unlock() }) }

// accountsSeen remembers, for one batch, which accounts exist. The
// answers are as old as the batch: an account deleted while a batch is
// routed is treated as a message racing the deletion would be.
type accountsSeen struct {
	bare   []string
	exists []bool
}

func (a *accountsSeen) lookup(bare string) (exists, known bool) {
	for i, b := range a.bare {
		if b == bare {
			return a.exists[i], true
		}
	}
	return false, false
}

func (a *accountsSeen) add(bare string, exists bool) {
	a.bare = append(a.bare, bare)
	a.exists = append(a.exists, exists)
}
