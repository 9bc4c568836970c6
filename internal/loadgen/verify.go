package loadgen

import (
	"context"
	"sync"
	"time"
)

// ArchiveCheck is the MAM verification of a traffic run: both archives of
// every flow, filtered with the peer, paged forward from the item that was
// last before the run.
type ArchiveCheck struct {
	Archives           int     `json:"archives"`
	Queries            int     `json:"queries"`
	Seconds            float64 `json:"seconds"`
	SenderItems        int     `json:"sender_items"`   // this run's items in the senders' archives
	ReceiverItems      int     `json:"receiver_items"` // … in the receivers' archives
	SenderMissing      int     `json:"sender_missing"` // delivered messages absent from the sender's archive
	SenderDuplicates   int     `json:"sender_duplicates"`
	ReceiverMissing    int     `json:"receiver_missing"`
	ReceiverDuplicates int     `json:"receiver_duplicates"`
	StanzaIDsMissing   int     `json:"stanza_ids_missing"` // delivered stanza-ids not among the receiver's archive ids
	Errors             int     `json:"errors"`
	Error              string  `json:"error,omitempty"` // the first query error
}

// OK reports a complete, duplicate-free archive on both sides.
func (a *ArchiveCheck) OK() bool {
	return a.SenderMissing == 0 && a.SenderDuplicates == 0 && a.ReceiverMissing == 0 &&
		a.ReceiverDuplicates == 0 && a.StanzaIDsMissing == 0 && a.Errors == 0
}

// archiveMarks are the newest archive ids before a run, per flow: the
// sender's with the receiver and the receiver's with the sender.
type archiveMarks struct{ from, to []string }

// forEach runs f(i) for i < n, at most par at a time.
func forEach(n, par int, f func(i int)) {
	sem := make(chan struct{}, max(par, 1))
	var wg sync.WaitGroup
	for i := range n {
		sem <- struct{}{}
		wg.Add(1)
		go func() { defer func() { <-sem; wg.Done() }(); f(i) }()
	}
	wg.Wait()
}

func (tr *traffic) marks(ctx context.Context) (archiveMarks, error) {
	m := archiveMarks{from: make([]string, len(tr.flows)), to: make([]string, len(tr.flows))}
	errs := make([]error, 2*len(tr.flows))
	forEach(2*len(tr.flows), 32, func(i int) {
		f := tr.flows[i/2]
		if i%2 == 0 {
			m.from[i/2], errs[i] = f.from.LastID(ctx, f.to.Bare)
		} else {
			m.to[i/2], errs[i] = f.to.LastID(ctx, f.from.Bare)
		}
	})
	for _, err := range errs {
		if err != nil {
			return m, err
		}
	}
	return m, nil
}

// archiveSide is what one archive holds of one flow.
type archiveSide struct {
	items   int
	counts  []int           // per seq
	ids     map[string]bool // archive ids of this run's items
	queries int
	err     error
}

func (tr *traffic) readSide(ctx context.Context, c *Client, f *flow, with, after string, page int) archiveSide {
	s := archiveSide{counts: make([]int, f.n), ids: map[string]bool{}}
	s.queries, s.err = c.PageForward(ctx, MAMQuery{With: with, After: after, Max: page}, 0, func(p *MAMPage) {
		for _, it := range p.Items {
			run, fid, seq, ok := parseBody(it.Message.Child("", "body").Text())
			if !ok || tr.lookup(run, fid, seq) != f {
				continue
			}
			s.items++
			s.counts[seq]++
			s.ids[it.ID] = true
		}
	})
	return s
}

// verify checks both archives of every flow against what was delivered.
func (tr *traffic) verify(ctx context.Context, m archiveMarks, page int) *ArchiveCheck {
	start := time.Now()
	sides := make([]archiveSide, 2*len(tr.flows))
	forEach(len(sides), 32, func(i int) {
		f := tr.flows[i/2]
		if i%2 == 0 {
			sides[i] = tr.readSide(ctx, f.from, f, f.to.Bare, m.from[i/2], page)
		} else {
			sides[i] = tr.readSide(ctx, f.to, f, f.from.Bare, m.to[i/2], page)
		}
	})
	ac := &ArchiveCheck{Archives: len(sides)}
	for i, f := range tr.flows {
		snd, rcv := sides[2*i], sides[2*i+1]
		for _, s := range []archiveSide{snd, rcv} {
			ac.Queries += s.queries
			if s.err != nil {
				ac.Errors++
				if ac.Error == "" {
					ac.Error = s.err.Error()
				}
			}
		}
		ac.SenderItems += snd.items
		ac.ReceiverItems += rcv.items
		f.mu.Lock()
		for seq := range f.n {
			delivered := f.got[seq] > 0 && !f.bouncedSeq[seq]
			switch {
			case snd.counts[seq] == 0 && delivered:
				ac.SenderMissing++
			case snd.counts[seq] > 1:
				ac.SenderDuplicates += snd.counts[seq] - 1
			}
			switch {
			case rcv.counts[seq] == 0 && delivered:
				ac.ReceiverMissing++
			case rcv.counts[seq] > 1:
				ac.ReceiverDuplicates += rcv.counts[seq] - 1
			}
			if sid := f.stanzaIDs[seq]; sid != "" && !rcv.ids[sid] {
				ac.StanzaIDsMissing++
			}
		}
		f.mu.Unlock()
	}
	ac.Seconds = secs(time.Since(start))
	return ac
}
