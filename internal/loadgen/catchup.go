package loadgen

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"
)

// CatchupParams configure the catch-up scenario.
type CatchupParams struct {
	Conversations int `json:"conversations"` // peers (accounts 1…Conversations)
	Seen          int `json:"seen"`          // messages per conversation read before going offline
	New           int `json:"new"`           // messages per conversation to catch up on
	Window        int `json:"window"`        // prefill window per peer
	Parallel      int `json:"parallel"`      // conversations queried at once
	Page          int `json:"page"`          // RSM max
}

func (p *CatchupParams) validate() error {
	if p.Conversations < 1 || p.Seen < 1 || p.New < 0 {
		return errors.New("catchup: needs at least 1 conversation and 1 seen message")
	}
	p.Window = max(p.Window, 1)
	p.Parallel = max(p.Parallel, 1)
	if p.Page <= 0 {
		p.Page = 50
	}
	return nil
}

// CatchupResult is the outcome of the catch-up scenario.
type CatchupResult struct {
	Scenario       string        `json:"scenario"`
	Params         CatchupParams `json:"params"`
	Users          string        `json:"users"`
	Prefill        TrafficStats  `json:"prefill"`
	LoginSeconds   float64       `json:"login_seconds"`     // connect to bound
	QuerySeconds   float64       `json:"query_seconds"`     // first query to last fin
	CaughtUpSecs   float64       `json:"caught_up_seconds"` // connect to caught up
	Queries        int           `json:"queries"`
	Messages       int           `json:"messages"` // this run's new messages fetched
	Missing        int           `json:"missing"`
	Duplicates     int           `json:"duplicates"`
	Errors         int           `json:"errors"`
	Error          string        `json:"error,omitempty"`
	QueryLatency   Latency       `json:"query_latency"`
	MessagesPerSec float64       `json:"messages_per_second"`
}

func (r *CatchupResult) Name() string { return r.Scenario }

func (r *CatchupResult) Print(w io.Writer) {
	var t table
	t.add("setup", "%d conversations, %d seen + %d new messages each, %d in parallel, users %s",
		r.Params.Conversations, r.Params.Seen, r.Params.New, r.Params.Parallel, r.Users)
	t.traffic("prefill ", r.Prefill)
	t.add("caught up", "%.3f s (login %.3f s + queries %.3f s)", r.CaughtUpSecs, r.LoginSeconds, r.QuerySeconds)
	t.add("fetched", "%d messages in %d queries, %.0f msg/s; %d missing, %d duplicates, %d errors",
		r.Messages, r.Queries, r.MessagesPerSec, r.Missing, r.Duplicates, r.Errors)
	t.add("query latency", "%s", r.QueryLatency)
	if r.Error != "" {
		t.add("first error", "%s", r.Error)
	}
	t.print(w, "catchup")
}

// OK reports a complete catch-up.
func (r *CatchupResult) OK() bool {
	return r.Missing == 0 && r.Duplicates == 0 && r.Errors == 0 && r.Prefill.Lost == 0
}

// RunCatchup runs the catch-up scenario. Account 0's first device is
// online while each of Conversations peers sends it Seen+New messages;
// the device remembers the archive id of the Seen-th message of each
// conversation and goes away. A second device then logs in and catches
// up as Conversations and Gajim do: per conversation, a query with the
// peer after the remembered id, paged until complete.
func RunCatchup(ctx context.Context, t *Target, p CatchupParams) (*CatchupResult, error) {
	if err := p.validate(); err != nil {
		return nil, err
	}
	r := &CatchupResult{Scenario: "catchup", Params: p, Users: t.userRange(0, 1+p.Conversations)}
	run := newRunID()
	specs := []loginSpec{{account: 0, resource: "old-" + run, presence: true}}
	for i := range p.Conversations {
		specs = append(specs, loginSpec{account: 1 + i, resource: "peer-" + run, presence: true})
	}
	t.logf("catchup: logging in %d clients (%s)", len(specs), r.Users)
	cs, err := t.loginAll(ctx, specs, nil)
	if err != nil {
		return nil, err
	}
	old, peers := cs[0], cs[1:]
	to := make([]*Client, len(peers))
	counts := make([]int, len(peers))
	for i := range to {
		to[i], counts[i] = old, p.Seen+p.New
	}
	t.logf("catchup: prefilling %d conversations with %d messages", p.Conversations, p.Seen+p.New)
	tr, st := t.prefill(ctx, peers, to, counts, p.Window)
	r.Prefill = st
	closeAll(cs)
	if st.Lost > 0 || st.Error != "" {
		return r, fmt.Errorf("catchup: prefill incomplete: %d of %d lost %s", st.Lost, st.Messages, st.Error)
	}
	marks := make([]string, len(peers))
	for i, f := range tr.flows {
		if marks[i] = f.stanzaIDs[p.Seen-1]; marks[i] == "" {
			return r, errors.New("catchup: the server sent no stanza-id to remember")
		}
	}

	t.logf("catchup: catching up")
	start := time.Now()
	c, err := t.Login(ctx, 0, "new-"+run)
	if err != nil {
		return r, err
	}
	defer c.Close()
	r.LoginSeconds = secs(time.Since(start))
	qstart := time.Now()
	var mu sync.Mutex
	var lat []time.Duration
	forEach(len(peers), p.Parallel, func(i int) {
		f := tr.flows[i]
		counts := make([]int, f.n)
		last := time.Now()
		var plat []time.Duration
		queries, err := c.PageForward(ctx, MAMQuery{With: f.from.Bare, After: marks[i], Max: p.Page}, 0, func(pg *MAMPage) {
			now := time.Now()
			plat = append(plat, now.Sub(last))
			last = now
			for _, it := range pg.Items {
				run, fid, seq, ok := parseBody(it.Message.Child("", "body").Text())
				if ok && tr.lookup(run, fid, seq) == f {
					counts[seq]++
				}
			}
		})
		mu.Lock()
		defer mu.Unlock()
		lat = append(lat, plat...)
		r.Queries += queries
		if err != nil {
			r.Errors++
			if r.Error == "" {
				r.Error = err.Error()
			}
		}
		for seq, n := range counts {
			switch {
			case seq < p.Seen && n > 0:
				r.Duplicates += n // already seen: must not come again
			case seq >= p.Seen && n == 0:
				r.Missing++
			case n > 1:
				r.Duplicates += n - 1
			}
			if seq >= p.Seen && n > 0 {
				r.Messages++
			}
		}
	})
	r.QuerySeconds = secs(time.Since(qstart))
	r.CaughtUpSecs = secs(time.Since(start))
	r.QueryLatency = summarize(lat)
	r.MessagesPerSec = rate(r.Messages, time.Since(qstart))
	return r, ctx.Err()
}
