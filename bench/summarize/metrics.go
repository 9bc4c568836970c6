package main

import (
	"fmt"
	"math"
	"slices"
	"strconv"

	"github.com/skald-xmpp/skald/internal/loadgen"
)

// metric is one row of the table: a number taken from a run's result, and
// whether lower is better.
type metric struct {
	name  string
	lower bool
	// neutral metrics describe the workload (no better direction, no ratio).
	neutral bool
	// value extracts the number; ok is false where the run has none that
	// can be trusted (a failed query kind, a missing RSS reading).
	value func(run) (v float64, ok bool)
}

func up(name string, v func(run) (float64, bool)) metric {
	return metric{name: name, value: v}
}

func down(name string, v func(run) (float64, bool)) metric {
	return metric{name: name, lower: true, value: v}
}

// passed guards a metric with the run's overall verdict.
func passed[R any](f func(*R) float64) func(run) (float64, bool) {
	return func(r run) (float64, bool) {
		res, ok := r.result.(*R)
		if !ok || r.rc != 0 {
			return 0, false
		}
		return f(res), true
	}
}

func newResult(scenario string) any {
	switch scenario {
	case "write":
		return &loadgen.WriteResult{}
	case "query":
		return &loadgen.QueryResult{}
	case "mixed":
		return &loadgen.MixedResult{}
	case "catchup":
		return &loadgen.CatchupResult{}
	case "idle":
		return &loadgen.IdleResult{}
	}
	return nil
}

// queryKind reads one kind's statistics: valid when that kind had no error
// and the prefill lost nothing, whatever the other kinds did.
func queryKind(kind string, f func(loadgen.KindStats) float64) func(run) (float64, bool) {
	return func(r run) (float64, bool) {
		res, ok := r.result.(*loadgen.QueryResult)
		if !ok || res.Prefill.Lost > 0 || res.Prefill.Error != "" {
			return 0, false
		}
		for _, k := range res.Kinds {
			if k.Kind == kind && k.Errors == 0 && k.Queries > 0 {
				return f(k), true
			}
		}
		return 0, false
	}
}

var queryKinds = []string{loadgen.KindLastPage, loadgen.KindRange, loadgen.KindWithLastPage, loadgen.KindMetadata, loadgen.KindPageThrough}

// metrics lists the rows of each scenario.
var metrics = map[string][]metric{
	"write": {
		up("delivered msg/s", passed(func(r *loadgen.WriteResult) float64 { return r.Traffic.Rate })),
		down("send→delivery p50 ms", passed(func(r *loadgen.WriteResult) float64 { return r.Traffic.Latency.P50 })),
		down("send→delivery p99 ms", passed(func(r *loadgen.WriteResult) float64 { return r.Traffic.Latency.P99 })),
		down("MAM check of both archives s", func(r run) (float64, bool) {
			res, ok := r.result.(*loadgen.WriteResult)
			if !ok || r.rc != 0 || res.Archive == nil {
				return 0, false
			}
			return res.Archive.Seconds, true
		}),
	},
	"query": queryMetrics(),
	"mixed": {
		up("alone msg/s", passed(func(r *loadgen.MixedResult) float64 { return r.Alone.Rate })),
		down("alone p99 ms", passed(func(r *loadgen.MixedResult) float64 { return r.Alone.Latency.P99 })),
		up("with readers msg/s", passed(func(r *loadgen.MixedResult) float64 { return r.Loaded.Rate })),
		down("with readers p50 ms", passed(func(r *loadgen.MixedResult) float64 { return r.Loaded.Latency.P50 })),
		down("with readers p99 ms", passed(func(r *loadgen.MixedResult) float64 { return r.Loaded.Latency.P99 })),
		up("readers pages/s", func(r run) (float64, bool) {
			res, ok := r.result.(*loadgen.MixedResult)
			if !ok || r.rc != 0 || res.ReaderErrors > 0 {
				return 0, false
			}
			return res.ReaderRate, true
		}),
	},
	"catchup": {
		up("prefill msg/s", passed(func(r *loadgen.CatchupResult) float64 { return r.Prefill.Rate })),
		down("connect→caught up s", passed(func(r *loadgen.CatchupResult) float64 { return r.CaughtUpSecs })),
		up("fetched msg/s", passed(func(r *loadgen.CatchupResult) float64 { return r.MessagesPerSec })),
		down("query p50 ms", passed(func(r *loadgen.CatchupResult) float64 { return r.QueryLatency.P50 })),
	},
	"idle": {
		up("logins/s", passed(func(r *loadgen.IdleResult) float64 { return r.ConnsPerSec })),
		down("login p50 ms", passed(func(r *loadgen.IdleResult) float64 { return r.Login.P50 })),
		down("login p99 ms", passed(func(r *loadgen.IdleResult) float64 { return r.Login.P99 })),
		down("RSS KiB per connection", func(r run) (float64, bool) {
			res, ok := r.result.(*loadgen.IdleResult)
			if !ok || r.rc != 0 || res.RSSAfter == 0 {
				return 0, false
			}
			return res.RSSPerConn / 1024, true
		}),
		down("RSS MiB while holding", func(r run) (float64, bool) {
			res, ok := r.result.(*loadgen.IdleResult)
			if !ok || r.rc != 0 || res.RSSAfter == 0 {
				return 0, false
			}
			return float64(res.RSSAfter) / (1 << 20), true
		}),
	},
}

func queryMetrics() []metric {
	ms := []metric{up("prefill msg/s", func(r run) (float64, bool) {
		res, ok := r.result.(*loadgen.QueryResult)
		if !ok || res.Prefill.Lost > 0 || res.Prefill.Error != "" {
			return 0, false
		}
		return res.Prefill.Rate, true
	})}
	for _, k := range queryKinds {
		if k == loadgen.KindRange {
			// The window's size depends on the server's timestamp
			// resolution, so its speed only compares with this.
			ms = append(ms, metric{name: k + " items/query", neutral: true,
				value: queryKind(k, func(s loadgen.KindStats) float64 { return s.Items })})
		}
		ms = append(ms,
			up(k+" q/s", queryKind(k, func(s loadgen.KindStats) float64 { return s.QPS })),
			down(k+" p50 ms", queryKind(k, func(s loadgen.KindStats) float64 { return s.Latency.P50 })),
			down(k+" p99 ms", queryKind(k, func(s loadgen.KindStats) float64 { return s.Latency.P99 })),
		)
	}
	return ms
}

// cell is a median over the runs that had a value, of total runs.
type cell struct {
	median   float64
	n, total int
}

func summarizeCell(runs []run, m metric) cell {
	var vs []float64
	for _, r := range runs {
		if v, ok := m.value(r); ok && !math.IsNaN(v) && !math.IsInf(v, 0) {
			vs = append(vs, v)
		}
	}
	return cell{median: median(vs), n: len(vs), total: len(runs)}
}

// median of vs (the mean of the middle two for an even count); 0 if empty.
func median(vs []float64) float64 {
	if len(vs) == 0 {
		return 0
	}
	s := slices.Clone(vs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func (c cell) String() string {
	if c.n == 0 {
		return "–"
	}
	s := num(c.median)
	if c.n < c.total {
		s += fmt.Sprintf(" (n=%d)", c.n)
	}
	return s
}

// ratio is a/b as "×1.23", or – when either is missing or b is 0.
func ratio(a, b cell) string {
	if a.n == 0 || b.n == 0 || b.median == 0 {
		return "–"
	}
	return "×" + num(a.median/b.median)
}

// num prints about three significant digits.
func num(x float64) string {
	ax := math.Abs(x)
	switch {
	case ax >= 100:
		return strconv.FormatFloat(x, 'f', 0, 64)
	case ax >= 10:
		return strconv.FormatFloat(x, 'f', 1, 64)
	case ax >= 1 || ax == 0:
		return strconv.FormatFloat(x, 'f', 2, 64)
	}
	return strconv.FormatFloat(x, 'g', 3, 64)
}
