// Command summarize turns the skald-bench -json outputs collected by
// bench/compare into a Markdown table: per scenario and metric, the median
// over the repeats for each server, and the ratio of the first server
// (Skald) to each other one.
//
// Usage:
//
//	go run ./bench/summarize -dir RESULTS [-servers skald,prosody,ejabberd]
//
// RESULTS holds, for each run, SCENARIO/SERVER.rN.json (skald-bench's
// stdout), SERVER.rN.rc (its exit status) and SERVER.rN.err (its stderr).
// A run counts only where its numbers are trustworthy: the scenario passed
// its own checks (exit status 0: no message lost, duplicated or missing from
// an archive). The query scenario is judged per kind of query, so that one
// kind a server does not support (an error reply) does not void the others.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
)

func main() {
	dir := flag.String("dir", "", "directory of results (SCENARIO/SERVER.rN.{json,rc,err})")
	servers := flag.String("servers", "skald,prosody,ejabberd", "servers, comma-separated; ratios are the first over each other")
	scenarios := flag.String("scenarios", "write,query,mixed,catchup,idle", "scenarios, comma-separated, in table order")
	flag.Parse()
	if *dir == "" || flag.NArg() > 0 {
		flag.Usage()
		os.Exit(2)
	}
	runs, err := load(*dir, split(*scenarios), split(*servers))
	if err != nil {
		fmt.Fprintln(os.Stderr, "summarize:", err)
		os.Exit(1)
	}
	writeTable(os.Stdout, runs, split(*scenarios), split(*servers))
}

func split(s string) []string {
	var out []string
	for f := range strings.SplitSeq(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// writeTable prints the table of medians and ratios, then the notes on runs
// that did not count.
func writeTable(w io.Writer, runs map[key][]run, scenarios, servers []string) {
	fmt.Fprint(w, "| scenario | metric | better |")
	for _, s := range servers {
		fmt.Fprintf(w, " %s |", title(s))
	}
	for _, s := range servers[1:] {
		fmt.Fprintf(w, " %s/%s |", title(servers[0]), title(s))
	}
	fmt.Fprint(w, "\n|---|---|---|")
	fmt.Fprint(w, strings.Repeat("---:|", 2*len(servers)-1))
	fmt.Fprintln(w)
	for _, sc := range scenarios {
		for _, m := range metrics[sc] {
			med := make([]cell, len(servers))
			have := false
			for i, s := range servers {
				med[i] = summarizeCell(runs[key{sc, s}], m)
				have = have || med[i].n > 0
			}
			if !have {
				continue
			}
			dir := "↑"
			switch {
			case m.neutral:
				dir = ""
			case m.lower:
				dir = "↓"
			}
			fmt.Fprintf(w, "| %s | %s | %s |", sc, m.name, dir)
			for _, c := range med {
				fmt.Fprintf(w, " %s |", c)
			}
			for _, c := range med[1:] {
				r := ratio(med[0], c)
				if m.neutral {
					r = ""
				}
				fmt.Fprintf(w, " %s |", r)
			}
			fmt.Fprintln(w)
		}
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Medians over the runs that passed their checks (n = runs counted, when fewer than all); – where none did.")
	notes(w, runs, scenarios, servers)
}

// notes lists, per scenario and server, the runs that failed and why.
func notes(w io.Writer, runs map[key][]run, scenarios, servers []string) {
	var lines []string
	for _, sc := range scenarios {
		for _, s := range servers {
			rs := runs[key{sc, s}]
			failed := 0
			var why []string
			for _, r := range rs {
				if r.rc == 0 {
					continue
				}
				failed++
				if e := r.reason(); e != "" && !slices.Contains(why, e) {
					why = append(why, e)
				}
			}
			if failed == 0 {
				continue
			}
			line := fmt.Sprintf("- %s on %s: %d of %d runs failed their checks", sc, title(s), failed, len(rs))
			if len(why) > 0 {
				line += ": " + strings.Join(why, "; ")
			}
			lines = append(lines, line)
		}
	}
	if len(lines) > 0 {
		fmt.Fprintln(w)
		fmt.Fprintln(w, "Failed runs (their other numbers still count where the failure was confined, see the query kinds):")
		for _, l := range lines {
			fmt.Fprintln(w, l)
		}
	}
}

// title names a server as its project does.
func title(s string) string {
	switch s {
	case "skald":
		return "Skald"
	case "prosody":
		return "Prosody"
	case "ejabberd":
		return "ejabberd"
	}
	return s
}
