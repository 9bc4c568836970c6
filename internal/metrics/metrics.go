package metrics

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// ContentType is the Content-Type of the text exposition format 0.0.4.
const ContentType = "text/plain; version=0.0.4; charset=utf-8"

// Source is implemented by the packages that have metrics.
type Source interface {
	RegisterMetrics(*Registry)
}

// Counter is a monotonic counter owned by the registry's user. Add and Inc
// are one atomic add; the zero value is ready to use.
type Counter struct{ v atomic.Uint64 }

// Inc adds one.
func (c *Counter) Inc() { c.v.Add(1) }

// Add adds n.
func (c *Counter) Add(n uint64) { c.v.Add(n) }

// Load returns the current value.
func (c *Counter) Load() uint64 { return c.v.Load() }

// Label is a constant label attached to every sample of one metric.
type Label struct{ Name, Value string }

type kind int

const (
	counter kind = iota
	gauge
)

func (k kind) String() string {
	if k == counter {
		return "counter"
	}
	return "gauge"
}

type metric struct {
	name, help string
	kind       kind
	labels     string // rendered {a="b",...} or ""
	value      func() float64
}

// Registry holds metrics. Registration panics on a bad or duplicate name:
// both are programming errors. It is safe for concurrent use.
type Registry struct {
	mu      sync.Mutex
	metrics map[string]*metric
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	return &Registry{metrics: map[string]*metric{}}
}

var (
	nameRE  = regexp.MustCompile(`^[a-zA-Z_:][a-zA-Z0-9_:]*$`)
	labelRE = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)
)

// Counter registers c, a counter the caller owns, under name.
func (r *Registry) Counter(name, help string, c *Counter, labels ...Label) {
	r.add(name, help, counter, labels, func() float64 { return float64(c.Load()) })
}

// CounterFunc registers a counter whose value f returns; f must be
// monotonic and safe to call from any goroutine.
func (r *Registry) CounterFunc(name, help string, f func() uint64, labels ...Label) {
	r.add(name, help, counter, labels, func() float64 { return float64(f()) })
}

// GaugeFunc registers a gauge whose value f returns; f must be safe to
// call from any goroutine.
func (r *Registry) GaugeFunc(name, help string, f func() float64, labels ...Label) {
	r.add(name, help, gauge, labels, f)
}

// Register calls RegisterMetrics of each source, in order.
func (r *Registry) Register(sources ...Source) {
	for _, s := range sources {
		s.RegisterMetrics(r)
	}
}

func (r *Registry) add(name, help string, k kind, labels []Label, f func() float64) {
	if !nameRE.MatchString(name) {
		panic(fmt.Sprintf("metrics: invalid metric name %q", name))
	}
	if f == nil {
		panic(fmt.Sprintf("metrics: %s: nil value", name))
	}
	var b strings.Builder
	seen := map[string]bool{}
	for i, l := range labels {
		if !labelRE.MatchString(l.Name) || strings.HasPrefix(l.Name, "__") {
			panic(fmt.Sprintf("metrics: %s: invalid label name %q", name, l.Name))
		}
		if seen[l.Name] {
			panic(fmt.Sprintf("metrics: %s: duplicate label %q", name, l.Name))
		}
		seen[l.Name] = true
		if i == 0 {
			b.WriteByte('{')
		} else {
			b.WriteByte(',')
		}
		b.WriteString(l.Name)
		b.WriteString(`="`)
		b.WriteString(labelEscaper.Replace(l.Value))
		b.WriteByte('"')
	}
	if b.Len() > 0 {
		b.WriteByte('}')
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.metrics[name]; dup {
		panic(fmt.Sprintf("metrics: duplicate metric name %q", name))
	}
	r.metrics[name] = &metric{name: name, help: help, kind: k, labels: b.String(), value: f}
}

// The format escapes backslash and newline in help text, and also the
// double quote in label values.
var (
	helpEscaper  = strings.NewReplacer(`\`, `\\`, "\n", `\n`)
	labelEscaper = strings.NewReplacer(`\`, `\\`, "\n", `\n`, `"`, `\"`)
)

func formatValue(v float64) string {
	switch {
	case math.IsNaN(v):
		return "NaN"
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// Value returns the current value of the metric called name, and whether
// there is one: for tests and tools, not for scraping.
func (r *Registry) Value(name string) (float64, bool) {
	r.mu.Lock()
	m, ok := r.metrics[name]
	r.mu.Unlock()
	if !ok {
		return 0, false
	}
	return m.value(), true
}

// WriteText writes every metric in the text exposition format 0.0.4,
// sorted by name: a # HELP line, a # TYPE line and the sample.
func (r *Registry) WriteText(w io.Writer) error {
	r.mu.Lock()
	ms := make([]*metric, 0, len(r.metrics))
	for _, m := range r.metrics {
		ms = append(ms, m)
	}
	r.mu.Unlock()
	sort.Slice(ms, func(i, j int) bool { return ms[i].name < ms[j].name })
	bw := bufio.NewWriter(w)
	for _, m := range ms {
		fmt.Fprintf(bw, "# HELP %s %s\n# TYPE %s %s\n%s%s %s\n",
			m.name, helpEscaper.Replace(m.help), m.name, m.kind, m.name, m.labels, formatValue(m.value()))
	}
	return bw.Flush()
}

// ServeHTTP writes the registry in the text format.
func (r *Registry) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if req.Method != http.MethodGet && req.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	w.Header().Set("Content-Type", ContentType)
	if req.Method == http.MethodHead {
		return
	}
	r.WriteText(w)
}
