package carbons

import (
	"sync"
	"time"

	"github.com/skald-xmpp/skald/internal/xml"
)

// Errors are eligible for carbons delivery under urn:xmpp:carbons:rules:0
// when they answer an eligible message (XEP-0280 §6). An error carries the
// id of the message it answers (RFC 6120 §8.3.1) and comes from the
// address that message went to, so eligible messages are remembered by
// (account, peer's bare JID, id) for answerTTL: an error with that id
// between the two is a copy-worthy answer. Only messages that were copied
// to another session are remembered: an answer matters to the sessions
// that saw the message, and an account with one session (most traffic)
// then pays no shared lock and no memory per message. A session that
// comes online after the message does not get the answer either. Errors the server itself sends
// in answer to a message reach the module with the message
// (router.BounceObserver) and need no memory.
const (
	answerTTL = 10 * time.Minute
	// maxAnswerable bounds the memory (entries of ~150 bytes); the oldest
	// entries go first.
	maxAnswerable = 100000
	// maxAnswerableID bounds the ids remembered; longer ones are not.
	maxAnswerableID = 256
)

type answerKey struct{ account, peer, id string }

type answerEntry struct {
	key  answerKey
	seq  uint64
	when time.Time
}

// answerable remembers eligible messages an error may answer.
type answerable struct {
	mu   sync.Mutex
	seq  uint64
	m    map[answerKey]answerEntry
	ring []answerKey // insertion order, for eviction; len <= maxAnswerable
	next int         // ring position of the oldest entry once full
	now  func() time.Time
}

func newAnswerable() *answerable {
	return &answerable{m: make(map[answerKey]answerEntry), now: time.Now}
}

// remember notes an eligible message between account and peer (bare
// JIDs) with the given id.
func (a *answerable) remember(account, peer, id string) {
	if id == "" || len(id) > maxAnswerableID {
		return
	}
	k := answerKey{account, peer, id}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.seq++
	if len(a.ring) < maxAnswerable {
		a.ring = append(a.ring, k)
	} else {
		old := a.ring[a.next]
		// Only the oldest entry of that key is evicted: a key remembered
		// again since keeps its newer entry.
		if e, ok := a.m[old]; ok && e.seq <= a.seq-uint64(maxAnswerable) {
			delete(a.m, old)
		}
		a.ring[a.next] = k
		a.next = (a.next + 1) % maxAnswerable
	}
	a.m[k] = answerEntry{key: k, seq: a.seq, when: a.now()}
}

// answers reports whether an error between account and peer with the
// given id answers a remembered eligible message.
func (a *answerable) answers(account, peer, id string) bool {
	if id == "" {
		return false
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	e, ok := a.m[answerKey{account, peer, id}]
	return ok && a.now().Sub(e.when) < answerTTL
}

// noCopy reports whether a message asks not to be copied (§9, XEP-0334).
func noCopy(m *xml.Element) bool {
	for _, c := range m.Elements() {
		if c.Is(NS, "private") || c.Is(NSHints, "no-copy") {
			return true
		}
	}
	return false
}
