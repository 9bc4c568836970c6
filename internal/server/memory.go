package server

import (
	"context"
	"log/slog"
	"runtime/debug"
	"runtime/metrics"
	"time"

	skmetrics "github.com/skald-xmpp/skald/internal/metrics"
)

// Returning free memory to the operating system while the server is quiet
// (config release_free_memory).
//
// Why: Go's collector lets the heap grow to about twice what is live
// (GOGC=100) before it collects, and its background scavenger returns
// memory only down to that goal. A server that set up many connections in
// a burst and then holds them idle allocates almost nothing, so no
// collection comes to free the burst's garbage, and its resident memory
// stays at about twice its live heap for as long as it stays quiet. The
// releaser notices that state and calls debug.FreeOSMemory: one forced
// collection, after which the freed pages go back to the kernel.
//
// When: allocation has been slow for quietTicks checks in a row, slow
// meaning under quietMaxRate and slow enough that the heap would need
// longer than quietHorizon to allocate its live size again (so a
// collection is not coming soon anyway), and the memory a release could
// give back (heapSample.spare) is at least minRelease and an eighth of the
// live heap. Releases are at least minReleaseGap apart. A busy server never
// releases: its collections recycle that memory every few seconds, and
// releasing would only make the kernel fault it back in. The absolute cap
// keeps a big heap from making real traffic look quiet: at 1 GiB live,
// the horizon alone would allow 10 MB/s, and a release every few seconds
// at several times the collector's own pace.

const (
	releaseCheckEvery = time.Second
	quietTicks        = 2
	quietHorizon      = 100 * time.Second
	quietMaxRate      = 1 << 20 // bytes allocated per second
	minRelease        = 16 << 20
	minReleaseGap     = 10 * time.Second
)

// heapSample is what one check reads from runtime/metrics.
type heapSample struct {
	allocs uint64 // bytes ever allocated on the heap
	live   uint64 // heap live after the last collection
	// spare is what a collection and a release could give back: the heap
	// objects beyond live (garbage, or allocated since) and the free
	// pages still mapped. Free space inside spans in use
	// (/memory/classes/heap/unused) is not counted: no release returns it.
	spare uint64
}

// releaser decides, one check at a time, when to release.
type releaser struct {
	every       time.Duration // between checks
	horizon     time.Duration // quietHorizon; tests shorten it
	maxRate     float64       // quietMaxRate; tests raise it
	last        heapSample
	quiet       int
	lastRelease time.Time
	// releases counts the releases done (skald_memory_releases_total);
	// nil: not counted.
	releases *skmetrics.Counter
}

// check takes one sample and reports whether to release now.
func (r *releaser) check(now time.Time, s heapSample) bool {
	prev := r.last
	r.last = s
	if prev.allocs == 0 || s.allocs < prev.allocs {
		return false // first sample
	}
	rate := float64(s.allocs-prev.allocs) / r.every.Seconds()
	if rate > r.maxRate || rate*r.horizon.Seconds() > float64(s.live) {
		r.quiet = 0
		return false
	}
	r.quiet++
	if r.quiet < quietTicks || now.Sub(r.lastRelease) < minReleaseGap {
		return false
	}
	if s.spare < minRelease || s.spare < s.live/8 {
		return false
	}
	r.lastRelease = now
	r.quiet = 0
	return true
}

var heapMetrics = []string{
	"/gc/heap/allocs:bytes",
	"/gc/heap/live:bytes",
	"/memory/classes/heap/objects:bytes",
	"/memory/classes/heap/free:bytes",
}

func readHeap(samples []metrics.Sample) heapSample {
	metrics.Read(samples)
	v := func(i int) uint64 {
		if samples[i].Value.Kind() != metrics.KindUint64 {
			return 0 // not in this Go version: the releaser stays idle
		}
		return samples[i].Value.Uint64()
	}
	allocs, live, objects, free := v(0), v(1), v(2), v(3)
	return heapSample{allocs: allocs, live: live, spare: free + objects - min(live, objects)}
}

// releaseFreeMemory checks every r.every until ctx ends.
func releaseFreeMemory(ctx context.Context, r *releaser, log *slog.Logger) {
	samples := make([]metrics.Sample, len(heapMetrics))
	for i, name := range heapMetrics {
		samples[i].Name = name
	}
	t := time.NewTicker(r.every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			before := readHeap(samples)
			if !r.check(now, before) {
				continue
			}
			debug.FreeOSMemory()
			if r.releases != nil {
				r.releases.Inc()
			}
			after := readHeap(samples)
			r.last = after // the collection's own allocations are not traffic
			log.Debug("returned free memory to the operating system",
				"spare_before", before.spare, "spare_after", after.spare, "live", after.live,
				"took", time.Since(now).Round(time.Millisecond))
		}
	}
}
