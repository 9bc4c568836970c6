package loadgen

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"
)

// WriteParams configure the write scenario.
type WriteParams struct {
	Pairs     int  `json:"pairs"`      // sender/receiver pairs (2×Pairs accounts)
	Messages  int  `json:"messages"`   // per pair
	Window    int  `json:"window"`     // undelivered messages per pair
	BodyBytes int  `json:"body_bytes"` // pad bodies to about this size (0: ~30 bytes)
	Page      int  `json:"page"`       // MAM page size for the verification
	Verify    bool `json:"verify"`     // check both archives through MAM
}

func (p *WriteParams) validate() error {
	if p.Pairs < 1 || p.Messages < 1 || p.Window < 1 {
		return errors.New("write: pairs, messages and window must be at least 1")
	}
	if p.Page <= 0 {
		p.Page = 50
	}
	return nil
}

// WriteResult is the outcome of the write scenario.
type WriteResult struct {
	Scenario     string        `json:"scenario"`
	Params       WriteParams   `json:"params"`
	Users        string        `json:"users"`
	LoginSeconds float64       `json:"login_seconds"`
	Traffic      TrafficStats  `json:"traffic"`
	Archive      *ArchiveCheck `json:"archive,omitempty"`
}

func (r *WriteResult) Name() string { return r.Scenario }

func (r *WriteResult) Print(w io.Writer) {
	var t table
	t.add("setup", "%s (W=%d), %d messages each, users %s, logins %.2f s",
		plural(r.Params.Pairs, "pair"), r.Params.Window, r.Params.Messages, r.Users, r.LoginSeconds)
	t.traffic("", r.Traffic)
	t.archive("", r.Archive)
	t.print(w, "write")
}

// OK reports no loss, no duplicates and (when verified) complete archives.
func (r *WriteResult) OK() bool {
	return r.Traffic.Lost == 0 && r.Traffic.Duplicates == 0 && r.Traffic.Error == "" &&
		(r.Archive == nil || r.Archive.OK())
}

// writers are the logged-in pairs of the write scenario: senders[i] writes
// to receivers[i].
type writers struct {
	senders, receivers []*Client
}

// loginWriters logs in 2×pairs accounts from offset: 2i+offset sends to
// 2i+1+offset. Both send presence, as clients do.
func (t *Target) loginWriters(ctx context.Context, offset, pairs int, run string) (*writers, error) {
	specs := make([]loginSpec, 2*pairs)
	for i := range specs {
		specs[i] = loginSpec{account: offset + i, resource: fmt.Sprintf("w%d-%s", i, run), presence: true}
	}
	cs, err := t.loginAll(ctx, specs, nil)
	if err != nil {
		return nil, err
	}
	w := &writers{}
	for i := 0; i < len(cs); i += 2 {
		w.senders = append(w.senders, cs[i])
		w.receivers = append(w.receivers, cs[i+1])
	}
	return w, nil
}

func (w *writers) close() { closeAll(append(append([]*Client(nil), w.senders...), w.receivers...)) }

// writeRound runs one round of write traffic over logged-in pairs and,
// if asked, verifies the archives.
func (t *Target) writeRound(ctx context.Context, w *writers, p WriteParams) (TrafficStats, *ArchiveCheck, error) {
	counts := make([]int, len(w.senders))
	for i := range counts {
		counts[i] = p.Messages
	}
	tr := newTraffic(w.senders, w.receivers, counts, p.Window, p.BodyBytes)
	defer tr.detach()
	var marks archiveMarks
	if p.Verify {
		var err error
		if marks, err = tr.marks(ctx); err != nil {
			return TrafficStats{}, nil, fmt.Errorf("reading archive marks: %w", err)
		}
	}
	tr.startSending(ctx)
	tr.wait(ctx, t.Timeout)
	var ac *ArchiveCheck
	if p.Verify {
		ac = tr.verify(ctx, marks, p.Page)
	}
	// Stats last: duplicates may still trickle in during verification.
	return tr.stats(), ac, ctx.Err()
}

// RunWrite runs the write scenario: Pairs pairs (accounts FirstUser…),
// Messages each with at most Window undelivered, then the MAM check.
func RunWrite(ctx context.Context, t *Target, p WriteParams) (*WriteResult, error) {
	if err := p.validate(); err != nil {
		return nil, err
	}
	r := &WriteResult{Scenario: "write", Params: p, Users: t.userRange(0, 2*p.Pairs)}
	t.logf("write: logging in %d clients (%s)", 2*p.Pairs, r.Users)
	start := time.Now()
	w, err := t.loginWriters(ctx, 0, p.Pairs, newRunID())
	if err != nil {
		return nil, err
	}
	defer w.close()
	r.LoginSeconds = secs(time.Since(start))
	t.logf("write: sending %d×%d messages", p.Pairs, p.Messages)
	r.Traffic, r.Archive, err = t.writeRound(ctx, w, p)
	return r, err
}
