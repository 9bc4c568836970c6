package server_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/skald-xmpp/skald/config"
	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/internal/xmpptest"
	"github.com/skald-xmpp/skald/sasl"
	"github.com/skald-xmpp/skald/storage"
	"github.com/skald-xmpp/skald/storage/sqlite"
)

// End-to-end benchmarks: a complete server on loopback with a real SQLite
// store (WAL, synchronous=FULL, group commit) in a temporary directory,
// clients over real sockets with STARTTLS and SCRAM, as in production.
// Client and server share the machine, so the clients are kept lean:
// they log in with xmpptest, then write pre-serialised stanzas and count
// what arrives by scanning the raw stream instead of parsing it.
//
//	go test -run '^$' -bench . -count 5 ./internal/server
//
// The server's per-connection read throttle (read_bytes_per_second) is
// off: these measure what the server can do, not its abuse limits.

// benchPassword is every bench account's password; its credentials are
// derived once.
const benchPassword = "pw-bench"

var benchCreds = sync.OnceValues(func() (storage.Credentials, error) {
	c, err := sasl.DeriveCredentials(benchPassword, 4096)
	return xmpptest.ToStorage(c), err
})

// openBenchStore opens a fresh SQLite store with production settings and
// creates the given accounts.
func openBenchStore(b *testing.B, users ...string) *sqlite.Store {
	b.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "skald.db"), sqlite.Options{})
	if err != nil {
		b.Fatal(err)
	}
	cr, err := benchCreds()
	if err != nil {
		b.Fatal(err)
	}
	for _, u := range users {
		if err := st.CreateUser(ctx, u+"@localhost", cr); err != nil {
			b.Fatal(err)
		}
	}
	return st
}

func benchConfig(c *config.Config) {
	c.C2S.ReadBytesPerSecond = 0
	c.C2S.AuthFailuresPerMinutePerIP = 0
	c.C2S.AuthFailuresPerMinutePerAccount = 0
}

// rawConn is a logged-in connection driven by raw bytes.
type rawConn struct {
	nc net.Conn
}

// benchLogin logs user in (STARTTLS, SCRAM, bind) and, if available, sends
// initial presence. xmpptest's reader is abandoned after the bind result,
// before the server has anything else to send, so no byte is left in it.
func benchLogin(b *testing.B, addr, user, resource string, available bool) *rawConn {
	b.Helper()
	c := xmpptest.Dial(b, addr)
	c.Login("localhost", user, benchPassword, resource)
	rc := &rawConn{nc: c.Raw()}
	if available {
		rc.write(b, []byte(`<presence/>`))
	}
	return rc
}

func (c *rawConn) write(b *testing.B, p []byte) {
	c.nc.SetWriteDeadline(time.Now().Add(30 * time.Second))
	if _, err := c.nc.Write(p); err != nil {
		b.Errorf("write: %v", err)
	}
}

// counter counts occurrences of a start-tag prefix such as "<message" in
// a serialised stream. The server escapes '<' in text and attribute
// values, so in its output "<message" only ever starts a message element.
type counter struct {
	pat  []byte
	tail []byte // the last len(pat)-1 bytes seen, too short to hold a match
	join []byte
}

// feed returns the matches in p and those spanning the previous chunk and
// p, without copying p.
func (c *counter) feed(p []byte) int {
	k := len(c.pat) - 1
	c.join = append(append(c.join[:0], c.tail...), p[:min(len(p), k)]...)
	n := bytes.Count(c.join, c.pat) + bytes.Count(p, c.pat)
	if len(p) >= k {
		c.tail = append(c.tail[:0], p[len(p)-k:]...)
	} else {
		c.tail = append(c.tail, p...)
		c.tail = c.tail[max(0, len(c.tail)-k):]
	}
	return n
}

// readCounting reads c until it is closed, calling found with the number
// of occurrences of pat in each chunk; bad (if non-nil) is a pattern whose
// appearance fails the benchmark (an error bounce).
func (c *rawConn) readCounting(b *testing.B, pat, bad string, found func(int) bool) {
	cnt := counter{pat: []byte(pat)}
	var badCnt *counter
	if bad != "" {
		badCnt = &counter{pat: []byte(bad)}
	}
	buf := make([]byte, 64<<10)
	for {
		c.nc.SetReadDeadline(time.Now().Add(60 * time.Second))
		n, err := c.nc.Read(buf)
		if n > 0 {
			if badCnt != nil && badCnt.feed(buf[:n]) > 0 {
				b.Errorf("unexpected %q from the server: %s", bad, buf[:n])
				return
			}
			if k := cnt.feed(buf[:n]); k > 0 && !found(k) {
				return
			}
		}
		if err != nil {
			if found(0) {
				b.Errorf("read: %v", err)
			}
			return
		}
	}
}

// cpuTime is the CPU time (user and system, all threads) the process has
// used: per message it is far less noisy than throughput on a shared
// machine, where fsync latency depends on the neighbours' disk traffic.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestBenchCounter checks the benchmarks' stream scanner on a stream cut
// into chunks of every size.
func TestBenchCounter(t *testing.T) {
	data := bytes.Repeat([]byte("xx<message a<messag<message><iq<m"), 50)
	want := bytes.Count(data, []byte("<message"))
	for size := 1; size <= 20; size++ {
		c := counter{pat: []byte("<message")}
		got := 0
		for rest := data; len(rest) > 0; rest = rest[min(len(rest), size):] {
			got += c.feed(rest[:min(len(rest), size)])
		}
		if got != want {
			t.Fatalf("chunks of %d: %d matches, want %d", size, got, want)
		}
	}
}

// chatMessage is what a modern client sends: a chat message to the
// contact's bare JID with a body and an XEP-0359 origin-id.
func chatMessage(to string, seq int) []byte {
	s := strconv.Itoa(seq)
	return []byte(`<message to="` + to + `" type="chat" id="m` + s + `"><body>Message number ` + s +
		` of the chat benchmark, about as long as a chat line.</body><origin-id xmlns="urn:xmpp:sid:0" id="o` + s + `"/></message>`)
}

// BenchmarkChatThroughput runs P sender/receiver pairs, each sender
// keeping at most W messages sent but not yet delivered to its receiver.
// Every message is archived durably for sender and recipient before it is
// delivered. b.N is the total number of messages; msgs/s is delivered
// messages per second over all pairs.
func BenchmarkChatThroughput(b *testing.B) {
	for _, bc := range []struct{ pairs, window int }{
		{1, 1}, {4, 16}, {16, 16},
	} {
		b.Run(fmt.Sprintf("P=%d/W=%d", bc.pairs, bc.window), func(b *testing.B) {
			benchChat(b, bc.pairs, bc.window)
		})
	}
}

func benchChat(b *testing.B, pairs, window int) {
	var users []string
	for i := range pairs {
		users = append(users, fmt.Sprintf("s%d", i), fmt.Sprintf("r%d", i))
	}
	st := openBenchStore(b, users...)
	srv := startServer(b, st, benchConfig)

	type pair struct {
		snd, rcv *rawConn
		to       string
		n        int
		tokens   chan struct{}
	}
	ps := make([]*pair, pairs)
	for i := range ps {
		p := &pair{
			snd:    benchLogin(b, srv.addr, fmt.Sprintf("s%d", i), "phone", true),
			rcv:    benchLogin(b, srv.addr, fmt.Sprintf("r%d", i), "phone", true),
			to:     fmt.Sprintf("r%d@localhost", i),
			n:      b.N / pairs,
			tokens: make(chan struct{}, window),
		}
		if i < b.N%pairs {
			p.n++
		}
		ps[i] = p
	}
	// A ping round trip per receiver: its presence has been processed once
	// the answer arrives, so it is available for bare-JID delivery.
	for i, p := range ps {
		p.rcv.write(b, []byte(`<iq type="get" id="ping`+strconv.Itoa(i)+`"><ping xmlns="urn:xmpp:ping"/></iq>`))
		p.rcv.readCounting(b, `<iq`, "", func(int) bool { return false })
	}

	var wg sync.WaitGroup
	var failed atomic.Bool
	abort := make(chan struct{})
	fail := func() {
		if !failed.Swap(true) {
			close(abort)
		}
	}
	b.ReportAllocs()
	tx0, req0 := st.WriteStats()
	b.ResetTimer()
	start, cpu0 := time.Now(), cpuTime()
	for _, p := range ps {
		if p.n == 0 {
			continue
		}
		wg.Add(2)
		go func() { // receiver: each delivered message frees a window slot
			defer wg.Done()
			got := 0
			p.rcv.readCounting(b, "<message", "", func(k int) bool {
				if k == 0 { // read error
					fail()
					return got < p.n
				}
				got += k
				for range k {
					select {
					case <-p.tokens:
					default:
						b.Errorf("receiver %s got more messages than were sent", p.to)
						fail()
						return false
					}
				}
				return got < p.n
			})
		}()
		go func() { // sender
			defer wg.Done()
			for i := range p.n {
				select {
				case p.tokens <- struct{}{}:
				case <-abort:
					return
				}
				p.snd.write(b, chatMessage(p.to, i))
			}
		}()
		// Bounces to the sender fail the run.
		go p.snd.readCounting(b, "<message", `type="error"`, func(k int) bool {
			if k > 0 {
				b.Errorf("sender to %s got a message back", p.to)
				fail()
			}
			return false
		})
	}
	wg.Wait()
	elapsed, cpu := time.Since(start), cpuTime()-cpu0
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "msgs/s")
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/msg")
	tx, req := st.WriteStats()
	b.ReportMetric(float64(tx-tx0)/float64(b.N), "commits/msg")
	b.ReportMetric(float64(req-req0)/float64(tx-tx0), "writes/commit")
}

// BenchmarkMAMLastPage measures the query a client runs at every login:
// the newest page of its archive (RSM <before/>, max 50), over the socket,
// from an archive of 10^4 messages. C clients of the same account query
// concurrently; b.N is the total number of queries.
func BenchmarkMAMLastPage(b *testing.B) {
	for _, clients := range []int{1, 4} {
		b.Run(fmt.Sprintf("C=%d", clients), func(b *testing.B) { benchMAMLastPage(b, clients) })
	}
}

const mamBenchItems = 10000

func benchMAMLastPage(b *testing.B, clients int) {
	st := openBenchStore(b, "reader")
	prefillArchive(b, st, "reader@localhost", mamBenchItems)
	srv := startServer(b, st, benchConfig)

	// Check the answer once with a parsing client.
	check := xmpptest.Dial(b, srv.addr)
	check.Login("localhost", "reader", benchPassword, "check")
	check.Send(mamLastPage("check"))
	results := 0
	fin := check.Expect(func(e *xml.Element) bool {
		if e.Child("urn:xmpp:mam:2", "result") != nil {
			results++
		}
		return e.Local == "iq"
	})
	if results != 50 || fin.Attr("type") != "result" || fin.Child("urn:xmpp:mam:2", "fin").Attr("complete") == "true" {
		b.Fatalf("last page: %d results, then %s", results, fin)
	}

	conns := make([]*rawConn, clients)
	for i := range conns {
		conns[i] = benchLogin(b, srv.addr, "reader", "r"+strconv.Itoa(i), false)
	}
	var wg sync.WaitGroup
	b.ReportAllocs()
	b.ResetTimer()
	start, cpu0 := time.Now(), cpuTime()
	for i, c := range conns {
		n := b.N / clients
		if i < b.N%clients {
			n++
		}
		if n == 0 {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			q := []byte(mamLastPage("q" + strconv.Itoa(i)))
			done := 0
			c.write(b, q)
			c.readCounting(b, "<iq", `type="error"`, func(k int) bool {
				if k == 0 {
					return done < n
				}
				done += k
				if done < n {
					c.write(b, q)
				}
				return done < n
			})
		}()
	}
	wg.Wait()
	elapsed, cpu := time.Since(start), cpuTime()-cpu0
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "queries/s")
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/query")
}

func mamLastPage(id string) string {
	return `<iq type="set" id="` + id + `"><query xmlns="urn:xmpp:mam:2" queryid="` + id +
		`"><set xmlns="http://jabber.org/protocol/rsm"><max>50</max><before/></set></query></iq>`
}

// prefillArchive appends n incoming chat messages to owner's archive, as
// the archive module stores them.
func prefillArchive(b *testing.B, st storage.Store, owner string, n int) {
	b.Helper()
	ctx := context.Background()
	const batch = 1000
	for i := 0; i < n; i += batch {
		var msgs []*storage.ArchivedMessage
		for j := i; j < min(n, i+batch); j++ {
			body := "Message number " + strconv.Itoa(j) + " of the archive, about as long as a chat line."
			msgs = append(msgs, &storage.ArchivedMessage{
				Owner: owner, With: "peer@localhost", WithResource: "phone",
				OriginID: "o" + strconv.Itoa(j), Body: body,
				Stanza: []byte(`<message xmlns="jabber:client" to="` + owner + `" type="chat" id="m` + strconv.Itoa(j) +
					`" from="peer@localhost/phone"><body>` + body + `</body><origin-id xmlns="urn:xmpp:sid:0" id="o` +
					strconv.Itoa(j) + `"/></message>`),
			})
		}
		if err := st.AppendArchive(ctx, msgs); err != nil {
			b.Fatal(err)
		}
	}
}
