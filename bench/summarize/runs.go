package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// key names the runs of one scenario against one server.
type key struct{ scenario, server string }

// run is one skald-bench invocation: its decoded result (nil if it printed
// none), exit status and stderr.
type run struct {
	repeat int
	result any // *loadgen.WriteResult, *loadgen.QueryResult, …
	rc     int
	stderr string
}

// reason says why the run failed: what its result shows, else the first
// "skald-bench: …" line of its stderr, else how it ended.
func (r run) reason() string {
	if d := detail(r.result); d != "" {
		return d
	}
	sc := bufio.NewScanner(strings.NewReader(r.stderr))
	for sc.Scan() {
		if l, ok := strings.CutPrefix(sc.Text(), "skald-bench: "); ok {
			const max = 200
			if len(l) > max {
				l = l[:max] + "…"
			}
			return l
		}
	}
	switch {
	case r.rc == 124:
		return "timed out"
	case r.result == nil:
		return fmt.Sprintf("no result (exit status %d)", r.rc)
	}
	return ""
}

var runFile = regexp.MustCompile(`^([a-z0-9_-]+)\.r([0-9]+)\.rc$`)

// load reads every run of the scenarios against the servers under dir.
// A run is known by its .rc file (written last by bench/compare).
func load(dir string, scenarios, servers []string) (map[key][]run, error) {
	out := map[key][]run{}
	for _, sc := range scenarios {
		entries, err := os.ReadDir(filepath.Join(dir, sc))
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			m := runFile.FindStringSubmatch(e.Name())
			if m == nil || !slices.Contains(servers, m[1]) {
				continue
			}
			base := filepath.Join(dir, sc, strings.TrimSuffix(e.Name(), ".rc"))
			r, err := readRun(sc, base)
			if err != nil {
				return nil, err
			}
			r.repeat, _ = strconv.Atoi(m[2])
			k := key{sc, m[1]}
			out[k] = append(out[k], r)
		}
	}
	for _, rs := range out {
		sort.Slice(rs, func(i, j int) bool { return rs[i].repeat < rs[j].repeat })
	}
	return out, nil
}

func readRun(scenario, base string) (run, error) {
	var r run
	rc, err := os.ReadFile(base + ".rc")
	if err != nil {
		return r, err
	}
	if r.rc, err = strconv.Atoi(strings.TrimSpace(string(rc))); err != nil {
		return r, fmt.Errorf("%s.rc: %v", base, err)
	}
	stderr, _ := os.ReadFile(base + ".err")
	r.stderr = string(stderr)
	stdout, err := os.ReadFile(base + ".json")
	if err != nil && !os.IsNotExist(err) {
		return r, err
	}
	// skald-bench prints one JSON object per line; take the scenario's.
	for line := range bytes.Lines(stdout) {
		line = bytes.TrimSpace(line)
		if len(line) == 0 || line[0] != '{' {
			continue
		}
		var probe struct {
			Scenario string `json:"scenario"`
		}
		if json.Unmarshal(line, &probe) != nil || probe.Scenario != scenario {
			continue
		}
		res := newResult(scenario)
		if res == nil {
			break
		}
		if err := json.Unmarshal(line, res); err != nil {
			return r, fmt.Errorf("%s.json: %v", base, err)
		}
		r.result = res
		break
	}
	return r, nil
}
