// Command skald-bench is an XMPP client-to-server load generator for any
// server (Skald, Prosody, ejabberd): message throughput and latency with
// a MAM check of both archives (write), archive query latency (query),
// both at once (mixed), a mobile client's catch-up (catchup) and the cost
// of idle connections (idle). See internal/loadgen for what each scenario
// does and how to create the accounts it needs.
//
// Usage:
//
//	skald-bench [flags] [-scenario write,query,mixed,catchup,idle|all]
//
// For example, against a local Skald whose accounts user1…user40 have the
// passwords pw-user1…:
//
//	skald-bench -port 5222 -scenario write -pairs 20 -messages 1000 -window 50
//	skald-bench -scenario idle -conns 5000 -pid $(pidof skald) -json
//
// Results are printed as tables, or with -json as one JSON object per
// scenario and line. The exit status is 1 if a scenario failed, lost,
// duplicated or failed to archive a message, or a query failed; 2 for bad
// flags.
//
// The bench parses every stanza it gets with the same XML reader as the
// server: for query-heavy scenarios it needs about as much CPU as the
// server, so give each its own cores (taskset) or machine.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/skald-xmpp/skald/internal/loadgen"
)

var scenarios = []string{"write", "query", "mixed", "catchup", "idle"}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("skald-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	t := &loadgen.Target{}
	host := fs.String("host", "127.0.0.1", "server host")
	port := fs.Int("port", 5222, "c2s port (STARTTLS or plain)")
	fs.StringVar(&t.Domain, "domain", "localhost", "XMPP domain of the accounts")
	fs.StringVar(&t.UserPattern, "user", "user%d", "account localpart pattern (%d: the account number)")
	fs.StringVar(&t.PasswordPattern, "password", "pw-%s", "password pattern: %s = localpart, %d = account number, else fixed")
	fs.IntVar(&t.FirstUser, "first-user", 1, "number of the first account")
	fs.StringVar(&t.Mechanism, "mech", loadgen.MechSCRAMSHA256, "SASL mechanism: SCRAM-SHA-256, SCRAM-SHA-1 or PLAIN")
	fs.BoolVar(&t.StartTLS, "starttls", true, "negotiate STARTTLS (certificates are not verified)")
	fs.DurationVar(&t.Timeout, "timeout", 30*time.Second, "per-request timeout; also how long without progress counts as a stall")
	fs.IntVar(&t.LoginParallel, "login-parallel", 32, "concurrent logins")
	pid := fs.Int("pid", 0, "server process id, for RSS readings (idle)")
	asJSON := fs.Bool("json", false, "print one JSON object per scenario instead of tables")
	quiet := fs.Bool("q", false, "no progress lines on stderr")
	cpuprofile := fs.String("cpuprofile", "", "write the bench's own CPU profile to this file")
	which := fs.String("scenario", "write", "comma-separated scenarios: "+strings.Join(scenarios, ", ")+", or all")
	page := fs.Int("page", 50, "MAM page size (RSM max)")
	prefillWindow := fs.Int("prefill-window", 50, "window of each prefill sender")

	var w loadgen.WriteParams
	fs.IntVar(&w.Pairs, "pairs", 20, "write: sender/receiver pairs")
	fs.IntVar(&w.Messages, "messages", 1000, "write: messages per pair")
	fs.IntVar(&w.Window, "window", 50, "write: undelivered messages per pair")
	fs.IntVar(&w.BodyBytes, "body-bytes", 0, "write: pad message bodies to about this many bytes")
	fs.BoolVar(&w.Verify, "verify", true, "write, mixed: check both archives through MAM afterwards")

	var q loadgen.QueryParams
	fs.IntVar(&q.Archive, "archive", 10000, "query: messages prefilled into the archive")
	fs.IntVar(&q.Queries, "queries", 200, "query: queries of each kind")
	fs.IntVar(&q.Concurrency, "concurrency", 8, "query: sessions querying at once")
	fs.IntVar(&q.Senders, "prefill-senders", 4, "query: peers writing the prefill")
	fs.IntVar(&q.PageThrough, "page-through", 1000, "query: messages per page-through query")

	var m loadgen.MixedParams
	fs.IntVar(&m.Readers, "readers", 4, "mixed: accounts paging through their archives (at least 2)")
	fs.IntVar(&m.Archive, "reader-archive", 5000, "mixed: messages each reader sends into the next one's archive")
	fs.DurationVar(&m.Pace, "reader-pace", 0, "mixed: least time between two page requests of a reader (0: closed loop)")

	var c loadgen.CatchupParams
	fs.IntVar(&c.Conversations, "conversations", 100, "catchup: conversations (peers)")
	fs.IntVar(&c.Seen, "seen", 5, "catchup: messages per conversation seen before going offline")
	fs.IntVar(&c.New, "new", 100, "catchup: messages per conversation to catch up on")
	fs.IntVar(&c.Parallel, "catchup-parallel", 4, "catchup: conversations queried at once")

	var idle loadgen.IdleParams
	fs.IntVar(&idle.Conns, "conns", 1000, "idle: connections")
	fs.IntVar(&idle.Accounts, "idle-accounts", 0, "idle: accounts the connections cycle over (0: one per connection)")
	fs.DurationVar(&idle.Hold, "hold", 5*time.Second, "idle: how long to hold the connections before the second RSS reading")

	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "skald-bench: unexpected arguments %q\n", fs.Args())
		return 2
	}
	t.Addr = net.JoinHostPort(*host, strconv.Itoa(*port))
	if err := t.Validate(); err != nil {
		fmt.Fprintln(stderr, "skald-bench:", err)
		return 2
	}
	var list []string
	for s := range strings.SplitSeq(*which, ",") {
		s = strings.TrimSpace(s)
		switch {
		case s == "all":
			list = append(list, scenarios...)
		case slices.Contains(scenarios, s):
			list = append(list, s)
		default:
			fmt.Fprintf(stderr, "skald-bench: unknown scenario %q (want %s or all)\n", s, strings.Join(scenarios, ", "))
			return 2
		}
	}
	if !*quiet {
		t.Log = func(format string, args ...any) {
			fmt.Fprintf(stderr, "%s "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
		}
	}
	w.Page, q.Page, c.Page = *page, *page, *page
	q.Window, m.Window, c.Window = *prefillWindow, *prefillWindow, *prefillWindow
	m.Write = w
	idle.PID = *pid

	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			fmt.Fprintln(stderr, "skald-bench:", err)
			return 1
		}
		defer f.Close()
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	// A load generator can trade memory for less GC work competing with
	// the server for CPU.
	debug.SetGCPercent(400)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	status := 0
	for _, s := range list {
		var res loadgen.Result
		var ok bool
		var err error
		switch s {
		case "write":
			var r *loadgen.WriteResult
			r, err = loadgen.RunWrite(ctx, t, w)
			res, ok = result(r), r != nil && r.OK()
		case "query":
			var r *loadgen.QueryResult
			r, err = loadgen.RunQuery(ctx, t, q)
			res, ok = result(r), r != nil && queryOK(r)
		case "mixed":
			var r *loadgen.MixedResult
			r, err = loadgen.RunMixed(ctx, t, m)
			res, ok = result(r), r != nil && r.OK()
		case "catchup":
			var r *loadgen.CatchupResult
			r, err = loadgen.RunCatchup(ctx, t, c)
			res, ok = result(r), r != nil && r.OK()
		case "idle":
			var r *loadgen.IdleResult
			r, err = loadgen.RunIdle(ctx, t, idle)
			res, ok = result(r), r != nil && r.Dropped == 0
		}
		if res != nil {
			if *asJSON {
				b, _ := json.Marshal(res)
				fmt.Fprintf(stdout, "%s\n", b)
			} else {
				res.Print(stdout)
			}
		}
		if err != nil {
			fmt.Fprintf(stderr, "skald-bench: %s: %v\n", s, err)
			status = 1
		} else if !ok {
			fmt.Fprintf(stderr, "skald-bench: %s: messages were lost, duplicated or not archived, or queries failed\n", s)
			status = 1
		}
		if ctx.Err() != nil {
			break
		}
	}
	return status
}

func queryOK(r *loadgen.QueryResult) bool {
	for _, k := range r.Kinds {
		if k.Errors > 0 {
			return false
		}
	}
	return r.Prefill.Lost == 0
}

// result converts a scenario's result pointer to a Result, nil if the
// scenario failed before producing one.
func result[R interface {
	*T
	loadgen.Result
}, T any](r R) loadgen.Result {
	if r == nil {
		return nil
	}
	return r
}
