package mam

import (
	"context"
	"fmt"
	"time"
)

// expireBatch is how many items one ExpireArchive call may delete: small
// enough that each deletion is a short transaction, so message writes
// interleave with a large cleanup instead of waiting for it.
const expireBatch = 1000

// Cleaner deletes expired archive items (archive_expires_after) every
// archive_cleanup_interval. Expiry deletes the oldest items of each
// archive, so it never leaves holes (XEP-0313 "Message retention and deletion").
type Cleaner struct {
	m *Module
}

// Cleaner returns the module's expiry job; the caller runs it.
func (m *Module) Cleaner() *Cleaner { return &Cleaner{m: m} }

// Run expires items now and then every archive_cleanup_interval until ctx
// ends. With archive_expires_after = "never" it returns at once.
func (c *Cleaner) Run(ctx context.Context) {
	if c.m.set.never {
		return
	}
	t := time.NewTicker(c.m.set.interval)
	defer t.Stop()
	for {
		start := time.Now()
		n, err := c.ExpireNow(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			c.m.log.Warn("mam: expiring archive items failed", "deleted", n, "err", err)
		case n > 0:
			c.m.log.Info("mam: expired archive items", "deleted", n, "took", time.Since(start))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// ExpireNow deletes every item older than archive_expires_after, in
// batches of at most expireBatch, and returns how many it deleted. It
// stops early, with ctx's error, when ctx ends.
func (c *Cleaner) ExpireNow(ctx context.Context) (int, error) {
	if c.m.set.never {
		return 0, nil
	}
	before := c.m.now().Add(-c.m.set.expiry)
	total := 0
	defer func() {
		if total > 0 {
			c.m.forgetCounts()
		}
	}()
	for {
		if err := ctx.Err(); err != nil {
			return total, err
		}
		n, err := c.m.store.ExpireArchive(ctx, before, expireBatch)
		total += n
		if err != nil {
			return total, fmt.Errorf("mam: expire: %w", err)
		}
		if n < expireBatch {
			return total, nil
		}
	}
}
