package main

import (
	"fmt"
	"strings"

	"github.com/skald-xmpp/skald/internal/loadgen"
)

// detail says what in a result failed its checks ("" if nothing did or
// there is no result): the notes under the table quote it.
func detail(res any) string {
	var out []string
	add := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }
	traffic := func(label string, s loadgen.TrafficStats) {
		if s.Lost > 0 || s.Duplicates > 0 {
			add("%s%d of %d messages lost, %d duplicated", label, s.Lost, s.Sent, s.Duplicates)
		}
		if s.Error != "" {
			add("%s%s", label, s.Error)
		}
	}
	archive := func(label string, a *loadgen.ArchiveCheck) {
		if a == nil || a.OK() {
			return
		}
		add("%sMAM check: sender archives %d missing, %d duplicates; receiver archives %d missing, %d duplicates, %d stanza-ids missing; %d query errors%s",
			label, a.SenderMissing, a.SenderDuplicates, a.ReceiverMissing, a.ReceiverDuplicates, a.StanzaIDsMissing, a.Errors, firstError(a.Error))
	}
	switch r := res.(type) {
	case *loadgen.WriteResult:
		traffic("", r.Traffic)
		archive("", r.Archive)
	case *loadgen.QueryResult:
		traffic("prefill: ", r.Prefill)
		for _, k := range r.Kinds {
			if k.Errors > 0 {
				add("%s: %d of %d queries failed%s", k.Kind, k.Errors, k.Queries, firstError(k.Error))
			}
		}
	case *loadgen.MixedResult:
		traffic("prefill: ", r.Prefill)
		traffic("alone: ", r.Alone)
		archive("alone: ", r.AloneArchive)
		traffic("with readers: ", r.Loaded)
		archive("with readers: ", r.LoadedArchive)
		if r.ReaderErrors > 0 {
			add("readers: %d errors%s", r.ReaderErrors, firstError(r.ReaderError))
		}
	case *loadgen.CatchupResult:
		traffic("prefill: ", r.Prefill)
		if r.Missing > 0 || r.Duplicates > 0 || r.Errors > 0 {
			add("%d messages missing, %d duplicates, %d query errors%s", r.Missing, r.Duplicates, r.Errors, firstError(r.Error))
		}
	case *loadgen.IdleResult:
		if r.Dropped > 0 {
			add("%d of %d connections dropped while held", r.Dropped, r.Established)
		}
	}
	return strings.Join(out, "; ")
}

func firstError(e string) string {
	if e == "" {
		return ""
	}
	const max = 160
	if len(e) > max {
		e = e[:max] + "…"
	}
	return " (first: " + e + ")"
}
