package loadgen

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"sync"
	"time"
)

// MixedParams configure the mixed scenario.
type MixedParams struct {
	Write   WriteParams `json:"write"`
	Readers int         `json:"readers"` // accounts paging through their archives
	Archive int         `json:"archive"` // messages each reader sends into the next reader's archive
	Window  int         `json:"window"`  // prefill window
	// Pace, if positive, is the least time between two page requests of
	// one reader (open loop). Zero: each reader asks for the next page as
	// soon as it has the last (closed loop), so a faster server gets more
	// reader load; a pace puts the same reader load on every server.
	Pace time.Duration `json:"reader_pace,omitempty"`
}

// MixedResult compares write alone with write while readers page.
type MixedResult struct {
	Scenario      string        `json:"scenario"`
	Params        MixedParams   `json:"params"`
	Users         string        `json:"users"`
	Prefill       TrafficStats  `json:"prefill"`
	Alone         TrafficStats  `json:"alone"`
	AloneArchive  *ArchiveCheck `json:"alone_archive,omitempty"`
	Loaded        TrafficStats  `json:"loaded"`
	LoadedArchive *ArchiveCheck `json:"loaded_archive,omitempty"`
	ReaderPages   int           `json:"reader_pages"`
	ReaderItems   int           `json:"reader_items"`
	ReaderErrors  int           `json:"reader_errors"`
	ReaderError   string        `json:"reader_error,omitempty"`
	ReaderRate    float64       `json:"reader_pages_per_second"`
	ReaderLatency Latency       `json:"reader_page_latency"`
	// Loaded over alone: delivery p50 and p99, and throughput.
	P50Ratio  float64 `json:"p50_ratio"`
	P99Ratio  float64 `json:"p99_ratio"`
	RateRatio float64 `json:"rate_ratio"`
}

func (r *MixedResult) Name() string { return r.Scenario }

func (r *MixedResult) Print(w io.Writer) {
	var t table
	pace := "closed loop"
	if r.Params.Pace > 0 {
		pace = "one page per " + r.Params.Pace.String() + " each"
	}
	t.add("setup", "%s (W=%d, %d messages each) + %d readers (%s) with ~%d-item archives, users %s",
		plural(r.Params.Write.Pairs, "pair"), r.Params.Write.Window, r.Params.Write.Messages, r.Params.Readers, pace, 2*r.Params.Archive, r.Users)
	t.traffic("prefill ", r.Prefill)
	t.section("write alone")
	t.traffic("  ", r.Alone)
	t.archive("  ", r.AloneArchive)
	t.section("write + readers")
	t.traffic("  ", r.Loaded)
	t.archive("  ", r.LoadedArchive)
	t.add("  reader pages", "%d pages, %d items, %.1f pages/s, %d errors", r.ReaderPages, r.ReaderItems, r.ReaderRate, r.ReaderErrors)
	t.add("  reader page latency", "%s", r.ReaderLatency)
	if r.ReaderError != "" {
		t.add("  reader error", "%s", r.ReaderError)
	}
	t.add("loaded/alone", "p50 ×%.2f  p99 ×%.2f  throughput ×%.2f", r.P50Ratio, r.P99Ratio, r.RateRatio)
	t.print(w, "mixed")
}

// OK reports that neither write round lost or duplicated anything.
func (r *MixedResult) OK() bool {
	ok := func(s TrafficStats, a *ArchiveCheck) bool {
		return s.Lost == 0 && s.Duplicates == 0 && s.Error == "" && (a == nil || a.OK())
	}
	return ok(r.Alone, r.AloneArchive) && ok(r.Loaded, r.LoadedArchive)
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return math.Round(a/b*100) / 100
}

// RunMixed runs write alone, then write again while Readers accounts page
// forward through their whole archives over and over. Writers are
// accounts 0…2×Pairs-1, readers the next Readers accounts; each reader's
// archive is prefilled by the previous reader (a ring), so it holds about
// 2×Archive items.
func RunMixed(ctx context.Context, t *Target, p MixedParams) (*MixedResult, error) {
	if err := p.Write.validate(); err != nil {
		return nil, err
	}
	if p.Readers < 2 || p.Archive < 1 {
		return nil, errors.New("mixed: needs at least 2 readers and an archive of at least 1")
	}
	p.Window = max(p.Window, 1)
	r := &MixedResult{Scenario: "mixed", Params: p, Users: t.userRange(0, 2*p.Write.Pairs+p.Readers)}
	run := newRunID()
	rspecs := make([]loginSpec, p.Readers)
	for i := range rspecs {
		rspecs[i] = loginSpec{account: 2*p.Write.Pairs + i, resource: "reader-" + run, presence: true}
	}
	t.logf("mixed: logging in %d writers and %d readers (%s)", 2*p.Write.Pairs, p.Readers, r.Users)
	readers, err := t.loginAll(ctx, rspecs, nil)
	if err != nil {
		return nil, err
	}
	defer closeAll(readers)
	w, err := t.loginWriters(ctx, 0, p.Write.Pairs, run)
	if err != nil {
		return nil, err
	}
	defer w.close()

	t.logf("mixed: prefilling %d readers' archives with %d messages each way", p.Readers, p.Archive)
	next := append(append([]*Client(nil), readers[1:]...), readers[0])
	counts := make([]int, p.Readers)
	for i := range counts {
		counts[i] = p.Archive
	}
	_, r.Prefill = t.prefill(ctx, readers, next, counts, p.Window)
	if r.Prefill.Lost > 0 || r.Prefill.Error != "" {
		return r, fmt.Errorf("mixed: prefill incomplete: %d of %d lost %s", r.Prefill.Lost, r.Prefill.Messages, r.Prefill.Error)
	}

	t.logf("mixed: write alone")
	if r.Alone, r.AloneArchive, err = t.writeRound(ctx, w, p.Write); err != nil {
		return r, err
	}

	t.logf("mixed: write with %d readers", p.Readers)
	rctx, stop := context.WithCancel(ctx)
	var mu sync.Mutex
	var lat []time.Duration
	var wg sync.WaitGroup
	rstart := time.Now()
	// The writers start once every reader has had a page back: the load
	// is on from the first message.
	warm := make(chan struct{}, len(readers))
	for _, c := range readers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var once sync.Once
			for rctx.Err() == nil {
				sent := time.Now() // of the page request now on its way
				_, err := c.PageForward(rctx, MAMQuery{Max: p.Write.Page}, 0, func(pg *MAMPage) {
					once.Do(func() { warm <- struct{}{} })
					now := time.Now()
					mu.Lock()
					lat = append(lat, now.Sub(sent))
					r.ReaderPages++
					r.ReaderItems += len(pg.Items)
					mu.Unlock()
					if wait := p.Pace - now.Sub(sent); wait > 0 {
						sleepCtx(rctx, wait)
					}
					sent = time.Now()
				})
				if err != nil && rctx.Err() == nil {
					mu.Lock()
					r.ReaderErrors++
					if r.ReaderError == "" {
						r.ReaderError = err.Error()
					}
					mu.Unlock()
					time.Sleep(100 * time.Millisecond)
				}
			}
		}()
	}
	deadline := time.NewTimer(t.Timeout)
warmup:
	for range readers {
		select {
		case <-warm:
		case <-deadline.C:
			break warmup
		case <-ctx.Done():
			break warmup
		}
	}
	deadline.Stop()
	r.Loaded, r.LoadedArchive, err = t.writeRound(ctx, w, p.Write)
	stop()
	wg.Wait()
	r.ReaderRate = rate(r.ReaderPages, time.Since(rstart))
	r.ReaderLatency = summarize(lat)
	r.P50Ratio = ratio(r.Loaded.Latency.P50, r.Alone.Latency.P50)
	r.P99Ratio = ratio(r.Loaded.Latency.P99, r.Alone.Latency.P99)
	r.RateRatio = ratio(r.Loaded.Rate, r.Alone.Rate)
	return r, err
}

// sleepCtx sleeps for d or until ctx is done.
func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}
