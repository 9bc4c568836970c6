package loadgen

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"
)

// IdleParams configure the idle scenario.
type IdleParams struct {
	Conns    int           `json:"conns"`
	Accounts int           `json:"accounts"` // connections cycle over this many accounts (0: one each)
	Hold     time.Duration `json:"-"`        // how long to hold the connections before reading RSS again
	HoldSecs float64       `json:"hold_seconds"`
	PID      int           `json:"pid"` // the server's pid, for RSS (0: no readings)
}

// IdleResult is the outcome of the idle scenario.
type IdleResult struct {
	Scenario    string     `json:"scenario"`
	Params      IdleParams `json:"params"`
	Users       string     `json:"users"`
	Established int        `json:"established"`
	Seconds     float64    `json:"seconds"`
	ConnsPerSec float64    `json:"conns_per_second"`
	Login       Latency    `json:"login_latency"` // connect to presence acknowledged
	Dropped     int        `json:"dropped"`       // connections closed by the server during the hold
	RSSBefore   int64      `json:"rss_before_bytes,omitempty"`
	RSSAfter    int64      `json:"rss_after_bytes,omitempty"`
	RSSPerConn  float64    `json:"rss_per_conn_bytes,omitempty"`
}

func (r *IdleResult) Name() string { return r.Scenario }

func (r *IdleResult) Print(w io.Writer) {
	var t table
	t.add("setup", "%d connections over %d accounts (%s), held %s", r.Params.Conns, r.Params.Accounts, r.Users, r.Params.Hold)
	t.add("established", "%d in %.2f s: %.1f conn/s, %d dropped while held", r.Established, r.Seconds, r.ConnsPerSec, r.Dropped)
	t.add("login latency", "%s", r.Login)
	if r.Params.PID > 0 {
		t.add("server RSS", "%.1f MiB before, %.1f MiB after: %.1f KiB per connection",
			float64(r.RSSBefore)/(1<<20), float64(r.RSSAfter)/(1<<20), r.RSSPerConn/1024)
	} else {
		t.add("server RSS", "not measured (no -pid)")
	}
	t.print(w, "idle")
}

// RunIdle opens Conns authenticated, bound connections with available
// presence (LoginParallel at a time) and holds them open; it reports the
// set-up rate and, given the server's pid, its RSS growth per connection.
func RunIdle(ctx context.Context, t *Target, p IdleParams) (*IdleResult, error) {
	if p.Conns < 1 {
		return nil, errors.New("idle: needs at least 1 connection")
	}
	if p.Accounts <= 0 || p.Accounts > p.Conns {
		p.Accounts = p.Conns
	}
	p.HoldSecs = p.Hold.Seconds()
	r := &IdleResult{Scenario: "idle", Params: p, Users: t.userRange(0, p.Accounts)}
	if p.PID > 0 {
		rss, err := ReadRSS(p.PID)
		if err != nil {
			return nil, err
		}
		r.RSSBefore = rss
	}
	run := newRunID()
	specs := make([]loginSpec, p.Conns)
	for i := range specs {
		specs[i] = loginSpec{account: i % p.Accounts, resource: fmt.Sprintf("idle%d-%s", i, run), presence: true}
	}
	t.logf("idle: opening %d connections", p.Conns)
	lat := make([]time.Duration, p.Conns)
	start := time.Now()
	cs, err := t.loginAll(ctx, specs, lat)
	if err != nil {
		return nil, err
	}
	d := time.Since(start)
	defer closeAll(cs)
	r.Established = len(cs)
	r.Seconds = secs(d)
	r.ConnsPerSec = rate(len(cs), d)
	r.Login = summarize(lat)

	t.logf("idle: holding %d connections for %s", len(cs), p.Hold)
	hold := time.NewTimer(p.Hold)
	defer hold.Stop()
	keep := time.NewTicker(time.Minute)
	defer keep.Stop()
wait:
	for {
		select {
		case <-ctx.Done():
			return r, ctx.Err()
		case <-hold.C:
			break wait
		case <-keep.C:
			for _, c := range cs {
				c.Keepalive()
			}
		}
	}
	for _, c := range cs {
		select {
		case <-c.Done():
			r.Dropped++
		default:
		}
	}
	if p.PID > 0 {
		rss, err := ReadRSS(p.PID)
		if err != nil {
			return r, err
		}
		r.RSSAfter = rss
		r.RSSPerConn = float64(r.RSSAfter-r.RSSBefore) / float64(len(cs))
	}
	return r, nil
}
