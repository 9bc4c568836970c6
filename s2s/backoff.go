package s2s

import (
	"container/list"
	"time"

	"github.com/skald-xmpp/skald/stanza"
)

// Back-off on unreachable domains: after an outgoing stream to a domain
// fails to connect, secure or authenticate, stanzas for the domain are
// refused at once with the failure's condition (RFC 6120 §8.3.3.15-16)
// for a while rather than each costing a DNS lookup, a connection attempt
// and connect_timeout of waiting. The wait starts at backoffFirst and
// doubles on each failure up to retry_backoff_max; a stream that becomes
// ready, or a peer that authenticates an incoming stream (it is alive),
// forgets the domain.
const (
	backoffFirst = 10 * time.Second
	// backoffDomains bounds the table: remote parties choose the domains
	// stanzas go to, so a flood of dead domains must not grow it without
	// end. The domain that failed longest ago is forgotten first.
	backoffDomains = 10000
)

type backoffEntry struct {
	domain string
	until  time.Time        // stanzas are refused before it
	delay  time.Duration    // the wait that ends at until
	cond   stanza.Condition // what the last attempt found
	elem   *list.Element    // in backoffTable.order
}

// backoffTable is the failure memory of remote domains, guarded by
// Server.mu.
type backoffTable struct {
	max     time.Duration // retry_backoff_max; 0 turns back-off off
	limit   int
	domains map[string]*backoffEntry
	order   *list.List // of *backoffEntry, the oldest failure first
}

func newBackoffTable(max time.Duration, limit int) *backoffTable {
	return &backoffTable{max: max, limit: limit, domains: make(map[string]*backoffEntry), order: list.New()}
}

// failed records a failed attempt on domain at now.
func (b *backoffTable) failed(domain string, cond stanza.Condition, now time.Time) {
	if b.max <= 0 {
		return
	}
	first := min(backoffFirst, b.max)
	e := b.domains[domain]
	switch {
	case e == nil:
		if len(b.domains) >= b.limit {
			b.forget(b.order.Front().Value.(*backoffEntry).domain)
		}
		e = &backoffEntry{domain: domain, delay: first}
		e.elem = b.order.PushBack(e)
		b.domains[domain] = e
	case now.After(e.until.Add(b.max)):
		// Long since the last failure: start again from the first wait.
		e.delay = first
		b.order.MoveToBack(e.elem)
	default:
		e.delay = min(2*e.delay, b.max)
		b.order.MoveToBack(e.elem)
	}
	e.until = now.Add(e.delay)
	e.cond = cond
}

// refused reports whether domain is in back-off at now, and with what.
func (b *backoffTable) refused(domain string, now time.Time) (stanza.Condition, bool) {
	e := b.domains[domain]
	if e == nil || !now.Before(e.until) {
		return "", false
	}
	return e.cond, true
}

// forget clears domain: it is reachable (or alive).
func (b *backoffTable) forget(domain string) {
	if e := b.domains[domain]; e != nil {
		b.order.Remove(e.elem)
		delete(b.domains, domain)
	}
}

// active counts the domains in back-off at now.
func (b *backoffTable) active(now time.Time) int {
	n := 0
	for _, e := range b.domains {
		if now.Before(e.until) {
			n++
		}
	}
	return n
}
