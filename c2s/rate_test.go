package c2s

import (
	"testing"
	"time"
)

func TestTokenBucket(t *testing.T) {
	tests := []struct {
		name      string
		rate      float64
		burst     float64
		reads     []int
		wantSleep time.Duration // total, approximately
	}{
		{"within burst", 1000, 4000, []int{1000, 1000, 1000}, 0},
		{"exactly burst", 1000, 4000, []int{4000}, 0},
		{"over burst by one second", 1000, 4000, []int{4000, 1000}, time.Second},
		{"over burst by three seconds", 1000, 2000, []int{2000, 1000, 2000}, 3 * time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := newTokenBucket(tc.rate, tc.burst)
			clock := b.last
			b.now = func() time.Time { return clock }
			var slept time.Duration
			b.sleep = func(d time.Duration) { slept += d; clock = clock.Add(d) }
			for _, n := range tc.reads {
				b.take(n)
			}
			if slept != tc.wantSleep {
				t.Fatalf("slept %v, want about %v", slept, tc.wantSleep)
			}
		})
	}
}
