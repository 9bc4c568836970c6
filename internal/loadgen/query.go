package loadgen

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"
)

// QueryParams configure the query scenario.
type QueryParams struct {
	Archive     int `json:"archive"`         // messages prefilled into the archive
	Queries     int `json:"queries"`         // per kind
	Concurrency int `json:"concurrency"`     // sessions querying at once
	Senders     int `json:"prefill_senders"` // peers writing the prefill
	Window      int `json:"window"`          // prefill window per sender
	Page        int `json:"page"`            // page size (RSM max)
	PageThrough int `json:"page_through"`    // messages per page-through query
}

func (p *QueryParams) validate() error {
	if p.Archive < 1 || p.Queries < 1 || p.Concurrency < 1 {
		return errors.New("query: archive, queries and concurrency must be at least 1")
	}
	p.Senders = max(p.Senders, 1)
	p.Window = max(p.Window, 1)
	if p.Page <= 0 {
		p.Page = 50
	}
	if p.PageThrough <= 0 {
		p.PageThrough = 1000
	}
	return nil
}

// Query kinds.
const (
	KindLastPage     = "last-page"      // <before/>, max Page
	KindRange        = "range"          // start/end around Page items in the middle
	KindWithLastPage = "with-last-page" // with the first sender, <before/>
	KindMetadata     = "metadata"       // <metadata/>
	KindPageThrough  = "page-through"   // PageThrough messages forward by RSM <after/>
)

// KindStats describe the queries of one kind.
type KindStats struct {
	Kind    string  `json:"kind"`
	Queries int     `json:"queries"`
	Errors  int     `json:"errors"`
	Error   string  `json:"error,omitempty"` // the first error
	Seconds float64 `json:"seconds"`
	QPS     float64 `json:"qps"`
	Items   float64 `json:"items_per_query"` // mean results per query
	Pages   float64 `json:"pages_per_query"` // mean iq round trips per query
	Latency Latency `json:"latency"`         // per query (a page-through counts as one)
}

// QueryResult is the outcome of the query scenario.
type QueryResult struct {
	Scenario string       `json:"scenario"`
	Params   QueryParams  `json:"params"`
	Users    string       `json:"users"`
	Prefill  TrafficStats `json:"prefill"`
	Kinds    []KindStats  `json:"kinds"`
}

func (r *QueryResult) Name() string { return r.Scenario }

func (r *QueryResult) Print(w io.Writer) {
	var t table
	t.add("setup", "archive of %d (from %s), %d queries per kind at concurrency %d, users %s",
		r.Params.Archive, plural(r.Params.Senders, "sender"), r.Params.Queries, r.Params.Concurrency, r.Users)
	t.traffic("prefill ", r.Prefill)
	t.print(w, "query")
	printKinds(w, r.Kinds)
}

func printKinds(w io.Writer, kinds []KindStats) {
	var t table
	t.add("kind", "queries  errors  q/s      items  pages  latency")
	for _, k := range kinds {
		t.add(k.Kind, "%-8d %-7d %-8.1f %-6.1f %-6.1f %s", k.Queries, k.Errors, k.QPS, k.Items, k.Pages, k.Latency)
		if k.Error != "" {
			t.add("", "first error: %s", k.Error)
		}
	}
	t.print(w, "query kinds")
}

// prefill sends counts[i] messages from[i] → to[i] and waits for them.
func (t *Target) prefill(ctx context.Context, from, to []*Client, counts []int, window int) (*traffic, TrafficStats) {
	tr := newTraffic(from, to, counts, window, 0)
	tr.startSending(ctx)
	tr.wait(ctx, t.Timeout)
	tr.detach()
	return tr, tr.stats()
}

// split divides n into k near-equal parts.
func split(n, k int) []int {
	out := make([]int, k)
	for i := range out {
		out[i] = n / k
		if i < n%k {
			out[i]++
		}
	}
	return out
}

// queryFunc runs query i of a kind on c and returns results and pages.
type queryFunc func(ctx context.Context, c *Client, i int) (items, pages int, err error)

// runKind runs n queries of one kind over the clients (one worker each).
func runKind(ctx context.Context, kind string, clients []*Client, n int, q queryFunc) KindStats {
	ks := KindStats{Kind: kind, Queries: n}
	lat := make([]time.Duration, n)
	var next, items, pages, errs atomic.Int64
	var firstErr sync.Once
	start := time.Now()
	var wg sync.WaitGroup
	for _, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n || ctx.Err() != nil {
					return
				}
				t0 := time.Now()
				it, pg, err := q(ctx, c, i)
				lat[i] = time.Since(t0)
				items.Add(int64(it))
				pages.Add(int64(pg))
				if err != nil {
					errs.Add(1)
					firstErr.Do(func() { ks.Error = err.Error() })
				}
			}
		}()
	}
	wg.Wait()
	d := time.Since(start)
	ks.Seconds = secs(d)
	ks.QPS = rate(n, d)
	ks.Errors = int(errs.Load())
	ks.Items = float64(items.Load()) / float64(n)
	ks.Pages = float64(pages.Load()) / float64(n)
	ks.Latency = summarize(lat)
	return ks
}

// archiveSetup is what the query kinds need to know about a prefilled
// archive: ids of the first flow's messages in archive order (the
// receiver's stanza-ids), time windows around Page items, and the peer.
type archiveSetup struct {
	ids     []string // archive ids along the first flow, oldest first
	stride  int      // archive items per entry of ids (the number of senders)
	windows [][2]string
	peer    string
}

// findWindows finds time windows of about one page in the middle of the
// archive: a forward page from a random id of the first flow, whose first
// and last stamps bound the window. Servers without stanza-ids get the
// middle of the metadata's span.
func (a *archiveSetup) findWindows(ctx context.Context, c *Client, page, want int) error {
	if len(a.ids) < 2 {
		md, err := c.Metadata(ctx)
		if err != nil {
			return fmt.Errorf("no stanza-ids and no metadata: %w", err)
		}
		a.windows = append(a.windows, [2]string{md.StartStamp, md.EndStamp})
		return nil
	}
	for range want {
		id := a.ids[rand.IntN(len(a.ids)*9/10)]
		p, err := c.QueryArchive(ctx, MAMQuery{After: id, Max: page})
		if err != nil {
			return err
		}
		if len(p.Items) > 0 {
			a.windows = append(a.windows, [2]string{p.Items[0].Stamp, p.Items[len(p.Items)-1].Stamp})
		}
	}
	if len(a.windows) == 0 {
		return errors.New("no time window found in the archive")
	}
	return nil
}

// pageThroughStart picks where a page-through starts: after a random id
// with (very likely) at least n items after it, or at the start of the
// archive. The ids are every stride-th item only on average (the senders
// interleave unevenly), hence a quarter of slack.
func (a *archiveSetup) pageThroughStart(n int) string {
	room := len(a.ids) - (n+a.stride-1)/a.stride*5/4
	if room <= 0 {
		return ""
	}
	return a.ids[rand.IntN(room)]
}

func (a *archiveSetup) kinds(p QueryParams) []struct {
	name string
	f    queryFunc
} {
	one := func(q func(int) MAMQuery) queryFunc {
		return func(ctx context.Context, c *Client, i int) (int, int, error) {
			page, err := c.QueryArchive(ctx, q(i))
			if err != nil {
				return 0, 1, err
			}
			return len(page.Items), 1, nil
		}
	}
	return []struct {
		name string
		f    queryFunc
	}{
		{KindLastPage, one(func(int) MAMQuery { return MAMQuery{Max: p.Page, Last: true} })},
		{KindRange, one(func(i int) MAMQuery {
			w := a.windows[i%len(a.windows)]
			return MAMQuery{Start: w[0], End: w[1], Max: p.Page}
		})},
		{KindWithLastPage, one(func(int) MAMQuery { return MAMQuery{With: a.peer, Max: p.Page, Last: true} })},
		{KindMetadata, func(ctx context.Context, c *Client, _ int) (int, int, error) {
			md, err := c.Metadata(ctx)
			if err != nil {
				return 0, 1, err
			}
			if md.EndID == "" {
				return 0, 1, errors.New("metadata of a non-empty archive has no <end/>")
			}
			return 1, 1, nil
		}},
		{KindPageThrough, func(ctx context.Context, c *Client, _ int) (int, int, error) {
			items := 0
			pages, err := c.PageForward(ctx, MAMQuery{After: a.pageThroughStart(p.PageThrough), Max: p.Page}, p.PageThrough,
				func(pg *MAMPage) { items += len(pg.Items) })
			return items, pages, err
		}},
	}
}

// RunQuery runs the query scenario: account 0 gets Archive messages from
// accounts 1…Senders, then Concurrency sessions of account 0 run Queries
// queries of each kind.
func RunQuery(ctx context.Context, t *Target, p QueryParams) (*QueryResult, error) {
	if err := p.validate(); err != nil {
		return nil, err
	}
	r := &QueryResult{Scenario: "query", Params: p, Users: t.userRange(0, 1+p.Senders)}
	run := newRunID()
	specs := []loginSpec{{account: 0, resource: "owner-" + run, presence: true}}
	for i := range p.Senders {
		specs = append(specs, loginSpec{account: 1 + i, resource: "prefill-" + run, presence: true})
	}
	for i := range p.Concurrency {
		// The querying sessions send no presence: they receive nothing
		// but their results.
		specs = append(specs, loginSpec{account: 0, resource: fmt.Sprintf("q%d-%s", i, run)})
	}
	t.logf("query: logging in %d clients (%s)", len(specs), r.Users)
	cs, err := t.loginAll(ctx, specs, nil)
	if err != nil {
		return nil, err
	}
	defer closeAll(cs)
	owner, senders, queriers := cs[0], cs[1:1+p.Senders], cs[1+p.Senders:]

	t.logf("query: prefilling %d messages", p.Archive)
	to := make([]*Client, p.Senders)
	for i := range to {
		to[i] = owner
	}
	tr, st := t.prefill(ctx, senders, to, split(p.Archive, p.Senders), p.Window)
	r.Prefill = st
	if st.Lost > 0 || st.Error != "" {
		return r, fmt.Errorf("query: prefill incomplete: %d of %d lost %s", st.Lost, st.Messages, st.Error)
	}
	a := &archiveSetup{stride: p.Senders, peer: senders[0].Bare}
	for _, id := range tr.flows[0].stanzaIDs {
		if id != "" {
			a.ids = append(a.ids, id)
		}
	}
	if err := a.findWindows(ctx, owner, p.Page, 8); err != nil {
		return r, fmt.Errorf("query: %w", err)
	}
	for _, k := range a.kinds(p) {
		t.logf("query: %d × %s", p.Queries, k.name)
		r.Kinds = append(r.Kinds, runKind(ctx, k.name, queriers, p.Queries, k.f))
	}
	return r, ctx.Err()
}
