package main

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/internal/xmpptest"
	"github.com/skald-xmpp/skald/storage/postgres/pgtest"
)

// TestKillLosesNoAcknowledgedMessage kills the real binary with SIGKILL
// while a client streams messages, then restarts it on the same data
// directory and checks the mission's promise: a message the server
// acknowledged is never lost.
//
// Alice sends with XEP-0198 on and asks for an ack after every message,
// alternately to bob (offline: the message goes to offline storage) and
// to carol (online: the message is delivered). The server counts a stanza
// in h only once the router has handled it, which for a chat message means
// archived in both archives (and stored offline for bob) with the commit
// synced. So after the kill and a restart, every message up to the last h
// alice saw must be in alice's archive, each of bob's must reach bob from
// offline storage and be in his archive, and every message carol received
// must be in carol's archive, none of them twice. It runs on the embedded
// default (SQLite) and on PostgreSQL.
func TestKillLosesNoAcknowledgedMessage(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildSkald(t, t.TempDir())
	backends := []struct {
		name    string
		storage func(t *testing.T) string // the [storage] section
	}{
		{"sqlite", func(*testing.T) string { return "" }},
		{"postgres", func(t *testing.T) string {
			return fmt.Sprintf("[storage]\nbackend = \"postgres\"\ndsn = %q\n", pgtest.DSN(t))
		}},
	}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) { killUnderLoad(t, bin, b.storage(t)) })
	}
}

func killUnderLoad(t *testing.T, bin, storageSection string) {
	dir := t.TempDir()
	addr := freePort(t)
	cfgFile := filepath.Join(dir, "skald.toml")
	os.WriteFile(cfgFile, []byte("[c2s]\nstarttls_address = \""+addr+"\"\ndirect_tls_address = \"\"\nread_bytes_per_second = 0\n"+storageSection), 0o600)
	for _, user := range []string{"alice", "bob", "carol"} {
		cmd := exec.Command(bin, "user", "add", user+"@localhost")
		cmd.Dir = dir
		cmd.Stdin = strings.NewReader("pw-" + user + "\n")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("user add %s: %v\n%s", user, err, out)
		}
	}

	srv := startSkald(t, bin, dir, addr)
	alice := xmpptest.Dial(t, addr)
	alice.Login("localhost", "alice", "pw-alice", "laptop")
	alice.Send(`<enable xmlns='urn:xmpp:sm:3'/>`)
	alice.Expect(func(e *xml.Element) bool { return e.Is("urn:xmpp:sm:3", "enabled") })
	carol := xmpptest.Dial(t, addr)
	carol.Login("localhost", "carol", "pw-carol", "phone")
	carol.Send(`<presence/>`)

	// Readers run until the kill closes their connections.
	var acked atomic.Int64
	var carolGot sync.Map // body → true
	var readers sync.WaitGroup
	readers.Add(2)
	go func() {
		defer readers.Done()
		alice.Timeout = time.Minute
		for {
			el, err := alice.TryNext()
			if err != nil {
				return
			}
			if el.Is("urn:xmpp:sm:3", "a") {
				if h, err := strconv.ParseInt(el.Attr("h"), 10, 64); err == nil && h > acked.Load() {
					acked.Store(h)
				}
			}
		}
	}()
	go func() {
		defer readers.Done()
		carol.Timeout = time.Minute
		for {
			el, err := carol.TryNext()
			if err != nil {
				return
			}
			if el.Local == "message" {
				if body := el.ChildText("", "body"); body != "" {
					carolGot.Store(body, true)
				}
			}
		}
	}()

	// Alice sends until the server dies; message k goes to bob when k is
	// odd, to carol when it is even.
	sent := make(chan int, 1)
	go func() {
		k := 0
		defer func() { sent <- k }()
		for k < 100000 {
			to := "carol"
			if (k+1)%2 == 1 {
				to = "bob"
			}
			msg := fmt.Sprintf(`<message to='%s@localhost' type='chat' id='m%d'><body>msg-%d</body></message><r xmlns='urn:xmpp:sm:3'/>`, to, k+1, k+1)
			alice.Raw().SetWriteDeadline(time.Now().Add(10 * time.Second))
			if _, err := io.WriteString(alice.Raw(), msg); err != nil {
				return
			}
			k++
		}
	}()
	deadline := time.Now().Add(60 * time.Second)
	for acked.Load() < 300 {
		if time.Now().After(deadline) {
			t.Fatalf("only %d messages acknowledged in a minute", acked.Load())
		}
		time.Sleep(time.Millisecond)
	}
	if err := srv.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	srv.Wait()
	readers.Wait()
	total := <-sent
	h := int(acked.Load())
	t.Logf("killed after %d messages written, %d acknowledged", total, h)

	startSkald(t, bin, dir, addr)
	aliceArchive := archiveBodies(t, addr, "alice")
	carolArchive := archiveBodies(t, addr, "carol")
	bobArchive := archiveBodies(t, addr, "bob")

	// Bob comes online for the first time: offline storage delivers.
	bob := xmpptest.Dial(t, addr)
	bob.Login("localhost", "bob", "pw-bob", "phone")
	bob.Send(`<presence/><iq type='get' id='after-offline'><ping xmlns='urn:xmpp:ping'/></iq>`)
	bobOffline := map[string]int{}
	for {
		el := bob.Next()
		if el.Local == "iq" && el.Attr("id") == "after-offline" {
			break
		}
		if el.Local == "message" {
			bobOffline[el.ChildText("", "body")]++
		}
	}

	for k := 1; k <= h; k++ {
		body := fmt.Sprintf("msg-%d", k)
		if aliceArchive[body] != 1 {
			t.Errorf("acknowledged %s is %d times in alice's archive, want once", body, aliceArchive[body])
		}
		if k%2 == 1 {
			if bobOffline[body] != 1 {
				t.Errorf("acknowledged %s reached bob from offline storage %d times, want once", body, bobOffline[body])
			}
			if bobArchive[body] != 1 {
				t.Errorf("acknowledged %s is %d times in bob's archive, want once", body, bobArchive[body])
			}
		}
	}
	carolGot.Range(func(body, _ any) bool {
		if carolArchive[body.(string)] != 1 {
			t.Errorf("%s was delivered to carol but is %d times in her archive, want once", body, carolArchive[body.(string)])
		}
		return true
	})
	for _, archive := range []map[string]int{aliceArchive, bobArchive, carolArchive, bobOffline} {
		for body, n := range archive {
			if n > 1 {
				t.Errorf("%s stored %d times", body, n)
			}
		}
	}
}

// buildSkald builds this command into dir and returns the binary's path.
func buildSkald(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "skald")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// startSkald starts the binary in dir (its skald.toml) and waits until addr
// accepts connections.
func startSkald(t *testing.T, bin, dir, addr string) *exec.Cmd {
	t.Helper()
	logs := &lockedBuffer{}
	srv := exec.Command(bin)
	srv.Dir = dir
	srv.Stdout, srv.Stderr = logs, logs
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Process.Kill(); srv.Wait() })
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return srv
		}
		if time.Now().After(deadline) {
			t.Fatalf("server did not listen: %v\n%s", err, logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// archiveBodies logs in as user and pages through the whole personal
// archive with RSM after, returning how often each body occurs.
func archiveBodies(t *testing.T, addr, user string) map[string]int {
	t.Helper()
	c := xmpptest.Dial(t, addr)
	c.Login("localhost", user, "pw-"+user, "archive-reader")
	defer c.Close()
	bodies := map[string]int{}
	after := ""
	for page := 0; page < 1000; page++ {
		rsm := "<set xmlns='http://jabber.org/protocol/rsm'><max>50</max></set>"
		if after != "" {
			rsm = "<set xmlns='http://jabber.org/protocol/rsm'><max>50</max><after>" + after + "</after></set>"
		}
		c.Sendf(`<iq type='set' id='page%d'><query xmlns='urn:xmpp:mam:2' queryid='q%d'>%s</query></iq>`, page, page, rsm)
		for {
			el := c.Next()
			if res := el.Child("urn:xmpp:mam:2", "result"); res != nil {
				msg := res.Child("urn:xmpp:forward:0", "forwarded").Child("jabber:client", "message")
				bodies[msg.ChildText("", "body")]++
				continue
			}
			if el.Local != "iq" || el.Attr("id") != fmt.Sprintf("page%d", page) {
				continue
			}
			fin := el.Child("urn:xmpp:mam:2", "fin")
			if el.Attr("type") != "result" || fin == nil {
				t.Fatalf("%s's archive query: %s", user, el)
			}
			if fin.Attr("complete") == "true" {
				return bodies
			}
			after = fin.Child("http://jabber.org/protocol/rsm", "set").ChildText("http://jabber.org/protocol/rsm", "last")
			break
		}
	}
	t.Fatalf("%s's archive did not complete in 1000 pages", user)
	return nil
}

// lockedBuffer collects a child process's output while the test may read it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
