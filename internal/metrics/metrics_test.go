package metrics_test

import (
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/skald-xmpp/skald/internal/metrics"
)

func TestWriteText(t *testing.T) {
	tests := []struct {
		name     string
		register func(r *metrics.Registry)
		want     string
	}{
		{"empty", func(r *metrics.Registry) {}, ""},
		{"owned counter", func(r *metrics.Registry) {
			var c metrics.Counter
			c.Inc()
			c.Add(41)
			r.Counter("skald_test_events_total", "Events seen.", &c)
		}, "# HELP skald_test_events_total Events seen.\n# TYPE skald_test_events_total counter\nskald_test_events_total 42\n"},
		{"sorted by name", func(r *metrics.Registry) {
			r.GaugeFunc("b_g", "B.", func() float64 { return 1.5 })
			r.CounterFunc("a_total", "A.", func() uint64 { return 7 })
			r.GaugeFunc("c", "C.", func() float64 { return -2 })
		}, "# HELP a_total A.\n# TYPE a_total counter\na_total 7\n" +
			"# HELP b_g B.\n# TYPE b_g gauge\nb_g 1.5\n" +
			"# HELP c C.\n# TYPE c gauge\nc -2\n"},
		{"big values", func(r *metrics.Registry) {
			r.CounterFunc("big_total", "Big.", func() uint64 { return 1 << 40 })
			r.GaugeFunc("huge", "Huge.", func() float64 { return 1e21 })
		}, "# HELP big_total Big.\n# TYPE big_total counter\nbig_total 1.099511627776e+12\n" +
			"# HELP huge Huge.\n# TYPE huge gauge\nhuge 1e+21\n"},
		{"special floats", func(r *metrics.Registry) {
			r.GaugeFunc("n", "", func() float64 { return math.NaN() })
			r.GaugeFunc("p", "", func() float64 { return math.Inf(1) })
			r.GaugeFunc("q", "", func() float64 { return math.Inf(-1) })
		}, "# HELP n \n# TYPE n gauge\nn NaN\n# HELP p \n# TYPE p gauge\np +Inf\n# HELP q \n# TYPE q gauge\nq -Inf\n"},
		{"help escaped", func(r *metrics.Registry) {
			r.GaugeFunc("g", "a \\ b\nc \"quoted\"", func() float64 { return 0 })
		}, "# HELP g a \\\\ b\\nc \"quoted\"\n# TYPE g gauge\ng 0\n"},
		{"constant labels escaped", func(r *metrics.Registry) {
			r.GaugeFunc("g", "G.", func() float64 { return 3 },
				metrics.Label{Name: "backend", Value: "sqlite"}, metrics.Label{Name: "path", Value: "a\\b\n\"c\""})
		}, "# HELP g G.\n# TYPE g gauge\ng{backend=\"sqlite\",path=\"a\\\\b\\n\\\"c\\\"\"} 3\n"},
		{"sources in order", func(r *metrics.Registry) {
			r.Register(source("x_total"), source("w_total"))
		}, "# HELP w_total From a source.\n# TYPE w_total counter\nw_total 1\n" +
			"# HELP x_total From a source.\n# TYPE x_total counter\nx_total 1\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := metrics.NewRegistry()
			tt.register(r)
			var b strings.Builder
			if err := r.WriteText(&b); err != nil {
				t.Fatal(err)
			}
			if b.String() != tt.want {
				t.Errorf("got\n%q\nwant\n%q", b.String(), tt.want)
			}
		})
	}
}

type source string

func (s source) RegisterMetrics(r *metrics.Registry) {
	r.CounterFunc(string(s), "From a source.", func() uint64 { return 1 })
}

// TestFuncsReadAtScrape: func-backed metrics are read at each write.
func TestFuncsReadAtScrape(t *testing.T) {
	r := metrics.NewRegistry()
	var n uint64
	r.CounterFunc("n_total", "N.", func() uint64 { return n })
	var c metrics.Counter
	r.Counter("c_total", "C.", &c)
	n = 5
	c.Add(3)
	var b strings.Builder
	r.WriteText(&b)
	if !strings.Contains(b.String(), "\nn_total 5\n") || !strings.Contains(b.String(), "\nc_total 3\n") {
		t.Errorf("got %q", b.String())
	}
}

func TestValue(t *testing.T) {
	r := metrics.NewRegistry()
	var c metrics.Counter
	r.Counter("c_total", "C.", &c)
	c.Add(3)
	if v, ok := r.Value("c_total"); !ok || v != 3 {
		t.Errorf("Value(c_total) = %v, %v; want 3, true", v, ok)
	}
	if v, ok := r.Value("missing"); ok || v != 0 {
		t.Errorf("Value(missing) = %v, %v; want 0, false", v, ok)
	}
}

func TestRegistrationRefused(t *testing.T) {
	f := func() float64 { return 0 }
	tests := []struct {
		name     string
		register func(r *metrics.Registry)
	}{
		{"duplicate name", func(r *metrics.Registry) { r.GaugeFunc("a", "", f); r.GaugeFunc("a", "", f) }},
		{"duplicate across kinds", func(r *metrics.Registry) {
			r.GaugeFunc("a", "", f)
			r.CounterFunc("a", "", func() uint64 { return 0 })
		}},
		{"empty name", func(r *metrics.Registry) { r.GaugeFunc("", "", f) }},
		{"leading digit", func(r *metrics.Registry) { r.GaugeFunc("1a", "", f) }},
		{"dash", func(r *metrics.Registry) { r.GaugeFunc("skald-x", "", f) }},
		{"space", func(r *metrics.Registry) { r.GaugeFunc("a b", "", f) }},
		{"non-ascii", func(r *metrics.Registry) { r.GaugeFunc("skåld", "", f) }},
		{"nil func", func(r *metrics.Registry) { r.GaugeFunc("a", "", nil) }},
		{"bad label name", func(r *metrics.Registry) { r.GaugeFunc("a", "", f, metrics.Label{Name: "a:b"}) }},
		{"reserved label name", func(r *metrics.Registry) { r.GaugeFunc("a", "", f, metrics.Label{Name: "__x"}) }},
		{"duplicate label", func(r *metrics.Registry) {
			r.GaugeFunc("a", "", f, metrics.Label{Name: "x"}, metrics.Label{Name: "x"})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("registration did not panic")
				}
			}()
			tt.register(metrics.NewRegistry())
		})
	}
}

func TestValidNames(t *testing.T) {
	r := metrics.NewRegistry()
	for _, n := range []string{"a", "_a", ":a", "a:b_c9", "skald_c2s_connections"} {
		r.GaugeFunc(n, "", func() float64 { return 0 }, metrics.Label{Name: "_l9"})
	}
}

func TestHandler(t *testing.T) {
	r := metrics.NewRegistry()
	r.GaugeFunc("g", "G.", func() float64 { return 1 })
	srv := httptest.NewServer(r)
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/plain; version=0.0.4; charset=utf-8" {
		t.Errorf("Content-Type = %q", ct)
	}
	if string(body) != "# HELP g G.\n# TYPE g gauge\ng 1\n" {
		t.Errorf("body = %q", body)
	}
	resp, err = http.Post(srv.URL, "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST: status %d", resp.StatusCode)
	}
}
