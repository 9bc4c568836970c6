package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestMedian(t *testing.T) {
	tests := []struct {
		in   []float64
		want float64
	}{
		{nil, 0},
		{[]float64{3}, 3},
		{[]float64{5, 1, 3}, 3},
		{[]float64{4, 1, 3, 2}, 2.5},
	}
	for _, tt := range tests {
		if got := median(tt.in); got != tt.want {
			t.Errorf("median(%v) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestNumAndRatio(t *testing.T) {
	tests := []struct {
		a, b cell
		want string
	}{
		{cell{median: 300, n: 3, total: 3}, cell{median: 100, n: 3, total: 3}, "×3.00"},
		{cell{median: 1, n: 1, total: 1}, cell{median: 8, n: 1, total: 1}, "×0.125"},
		{cell{median: 1, n: 1, total: 1}, cell{n: 0, total: 3}, "–"},
		{cell{median: 1, n: 1, total: 1}, cell{median: 0, n: 2, total: 2}, "–"},
	}
	for _, tt := range tests {
		if got := ratio(tt.a, tt.b); got != tt.want {
			t.Errorf("ratio(%v, %v) = %q, want %q", tt.a, tt.b, got, tt.want)
		}
	}
	if got := (cell{median: 1234.5, n: 2, total: 3}).String(); got != "1234 (n=2)" && got != "1235 (n=2)" {
		t.Errorf("cell string = %q", got)
	}
}

// TestTable drives the whole path: result files as bench/compare writes
// them, to the Markdown rows.
func TestTable(t *testing.T) {
	dir := t.TempDir()
	put := func(name, content string) {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	writeJSON := func(rate float64) string {
		return `{"scenario":"write","traffic":{"rate":` + num(rate) + `,"latency":{"p50_ms":2,"p99_ms":9}},"archive":{"seconds":0.5}}` + "\n"
	}
	for i, r := range []float64{100, 300, 200} {
		n := string(rune('0' + i))
		put("write/skald.r"+n+".json", writeJSON(r))
		put("write/skald.r"+n+".rc", "0\n")
	}
	put("write/prosody.r0.json", writeJSON(50))
	put("write/prosody.r0.rc", "0\n")
	put("write/prosody.r1.json", writeJSON(1))
	put("write/prosody.r1.rc", "1\n")
	put("write/prosody.r1.err", "skald-bench: write: messages were lost\n")
	put("query/ejabberd.r0.json", `{"scenario":"query","prefill":{"rate":10},"kinds":[`+
		`{"kind":"last-page","queries":5,"qps":40,"latency":{"p50_ms":3,"p99_ms":4}},`+
		`{"kind":"metadata","queries":5,"errors":5,"error":"feature-not-implemented"}]}`+"\n")
	put("query/ejabberd.r0.rc", "1\n")

	runs, err := load(dir, []string{"write", "query"}, []string{"skald", "prosody", "ejabberd"})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	writeTable(&b, runs, []string{"write", "query"}, []string{"skald", "prosody", "ejabberd"})
	out := b.String()
	for _, want := range []string{
		"| write | delivered msg/s | ↑ | 200 | 50.0 (n=1) | – | ×4.00 | – |",
		"| query | last-page q/s | ↑ | – | – | 40.0 | – | – |",
		"- write on Prosody: 1 of 2 runs failed their checks: write: messages were lost",
		"- query on ejabberd: 1 of 1 runs failed their checks: metadata: 5 of 5 queries failed (first: feature-not-implemented)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "metadata q/s") {
		t.Errorf("a kind with only failed runs has a row:\n%s", out)
	}
}
