package server

import (
	"context"
	"log/slog"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"testing"
	"time"

	skmetrics "github.com/skald-xmpp/skald/internal/metrics"
)

func TestReleaserCheck(t *testing.T) {
	const mib = 1 << 20
	t0 := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
	// Each case feeds samples one second apart; want lists check's answers.
	type step struct {
		allocs, live, spare uint64
		want                bool
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"quiet with much spare: releases on the second quiet check", []step{
			{1000 * mib, 100 * mib, 100 * mib, false}, // first sample: no rate yet
			{1000 * mib, 100 * mib, 100 * mib, false}, // quiet 1
			{1000 * mib, 100 * mib, 100 * mib, true},  // quiet 2
		}},
		{"slow allocation counts as quiet", []step{
			{1000 * mib, 100 * mib, 100 * mib, false},
			{1000*mib + 900_000, 100 * mib, 100 * mib, false}, // 0.9 MB/s: 100 s would allocate less than live
			{1000*mib + 1_800_000, 100 * mib, 100 * mib, true},
		}},
		{"busy: never releases", []step{
			{1000 * mib, 100 * mib, 100 * mib, false},
			{1002 * mib, 100 * mib, 100 * mib, false}, // 2 MB/s: live again within 100 s
			{1004 * mib, 100 * mib, 100 * mib, false},
			{1006 * mib, 100 * mib, 100 * mib, false},
		}},
		{"a big heap at 5 MB/s is busy, not quiet", []step{
			{1000 * mib, 1024 * mib, 1024 * mib, false},
			{1005 * mib, 1024 * mib, 1024 * mib, false}, // under live/100 s, over 1 MiB/s
			{1010 * mib, 1024 * mib, 1024 * mib, false},
			{1015 * mib, 1024 * mib, 1024 * mib, false},
		}},
		{"a big heap below 1 MiB/s is quiet", []step{
			{1000 * mib, 1024 * mib, 1024 * mib, false},
			{1000*mib + 500_000, 1024 * mib, 1024 * mib, false},
			{1000*mib + 1_000_000, 1024 * mib, 1024 * mib, true},
		}},
		{"a busy second restarts the quiet count", []step{
			{1000 * mib, 100 * mib, 100 * mib, false},
			{1000 * mib, 100 * mib, 100 * mib, false}, // quiet 1
			{1010 * mib, 100 * mib, 100 * mib, false}, // busy
			{1010 * mib, 100 * mib, 100 * mib, false}, // quiet 1
			{1010 * mib, 100 * mib, 100 * mib, true},  // quiet 2
		}},
		{"too little to give back (under 16 MiB)", []step{
			{1000 * mib, 10 * mib, 15 * mib, false},
			{1000 * mib, 10 * mib, 15 * mib, false},
			{1000 * mib, 10 * mib, 15 * mib, false},
		}},
		{"too little to give back (under an eighth of live)", []step{
			{1000 * mib, 400 * mib, 40 * mib, false},
			{1000 * mib, 400 * mib, 40 * mib, false},
			{1000 * mib, 400 * mib, 40 * mib, false},
		}},
		{"releases at most every 10 s", []step{
			{1000 * mib, 100 * mib, 100 * mib, false},
			{1000 * mib, 100 * mib, 100 * mib, false},
			{1000 * mib, 100 * mib, 100 * mib, true}, // t=2s
			{1000 * mib, 100 * mib, 100 * mib, false},
			{1000 * mib, 100 * mib, 100 * mib, false}, // quiet twice, but t=4s
			{1000 * mib, 100 * mib, 100 * mib, false},
			{1000 * mib, 100 * mib, 100 * mib, false},
			{1000 * mib, 100 * mib, 100 * mib, false},
			{1000 * mib, 100 * mib, 100 * mib, false},
			{1000 * mib, 100 * mib, 100 * mib, false},
			{1000 * mib, 100 * mib, 100 * mib, false}, // t=10s
			{1000 * mib, 100 * mib, 100 * mib, false},
			{1000 * mib, 100 * mib, 100 * mib, true}, // t=12s
		}},
		{"once released, a quiet server stays alone", []step{
			{1000 * mib, 100 * mib, 100 * mib, false},
			{1000 * mib, 100 * mib, 100 * mib, false},
			{1000 * mib, 100 * mib, 100 * mib, true},
			{1000 * mib, 100 * mib, 1 * mib, false}, // what the release left
			{1000 * mib, 100 * mib, 1 * mib, false},
			{1000 * mib, 100 * mib, 1 * mib, false},
			{1000 * mib, 100 * mib, 1 * mib, false},
			{1000 * mib, 100 * mib, 1 * mib, false},
			{1000 * mib, 100 * mib, 1 * mib, false},
			{1000 * mib, 100 * mib, 1 * mib, false},
			{1000 * mib, 100 * mib, 1 * mib, false},
			{1000 * mib, 100 * mib, 1 * mib, false},
			{1000 * mib, 100 * mib, 1 * mib, false},
			{1000 * mib, 100 * mib, 1 * mib, false},
			{1000 * mib, 100 * mib, 1 * mib, false}, // t=14s
		}},
		{"the allocation counter going back is a first sample", []step{
			{1000 * mib, 100 * mib, 100 * mib, false},
			{10 * mib, 100 * mib, 100 * mib, false},
			{10 * mib, 100 * mib, 100 * mib, false},
			{10 * mib, 100 * mib, 100 * mib, true},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := releaser{every: time.Second, horizon: quietHorizon, maxRate: quietMaxRate}
			for i, s := range tt.steps {
				got := r.check(t0.Add(time.Duration(i)*time.Second), heapSample{allocs: s.allocs, live: s.live, spare: s.spare})
				if got != s.want {
					t.Fatalf("check %d = %v, want %v", i, got, s.want)
				}
			}
		})
	}
}

// TestReleaseFreeMemory runs the releaser over the real runtime: 64 MiB of
// garbage that no collection frees (the collector is off) is spare until
// the releaser, seeing the process quiet, forces one and returns it.
func TestReleaseFreeMemory(t *testing.T) {
	runtime.GC()
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	samples := make([]metrics.Sample, len(heapMetrics))
	for i, name := range heapMetrics {
		samples[i].Name = name
	}
	spare := func() uint64 { return readHeap(samples).spare }

	garbage := make([][]byte, 64)
	for i := range garbage {
		garbage[i] = make([]byte, 1<<20)
		garbage[i][0] = 1
	}
	garbage = nil
	if s := spare(); s < 64<<20 {
		t.Fatalf("%d MiB spare with 64 MiB of garbage", s>>20)
	}

	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var releases skmetrics.Counter
	wg.Go(func() {
		releaseFreeMemory(ctx, &releaser{every: 20 * time.Millisecond, horizon: time.Second, maxRate: 1 << 40, releases: &releases}, slog.New(slog.DiscardHandler))
	})
	defer func() { cancel(); wg.Wait() }()
	deadline := time.Now().Add(10 * time.Second)
	for spare() > 16<<20 || releases.Load() == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d MiB still spare, %d releases counted", spare()>>20, releases.Load())
		}
		time.Sleep(10 * time.Millisecond)
	}
}
