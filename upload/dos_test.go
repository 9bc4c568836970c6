package upload

import (
	"bufio"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"
)

// TestStalledDownloadCut: a client that asks for a file and stops reading
// loses its connection once a write waited writeStall, so it holds no
// socket and no open file for ever; the body it reads afterwards is cut.
// (A small receive buffer keeps the kernel from taking the whole file.)
func TestStalledDownloadCut(t *testing.T) {
	e := newEnv(t, nil)
	e.m.writeStall = 200 * time.Millisecond
	const size = 8 << 20
	data := make([]byte, size)
	rand.Read(data)
	put, get := e.slotFor("big.bin", size, "")
	e.wantStatus("PUT", put, data, http.StatusCreated)

	u, _ := url.Parse(get)
	raw, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	raw.(*net.TCPConn).SetReadBuffer(4096)
	c := tls.Client(raw, &tls.Config{InsecureSkipVerify: true})
	if _, err := io.WriteString(c, "GET "+u.RequestURI()+" HTTP/1.1\r\nHost: "+u.Host+"\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)                   // five stalls: the server gives up
	raw.(*net.TCPConn).SetReadBuffer(4 << 20) // and now read what it had sent, quickly
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	n, err := io.Copy(io.Discard, resp.Body)
	t.Logf("read %d bytes in %v: %v", n, time.Since(start), err)
	if n >= size {
		t.Fatalf("read all %d bytes after stalling: the download was not cut", n)
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("connection still open 10 s after the stall (read %d bytes)", n)
	}
}

// TestConnectionCap: with max_connections = 2, two open connections keep
// a third from being served until one of them closes.
func TestConnectionCap(t *testing.T) {
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := LimitListener(inner, 2)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })

	var held []net.Conn
	for range 2 {
		c, err := net.Dial("tcp", l.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		held = append(held, c)
	}
	third, err := net.Dial("tcp", l.Addr().String()) // the kernel accepts; the server must not
	if err != nil {
		t.Fatal(err)
	}
	defer third.Close()
	io.WriteString(third, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	third.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	if n, err := third.Read(make([]byte, 1)); n > 0 || err == nil || !strings.Contains(err.Error(), "timeout") {
		t.Fatalf("third connection served over the cap: %d bytes, %v", n, err)
	}

	held[0].Close()
	third.SetReadDeadline(time.Now().Add(5 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(third), nil)
	if err != nil {
		t.Fatalf("third connection not served after one closed: %v", err)
	}
	if b, _ := io.ReadAll(io.LimitReader(resp.Body, 2)); string(b) != "ok" {
		t.Errorf("body %q", b)
	}
}
