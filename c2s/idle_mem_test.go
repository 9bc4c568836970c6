package c2s_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/skald-xmpp/skald/c2s"
	"github.com/skald-xmpp/skald/internal/xmpptest"
	"github.com/skald-xmpp/skald/router"
	"github.com/skald-xmpp/skald/storage"
)

// idleClientsEnv tells a child test process to act as the clients of
// BenchmarkIdleConnMemory: "ADDR,N".
const idleClientsEnv = "SKALD_IDLE_CLIENTS"

// idleAccounts is how many accounts the idle connections cycle over (each
// connection binds its own resource), as skald-bench -idle-accounts does.
const idleAccounts = 100

// BenchmarkIdleConnMemory measures what an idle connection costs the
// server once it has done STARTTLS, SCRAM-SHA-256 and bound a resource:
// b.N clients connect (from a child process, so that their own memory is
// not counted) and stay silent. It reports the growth of the live heap
// and of goroutine stacks per connection, after enough collections for
// stacks grown during the login to shrink back. ns/op is the time to log
// in b.N clients, 32 at a time, divided by b.N. Run it with a fixed
// count, e.g. -bench IdleConnMemory -benchtime 2000x.
func BenchmarkIdleConnMemory(b *testing.B) {
	srv, addr := startIdleServer(b)
	before := settledMem()

	cmd := exec.Command(os.Args[0], "-test.run=^TestIdleClientsHelper$", "-test.count=1")
	cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%s,%d", idleClientsEnv, addr, b.N))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	defer cmd.Wait()
	defer stdin.Close() // the clients leave when their stdin closes
	if !waitForLine(stdout, "ready") {
		b.Fatal("the client process ended before its connections were up")
	}
	b.StopTimer()
	for deadline := time.Now().Add(10 * time.Second); srv.ConnCount() < b.N; {
		if time.Now().After(deadline) {
			b.Fatalf("%d connections open, want %d", srv.ConnCount(), b.N)
		}
		time.Sleep(10 * time.Millisecond)
	}
	// Idle connections hand themselves to fresh goroutines after waiting
	// a second in place (handOffDelay): measure once they all have.
	time.Sleep(1500 * time.Millisecond)
	after := settledMem()
	n := float64(b.N)
	heap := float64(after.HeapAlloc) - float64(before.HeapAlloc)
	stack := float64(after.StackInuse) - float64(before.StackInuse)
	b.ReportMetric(heap/n, "heap-B/conn")
	b.ReportMetric(stack/n, "stack-B/conn")
	b.ReportMetric((heap+stack)/n, "B/conn")
}

// settledMem returns memory statistics after a few collections: each one
// shrinks a goroutine's stack by at most half.
func settledMem() runtime.MemStats {
	for range 5 {
		runtime.GC()
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms
}

// waitForLine reads lines from r until one equals want; false at EOF.
func waitForLine(r io.Reader, want string) bool {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		if strings.TrimSpace(sc.Text()) == want {
			return true
		}
	}
	return false
}

// startIdleServer serves accounts idle1..idle100 (password pw) over
// required STARTTLS with the default configuration.
func startIdleServer(b *testing.B) (*c2s.Server, string) {
	b.Helper()
	cr := xmpptest.Credentials(b, "pw")
	u := &users{m: map[string]storage.Credentials{}}
	for i := 1; i <= idleAccounts; i++ {
		u.m["idle"+strconv.Itoa(i)+"@localhost"] = cr
	}
	r := router.New(router.Config{Domains: []string{"localhost"}, Users: u})
	cfg := c2s.DefaultConfig()
	cfg.TLS = testTLS(b)
	cfg.AuthFailuresPerMinute = 0
	cfg.AccountAuthFailuresPerMinute = 0
	// The server's own kind of logger, at bench/skald.toml's level.
	log := slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelWarn}))
	srv := c2s.NewServer(cfg, r, u, log)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go srv.Serve(l, false)
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	})
	return srv, l.Addr().String()
}

// TestIdleClientsHelper is the client process of BenchmarkIdleConnMemory
// (skipped unless started by it): it logs in N connections, says "ready"
// and holds them until its stdin closes.
func TestIdleClientsHelper(t *testing.T) {
	spec := os.Getenv(idleClientsEnv)
	if spec == "" {
		t.Skip("the client process of BenchmarkIdleConnMemory")
	}
	addr, count, _ := strings.Cut(spec, ",")
	n, err := strconv.Atoi(count)
	if err != nil {
		t.Fatalf("%s=%q", idleClientsEnv, spec)
	}
	const parallel = 32
	next := make(chan int)
	var wg sync.WaitGroup
	for range parallel {
		wg.Go(func() {
			for i := range next {
				c := xmpptest.Dial(t, addr)
				c.Login("localhost", "idle"+strconv.Itoa(i%idleAccounts+1), "pw", "r"+strconv.Itoa(i))
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	fmt.Println("ready")
	io.Copy(io.Discard, os.Stdin)
}
