package loadgen

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// Result is a scenario's outcome: printed as a table, or marshalled to
// JSON (every result has a "scenario" field naming it).
type Result interface {
	Name() string
	Print(w io.Writer)
}

// table prints label/value rows under a title.
type table struct {
	rows [][2]string
}

func (t *table) add(label, format string, args ...any) {
	t.rows = append(t.rows, [2]string{label, fmt.Sprintf(format, args...)})
}

func (t *table) section(label string) { t.rows = append(t.rows, [2]string{label, ""}) }

func (t *table) print(w io.Writer, title string) {
	fmt.Fprintf(w, "== %s\n", title)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, r := range t.rows {
		fmt.Fprintf(tw, "  %s\t%s\n", r[0], r[1])
	}
	tw.Flush()
	fmt.Fprintln(w)
}

func (t *table) traffic(prefix string, s TrafficStats) {
	t.add(prefix+"messages", "%d planned, %d sent, %d delivered, %d bounced", s.Messages, s.Sent, s.Delivered, s.Bounced)
	t.add(prefix+"loss", "%d lost, %d duplicates, %d foreign, %d without stanza-id", s.Lost, s.Duplicates, s.Foreign, s.NoStanzaID)
	t.add(prefix+"throughput", "%.1f msg/s over %.2f s", s.Rate, s.Seconds)
	t.add(prefix+"send→delivery", "%s", s.Latency)
	if s.Error != "" {
		t.add(prefix+"send errors", "%s", s.Error)
	}
	if s.ForeignSample != "" {
		t.add(prefix+"first foreign", "%s", s.ForeignSample)
	}
}

func (t *table) archive(prefix string, a *ArchiveCheck) {
	if a == nil {
		return
	}
	verdict := "OK"
	if !a.OK() {
		verdict = "MISMATCH"
	}
	t.add(prefix+"MAM check", "%s: %d archives, %d queries, %.2f s", verdict, a.Archives, a.Queries, a.Seconds)
	t.add(prefix+"  sender archives", "%d items, %d missing, %d duplicates", a.SenderItems, a.SenderMissing, a.SenderDuplicates)
	t.add(prefix+"  receiver archives", "%d items, %d missing, %d duplicates, %d stanza-ids missing", a.ReceiverItems, a.ReceiverMissing, a.ReceiverDuplicates, a.StanzaIDsMissing)
	if a.Errors > 0 {
		t.add(prefix+"  query errors", "%d (%s)", a.Errors, a.Error)
	}
}

// userRange describes the accounts a scenario used.
func (t *Target) userRange(first, n int) string {
	if n <= 1 {
		return t.User(first)
	}
	return t.User(first) + ".." + t.User(first+n-1)
}

func plural(n int, word string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, word)
	}
	return fmt.Sprintf("%d %ss", n, strings.TrimSuffix(word, "s"))
}
