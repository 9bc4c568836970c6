package c2s

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"net"
	"sync"
	"testing"
	"time"
)

// heldWrites is a client's side of the socket that can hold its writes and
// send them in one, so that several TLS records reach the server in one
// segment (and crypto/tls on the server takes them from the socket in one
// read).
type heldWrites struct {
	net.Conn
	mu   sync.Mutex
	hold bool
	buf  bytes.Buffer
}

func (h *heldWrites) Write(p []byte) (int, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.hold {
		return h.buf.Write(p)
	}
	return h.Conn.Write(p)
}

func (h *heldWrites) flush(t *testing.T) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.hold = false
	if _, err := h.Conn.Write(h.buf.Bytes()); err != nil {
		t.Fatal(err)
	}
}

// waitPair returns a server conn (TLS unless plain) with its deadline
// reader, and the client's side.
func waitPair(t *testing.T, plain bool) (deadlineReader, net.Conn, *heldWrites) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	craw, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	sraw, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { craw.Close(); sraw.Close() })
	held := &heldWrites{Conn: craw}
	c := newConn(internalServer(t), sraw, false)
	if plain {
		return deadlineReader{c}, held, held
	}
	stc := tls.Server(sraw, selfSignedTLS(t))
	ctc := tls.Client(held, &tls.Config{InsecureSkipVerify: true})
	errc := make(chan error, 1)
	go func() { errc <- stc.Handshake() }()
	if err := ctc.Handshake(); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	c.nc = stc
	return deadlineReader{c}, ctc, held
}

func selfSignedTLS(t *testing.T) *tls.Config {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "localhost"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
}

// readString reads once from d.
func readString(t *testing.T, d deadlineReader) string {
	t.Helper()
	buf := make([]byte, 256)
	n, err := d.Read(buf)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	return string(buf[:n])
}

// TestPollInputFindsRecordsHeldByTLS: a record crypto/tls took from the
// socket together with the one before it is found by PollInput, although
// the socket itself has nothing more to read (waiting on it would hang).
func TestPollInputFindsRecordsHeldByTLS(t *testing.T) {
	d, client, held := waitPair(t, false)
	held.mu.Lock()
	held.hold = true
	held.mu.Unlock()
	for _, s := range []string{"<a/>", "<b/>"} { // a TLS record each
		if _, err := client.Write([]byte(s)); err != nil {
			t.Fatal(err)
		}
	}
	held.flush(t)
	if got := readString(t, d); got != "<a/>" {
		t.Fatalf("first read %q, want the first record", got)
	}
	p := make([]byte, 16)
	n, _, err := d.PollInput(p)
	if err != nil || string(p[:n]) != "<b/>" {
		t.Fatalf("PollInput = %q, %v; want the second record", p[:n], err)
	}
	n, ready, err := d.PollInput(p)
	if n != 0 || ready || err != nil {
		t.Fatalf("PollInput with nothing left = %d, %v, %v; want nothing", n, ready, err)
	}
}

// TestWaitInput: with nothing sent, PollInput finds nothing and WaitInput
// returns once the client sends, having consumed nothing; when the client
// closes, it returns too (the read then meets the end); with nothing for
// the idle timeout, it fails with a timeout.
func TestWaitInput(t *testing.T) {
	for _, plain := range []bool{false, true} {
		name := map[bool]string{false: "TLS", true: "plain"}[plain]
		t.Run(name+"/data", func(t *testing.T) {
			d, client, _ := waitPair(t, plain)
			if n, ready, err := d.PollInput(make([]byte, 16)); n != 0 || ready || err != nil {
				t.Fatalf("PollInput = %d, %v, %v; want nothing", n, ready, err)
			}
			done := make(chan error, 1)
			go func() { done <- d.WaitInput() }()
			select {
			case err := <-done:
				t.Fatalf("WaitInput returned %v before the client sent anything", err)
			case <-time.After(50 * time.Millisecond):
			}
			if _, err := client.Write([]byte("<c/>")); err != nil {
				t.Fatal(err)
			}
			if err := <-done; err != nil {
				t.Fatalf("WaitInput: %v", err)
			}
			if got := readString(t, d); got != "<c/>" {
				t.Fatalf("read %q after the wait, want <c/>", got)
			}
		})
		t.Run(name+"/close", func(t *testing.T) {
			d, _, held := waitPair(t, plain)
			done := make(chan error, 1)
			go func() { done <- d.WaitInput() }()
			held.Conn.Close()
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("WaitInput: %v", err)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("WaitInput did not notice the client closing")
			}
			if _, err := d.Read(make([]byte, 16)); !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Fatalf("read after close: %v, want EOF", err)
			}
		})
		t.Run(name+"/timeout", func(t *testing.T) {
			d, _, _ := waitPair(t, plain)
			d.c.srv.cfg.IdleTimeout = 20 * time.Millisecond
			if err := d.WaitInput(); !isTimeout(err) {
				t.Fatalf("WaitInput = %v, want a timeout", err)
			}
		})
	}
}

// TestPollInputWithoutIdleTimeout: the probe's past deadline does not
// outlive it when reads have no deadline of their own.
func TestPollInputWithoutIdleTimeout(t *testing.T) {
	d, client, _ := waitPair(t, false)
	d.c.srv.cfg.IdleTimeout = 0
	if n, ready, err := d.PollInput(make([]byte, 16)); n != 0 || ready || err != nil {
		t.Fatalf("PollInput = %d, %v, %v; want nothing", n, ready, err)
	}
	if _, err := client.Write([]byte("<x/>")); err != nil {
		t.Fatal(err)
	}
	if got := readString(t, d); got != "<x/>" {
		t.Fatalf("read %q, want <x/>", got)
	}
}
