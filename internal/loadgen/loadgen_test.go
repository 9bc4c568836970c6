package loadgen_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/skald-xmpp/skald/config"
	"github.com/skald-xmpp/skald/internal/loadgen"
	"github.com/skald-xmpp/skald/internal/server"
	"github.com/skald-xmpp/skald/internal/xmpptest"
	"github.com/skald-xmpp/skald/storage/memory"
)

// startSkald runs a complete Skald server on loopback, as
// internal/server's tests do, with accounts user1…userN (password
// pw-userI), and returns a Target for it.
func startSkald(t testing.TB, users int) *loadgen.Target {
	t.Helper()
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.C2S.StartTLSAddress = "127.0.0.1:0"
	cfg.C2S.DirectTLSAddress = "127.0.0.1:0"
	cfg.C2S.AuthFailuresPerMinutePerIP = 0
	st := memory.New()
	ctx := context.Background()
	for i := 1; i <= users; i++ {
		name := "user" + strconv.Itoa(i)
		if err := st.CreateUser(ctx, name+"@localhost", xmpptest.Credentials(t, "pw-"+name)); err != nil {
			t.Fatal(err)
		}
	}
	srv, err := server.New(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), server.Options{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Listen(); err != nil {
		t.Fatal(err)
	}
	srv.Start(ctx)
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	})
	addr, _ := srv.Addrs()
	return target(addr, loadgen.MechSCRAMSHA256, "pw-user%d")
}

func target(addr, mech, password string) *loadgen.Target {
	return &loadgen.Target{
		Addr: addr, Domain: "localhost", StartTLS: true, Mechanism: mech,
		Timeout: 10 * time.Second, UserPattern: "user%d", PasswordPattern: password, FirstUser: 1,
	}
}

// TestSmoke runs the scenarios at small sizes against an in-process Skald
// and checks correctness only: nothing lost, duplicated or missing from
// the archives, and every rate non-zero.
func TestSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server")
	}
	tg := startSkald(t, 20)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	t.Run("mechanisms", func(t *testing.T) {
		for _, mech := range []string{loadgen.MechSCRAMSHA1, loadgen.MechPlain, loadgen.MechSCRAMSHA256} {
			c, err := target(tg.Addr, mech, "pw-%s").Login(ctx, 0, "mech")
			if err != nil {
				t.Fatalf("%s: %v", mech, err)
			}
			if c.Bare != "user1@localhost" {
				t.Errorf("%s: bound %s", mech, c.JID)
			}
			c.Close()
		}
		if _, err := target(tg.Addr, loadgen.MechSCRAMSHA256, "wrong").Login(ctx, 0, "bad"); err == nil || !strings.Contains(err.Error(), "not-authorized") {
			t.Errorf("wrong password: %v", err)
		}
	})

	t.Run("write", func(t *testing.T) {
		r, err := loadgen.RunWrite(ctx, tg, loadgen.WriteParams{Pairs: 2, Messages: 200, Window: 10, Verify: true})
		if err != nil {
			t.Fatal(err)
		}
		tr, a := r.Traffic, r.Archive
		if tr.Delivered != 400 || tr.Lost != 0 || tr.Duplicates != 0 || tr.Bounced != 0 || tr.Foreign != 0 || tr.NoStanzaID != 0 || tr.Error != "" {
			t.Errorf("traffic: %+v", tr)
		}
		if tr.Rate <= 0 || tr.Latency.N != 400 || tr.Latency.P99 <= 0 || tr.Latency.P50 > tr.Latency.P99 {
			t.Errorf("numbers: %+v", tr)
		}
		if !a.OK() || a.SenderItems != 400 || a.ReceiverItems != 400 || a.Archives != 4 {
			t.Errorf("archive: %+v", a)
		}
		if !r.OK() {
			t.Error("not OK")
		}
		logResult(t, r)
	})

	t.Run("query", func(t *testing.T) {
		r, err := loadgen.RunQuery(ctx, tg, loadgen.QueryParams{Archive: 300, Queries: 10, Concurrency: 2, Senders: 2, Window: 20, PageThrough: 100})
		if err != nil {
			t.Fatal(err)
		}
		if r.Prefill.Delivered != 300 || r.Prefill.Rate <= 0 {
			t.Errorf("prefill: %+v", r.Prefill)
		}
		want := map[string]float64{
			loadgen.KindLastPage:     50,
			loadgen.KindRange:        -1, // at least a few
			loadgen.KindWithLastPage: 50,
			loadgen.KindMetadata:     1,
			loadgen.KindPageThrough:  -1,
		}
		if len(r.Kinds) != len(want) {
			t.Fatalf("kinds: %+v", r.Kinds)
		}
		for _, k := range r.Kinds {
			if k.Errors != 0 || k.QPS <= 0 || k.Latency.N != 10 {
				t.Errorf("%s: %+v", k.Kind, k)
			}
			if w := want[k.Kind]; w >= 0 && k.Items != w {
				t.Errorf("%s: %.1f items per query, want %.0f", k.Kind, k.Items, w)
			}
		}
		// From a random point with (very likely) 100 items after it.
		if k := r.Kinds[4]; k.Items < 75 || k.Items > 100 || k.Pages > 2 {
			t.Errorf("page-through: %+v", k)
		}
		if k := r.Kinds[1]; k.Items < 2 {
			t.Errorf("range: %+v", k)
		}
		logResult(t, r)
	})

	t.Run("idle", func(t *testing.T) {
		r, err := loadgen.RunIdle(ctx, tg, loadgen.IdleParams{Conns: 20})
		if err != nil {
			t.Fatal(err)
		}
		if r.Established != 20 || r.ConnsPerSec <= 0 || r.Dropped != 0 || r.Login.N != 20 {
			t.Errorf("idle: %+v", r)
		}
		logResult(t, r)
	})

	t.Run("catchup", func(t *testing.T) {
		r, err := loadgen.RunCatchup(ctx, tg, loadgen.CatchupParams{Conversations: 5, Seen: 2, New: 60, Window: 10, Parallel: 2})
		if err != nil {
			t.Fatal(err)
		}
		if !r.OK() || r.Messages != 300 || r.Queries != 10 || r.CaughtUpSecs <= 0 {
			t.Errorf("catchup: %+v", r)
		}
		logResult(t, r)
	})

	t.Run("mixed", func(t *testing.T) {
		w := loadgen.WriteParams{Pairs: 1, Messages: 100, Window: 10, Verify: true}
		r, err := loadgen.RunMixed(ctx, tg, loadgen.MixedParams{Write: w, Readers: 2, Archive: 100, Window: 10})
		if err != nil {
			t.Fatal(err)
		}
		if !r.OK() || r.Alone.Delivered != 100 || r.Loaded.Delivered != 100 || r.ReaderPages == 0 || r.P99Ratio <= 0 {
			t.Errorf("mixed: %+v", r)
		}
		logResult(t, r)
	})

	t.Run("mixed paced", func(t *testing.T) {
		w := loadgen.WriteParams{Pairs: 1, Messages: 300, Window: 10, Verify: true}
		const readers, pace = 2, 100 * time.Millisecond
		r, err := loadgen.RunMixed(ctx, tg, loadgen.MixedParams{Write: w, Readers: readers, Archive: 100, Window: 10, Pace: pace})
		if err != nil {
			t.Fatal(err)
		}
		// At most one page per pace per reader, plus the first of each
		// (closed loop, this server gives a page every few ms).
		if r.ReaderPages == 0 || r.ReaderRate <= 0 {
			t.Fatalf("paced readers: no pages: %+v", r)
		}
		elapsed := time.Duration(float64(r.ReaderPages) / r.ReaderRate * float64(time.Second))
		if limit := readers * (int(elapsed/pace) + 1); r.ReaderPages > limit {
			t.Errorf("paced readers: %d pages in %v, want at most %d", r.ReaderPages, elapsed, limit)
		}
		if !r.OK() || r.Loaded.Delivered != 300 {
			t.Errorf("mixed paced: %+v", r)
		}
		logResult(t, r)
	})
}

func logResult(t *testing.T, r loadgen.Result) {
	var b strings.Builder
	r.Print(&b)
	t.Log("\n" + b.String())
	if _, err := json.Marshal(r); err != nil {
		t.Error(err)
	}
}
