package upload

import (
	"bytes"
	"context"
	"crypto/tls"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/skald-xmpp/skald/internal/metrics"
	"github.com/skald-xmpp/skald/internal/metrics/metricstest"
	"github.com/skald-xmpp/skald/internal/routertest"
)

// do sends one HTTP request to the test listener and returns status and
// body.
func (e *env) do(method, u string, body []byte, header ...string) (*http.Response, string) {
	e.t.Helper()
	req, err := http.NewRequest(method, u, bytes.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := e.web.Client().Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func (e *env) wantStatus(method, u string, body []byte, want int, header ...string) *http.Response {
	e.t.Helper()
	resp, text := e.do(method, u, body, header...)
	if resp.StatusCode != want {
		e.t.Fatalf("%s %s: %d %q, want %d", method, u, resp.StatusCode, text, want)
	}
	return resp
}

// stored lists the files of the uploads directory.
func (e *env) stored() []string {
	ents, _ := os.ReadDir(e.dir)
	var names []string
	for _, d := range ents {
		names = append(names, d.Name())
	}
	return names
}

// TestPutGet: an upload over TLS is served back with its type and the
// headers that keep a browser safe; the slot is then used up.
func TestPutGet(t *testing.T) {
	e := newEnv(t, nil)
	data := []byte("\x89PNG not really")
	put, get := e.slotFor("photo.png", len(data), "image/png")
	resp := e.wantStatus("PUT", put, data, http.StatusCreated, "Content-Type", "image/png")
	if resp.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Error("PUT answer lacks CORS")
	}
	resp, body := e.do("GET", get, nil)
	if resp.StatusCode != 200 || body != string(data) {
		t.Fatalf("GET: %d %q", resp.StatusCode, body)
	}
	for k, v := range map[string]string{
		"Content-Type": "image/png", "X-Content-Type-Options": "nosniff",
		"Content-Disposition": `inline; filename=photo.png`, "Access-Control-Allow-Origin": "*",
		"Content-Length": strconv.Itoa(len(data)),
	} {
		if got := resp.Header.Get(k); got != v {
			t.Errorf("GET %s: %q, want %q", k, got, v)
		}
	}
	if e.wantStatus("HEAD", get, nil, 200).ContentLength != int64(len(data)) {
		t.Error("HEAD: wrong length")
	}
	// Single use, even with the same bytes.
	e.wantStatus("PUT", put, data, http.StatusConflict, "Content-Type", "image/png")
	// A page uploaded as HTML is downloaded, not rendered.
	put, get = e.slotFor("x.html", 6, "")
	e.wantStatus("PUT", put, []byte("<html>"), http.StatusCreated, "Content-Type", "text/html")
	resp = e.wantStatus("GET", get, nil, 200)
	if resp.Header.Get("Content-Type") != "text/html" || resp.Header.Get("Content-Disposition") != "attachment; filename=x.html" ||
		!strings.Contains(resp.Header.Get("Content-Security-Policy"), "sandbox") {
		t.Errorf("html served with %v", resp.Header)
	}
	// Unknown id, wrong name: 404.
	g, _ := url.Parse(get)
	e.wantStatus("GET", strings.Replace(get, "x.html", "y.html", 1), nil, 404)
	id, _, _ := splitPath(g.Path)
	e.wantStatus("GET", strings.Replace(get, id, newSlotID(), 1), nil, 404)
	e.wantStatus("DELETE", get, nil, http.StatusMethodNotAllowed)
}

// TestPutRefused: what §6 and the signature refuse, and that a refused
// PUT stores nothing.
func TestPutRefused(t *testing.T) {
	e := newEnv(t, nil)
	put, get := e.slotFor("a.txt", 5, "text/plain")
	alter := func(key, value string) string {
		u, _ := url.Parse(put)
		q := u.Query()
		q.Set(key, value)
		u.RawQuery = q.Encode()
		return u.String()
	}
	u, _ := url.Parse(put)
	id, _, _ := splitPath(u.Path)
	for _, tc := range []struct {
		name   string
		url    string
		body   string
		ctype  string
		status int
	}{
		{"shorter", put, "abcd", "text/plain", http.StatusBadRequest},
		{"longer", put, "abcdef", "text/plain", http.StatusBadRequest},
		{"other type", put, "abcde", "image/png", http.StatusUnsupportedMediaType},
		{"size altered", alter("s", "6"), "abcdef", "text/plain", http.StatusForbidden},
		{"owner altered", alter("o", "juliet@example.org"), "abcde", "text/plain", http.StatusForbidden},
		{"expiry altered", alter("e", strconv.FormatInt(e.clock.Now().Add(time.Hour).Unix(), 10)), "abcde", "text/plain", http.StatusForbidden},
		{"signature forged", alter("sig", strings.Repeat("A", 43)), "abcde", "text/plain", http.StatusForbidden},
		{"no signature", strings.Split(put, "?")[0], "abcde", "text/plain", http.StatusForbidden},
		{"other id", strings.Replace(put, id, newSlotID(), 1), "abcde", "text/plain", http.StatusForbidden},
		{"other name", strings.Replace(put, "a.txt", "b.txt", 1), "abcde", "text/plain", http.StatusForbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.t = t
			e.wantStatus("PUT", tc.url, []byte(tc.body), tc.status, "Content-Type", tc.ctype)
		})
	}
	e.t = t
	// Without a Content-Length (chunked), the size cannot be checked first.
	req, _ := http.NewRequest("PUT", put, io.NopCloser(strings.NewReader("abcde")))
	req.Header.Set("Content-Type", "text/plain")
	if resp, err := e.web.Client().Do(req); err != nil || resp.StatusCode != http.StatusLengthRequired {
		t.Errorf("chunked PUT: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	e.wantStatus("GET", get, nil, 404)
	if s := e.stored(); len(s) != 0 {
		t.Errorf("refused PUTs left %v", s)
	}
	// The slot itself still works, with the type's spelling varied...
	e.wantStatus("PUT", put, []byte("abcde"), http.StatusCreated, "Content-Type", "Text/Plain")
	// ...until it expires.
	put2, _ := e.slotFor("b.txt", 1, "")
	e.clock.Add(SlotValidity + time.Second)
	e.wantStatus("PUT", put2, []byte("b"), http.StatusForbidden)
}

// TestCutUpload: a PUT cut off before its declared size leaves no file
// and no temporary file, and the slot can be retried.
func TestCutUpload(t *testing.T) {
	e := newEnv(t, nil)
	put, get := e.slotFor("big.bin", 100, "")
	u, _ := url.Parse(put)
	conn, err := tls.Dial("tcp", u.Host, &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(conn, "PUT "+u.RequestURI()+" HTTP/1.1\r\nHost: "+u.Host+"\r\nContent-Length: 100\r\n\r\n"+strings.Repeat("x", 60))
	time.Sleep(50 * time.Millisecond) // let the handler write part of it
	conn.Close()
	deadline := time.Now().Add(5 * time.Second)
	for e.m.files.usage(romeo) != 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond) // the handler notices the cut
	}
	if n := e.m.files.usage(romeo); n != 0 {
		t.Fatalf("usage after a cut upload: %d", n)
	}
	if s := e.stored(); len(s) != 0 {
		t.Errorf("cut upload left %v", s)
	}
	e.wantStatus("GET", get, nil, 404)
	e.wantStatus("PUT", put, bytes.Repeat([]byte("y"), 100), http.StatusCreated)
	e.wantStatus("GET", get, nil, 200)
}

// TestQuota: a slot that would go over quota_per_user is refused with the
// time enough files expire; the PUT side checks again, counting what was
// stored meanwhile.
func TestQuota(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.MaxFileSize = 60; c.QuotaPerUser = 100; c.ExpiresAfter = "1d" })
	putA, _ := e.slotFor("a", 60, "")
	putB, _ := e.slotFor("b", 60, "") // granted: nothing stored yet
	e.wantStatus("PUT", putA, make([]byte, 60), http.StatusCreated)
	e.wantStatus("PUT", putB, make([]byte, 60), http.StatusRequestEntityTooLarge)
	e.clock.Add(time.Hour)
	e.Send(e.s, reqOpen+`filename='c' size='41'/></iq>`)
	routertest.Expect(t, e.rec, errorReply("wait", "resource-constraint", "upload quota of 100 bytes reached",
		`<retry xmlns="urn:xmpp:http:upload:0" stamp="2026-03-02T12:00:00Z"/>`))
	e.slotFor("c", 40, "") // what fits is granted
}

// TestPreflight: browsers' CORS preflight for a PUT with a Content-Type.
func TestPreflight(t *testing.T) {
	e := newEnv(t, nil)
	put, _ := e.slotFor("a.png", 3, "image/png")
	resp := e.wantStatus("OPTIONS", put, nil, http.StatusNoContent, "Origin", "https://converse.example", "Access-Control-Request-Method", "PUT")
	if resp.Header.Get("Access-Control-Allow-Origin") != "*" || !strings.Contains(resp.Header.Get("Access-Control-Allow-Methods"), "PUT") ||
		!strings.Contains(resp.Header.Get("Access-Control-Allow-Headers"), "Content-Type") {
		t.Errorf("preflight: %v", resp.Header)
	}
}

// TestExpiry: the cleanup job removes files older than expires_after, data
// and meta, and they are 404 from then on; younger files stay.
func TestExpiry(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.ExpiresAfter = "1d"; c.CleanupInterval = "1s" })
	putOld, getOld := e.slotFor("old.txt", 3, "")
	e.wantStatus("PUT", putOld, []byte("old"), http.StatusCreated)
	e.clock.Add(12 * time.Hour)
	putNew, getNew := e.slotFor("new.txt", 3, "")
	e.wantStatus("PUT", putNew, []byte("new"), http.StatusCreated)
	if n := len(e.stored()); n != 4 {
		t.Fatalf("stored %v", e.stored())
	}
	e.clock.Add(12*time.Hour + time.Second)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { e.m.RunCleanup(ctx); close(done) }()
	deadline := time.Now().Add(5 * time.Second)
	for len(e.stored()) != 2 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	<-done
	og, _ := url.Parse(getOld)
	id, _, _ := splitPath(og.Path)
	if s := e.stored(); slices.ContainsFunc(s, func(n string) bool { return strings.HasPrefix(n, id) }) || len(s) != 2 {
		t.Errorf("after expiry: %v", s)
	}
	e.wantStatus("GET", getOld, nil, 404)
	e.wantStatus("GET", getNew, nil, 200)
	if e.m.files.usage(romeo) != 3 {
		t.Errorf("usage %d after expiry, want 3", e.m.files.usage(romeo))
	}
}

// TestReopen: a new module on the same directory (a restart) serves the
// stored files and removes what an interrupted upload left.
func TestReopen(t *testing.T) {
	e := newEnv(t, nil)
	put, get := e.slotFor("keep.txt", 4, "text/plain")
	e.wantStatus("PUT", put, []byte("kept"), http.StatusCreated, "Content-Type", "text/plain")
	junk := []string{"AAAAAAAAAAAAAAAAAAAAAA.123.part", "BBBBBBBBBBBBBBBBBBBBBB.json", "CCCCCCCCCCCCCCCCCCCCCC.data"}
	for _, j := range junk {
		os.WriteFile(filepath.Join(e.dir, j), []byte(`{"owner":"x","name":"y","size":1}`), 0o600)
	}
	m2, err := New(DefaultConfig(), e.dir, testSecret, quiet)
	if err != nil {
		t.Fatal(err)
	}
	m2.now = e.clock.Now
	web2 := httptest.NewTLSServer(m2.Handler())
	defer web2.Close()
	put, get = strings.Replace(put, e.web.URL, web2.URL, 1), strings.Replace(get, e.web.URL, web2.URL, 1)
	e.wantStatus("GET", get, nil, 200)
	if s := e.stored(); len(s) != 2 {
		t.Errorf("after reopening: %v", s)
	}
	if m2.files.usage(romeo) != 4 {
		t.Errorf("usage after reopening: %d", m2.files.usage(romeo))
	}
	// The slot's signature still holds, and the slot is still used.
	e.wantStatus("PUT", put, []byte("kept"), http.StatusConflict, "Content-Type", "text/plain")
}

// TestRemoveOwner: deleting an account's files leaves everyone else's,
// and the deleted ones are 404.
func TestRemoveOwner(t *testing.T) {
	e := newEnv(t, nil)
	put1, get1 := e.slotFor("a.txt", 1, "")
	put2, _ := e.slotFor("b.txt", 1, "")
	e.wantStatus("PUT", put1, []byte("a"), http.StatusCreated)
	e.wantStatus("PUT", put2, []byte("b"), http.StatusCreated)
	os.WriteFile(filepath.Join(e.dir, "JJJJJJJJJJJJJJJJJJJJJJ.json"), []byte(`{"owner":"juliet@example.org","name":"j","size":1}`), 0o600)
	os.WriteFile(filepath.Join(e.dir, "JJJJJJJJJJJJJJJJJJJJJJ.data"), []byte("j"), 0o600)
	if n, err := RemoveOwner(e.dir, romeo); n != 2 || err != nil {
		t.Fatalf("RemoveOwner = %d, %v", n, err)
	}
	if s := e.stored(); !slices.Equal(s, []string{"JJJJJJJJJJJJJJJJJJJJJJ.data", "JJJJJJJJJJJJJJJJJJJJJJ.json"}) {
		t.Errorf("left %v", s)
	}
	e.wantStatus("GET", get1, nil, 404)
	if n, err := RemoveOwner(filepath.Join(e.dir, "none"), romeo); n != 0 || err != nil {
		t.Errorf("no directory: %d, %v", n, err)
	}
}

// TestMetrics: slots, refusals, stored and refused PUTs, expiry, and the
// stored totals are counted.
func TestMetrics(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.MaxFileSize = 10; c.ExpiresAfter = "1h" })
	reg := metrics.NewRegistry()
	reg.Register(e.m)
	val := func(name string) float64 { t.Helper(); return metricstest.Value(t, reg, name) }
	put, _ := e.slotFor("a", 4, "")
	e.slotFor("b", 4, "")
	e.Send(e.s, reqOpen+`filename='c' size='11'/></iq>`)
	e.rec.Take()
	e.wantStatus("PUT", put, []byte("abcd"), http.StatusCreated)
	e.wantStatus("PUT", put, []byte("abcd"), http.StatusConflict)
	for name, want := range map[string]float64{
		"skald_upload_slots_total": 2, "skald_upload_slot_refusals_total": 1,
		"skald_upload_files_stored_total": 1, "skald_upload_put_errors_total": 1,
		"skald_upload_files": 1, "skald_upload_bytes": 4, "skald_upload_files_expired_total": 0,
	} {
		if got := val(name); got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	e.m.Sweep(e.clock.Now().Add(2 * time.Hour))
	if val("skald_upload_files_expired_total") != 1 || val("skald_upload_files") != 0 || val("skald_upload_bytes") != 0 {
		t.Error("expiry not counted")
	}
}

// TestModuleRemoveOwner: the running module forgets the removed files at
// once (their GET is 404, the quota is free again) and deletes them;
// other owners' files stay.
func TestModuleRemoveOwner(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.MaxFileSize = 60; c.QuotaPerUser = 100 })
	putA, getA := e.slotFor("a", 60, "")
	e.wantStatus("PUT", putA, make([]byte, 60), http.StatusCreated)
	os.WriteFile(filepath.Join(e.dir, "JJJJJJJJJJJJJJJJJJJJJJ.json"), []byte(`{"owner":"juliet@example.org","name":"j","size":1}`), 0o600)
	os.WriteFile(filepath.Join(e.dir, "JJJJJJJJJJJJJJJJJJJJJJ.data"), []byte("j"), 0o600)
	if n, err := e.m.RemoveOwner(romeo); n != 1 || err != nil {
		t.Fatalf("RemoveOwner = %d, %v", n, err)
	}
	e.wantStatus("GET", getA, nil, 404)
	if s := e.stored(); !slices.Equal(s, []string{"JJJJJJJJJJJJJJJJJJJJJJ.data", "JJJJJJJJJJJJJJJJJJJJJJ.json"}) {
		t.Errorf("left %v", s)
	}
	putB, _ := e.slotFor("b", 60, "") // the quota is free again
	e.wantStatus("PUT", putB, make([]byte, 60), http.StatusCreated)
}

// TestPercentInName: a file name is text, not an escaped path: names with
// '%' (which JoinPath would unescape, or drop when invalid) get URLs that
// name the slot and serve the file under the name asked for.
func TestPercentInName(t *testing.T) {
	e := newEnv(t, nil)
	for _, name := range []string{"100% done.jpg", "a%2Fb.txt", "a%20b", "x?y#z;a=b.png"} {
		data := []byte("bytes of " + name)
		put, get := e.slotFor(name, len(data), "")
		g, err := url.Parse(get)
		if err != nil {
			t.Fatal(err)
		}
		if _, got, ok := splitPath(g.Path); !ok || got != name {
			t.Fatalf("%q: GET URL %s names %q", name, get, got)
		}
		e.wantStatus("PUT", put, data, http.StatusCreated)
		if resp, body := e.do("GET", get, nil); resp.StatusCode != 200 || body != string(data) {
			t.Errorf("%q: GET %s: %d %q", name, get, resp.StatusCode, body)
		}
	}
}

// TestExpiryShorterThanSlot: with expires_after shorter than SlotValidity
// a file is swept while its slot is still valid; the slot stays used, or
// the same PUT URL would store other bytes under the GET URL already
// shared (a slot is single-use).
func TestExpiryShorterThanSlot(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.ExpiresAfter = "1min" })
	put, get := e.slotFor("a.txt", 3, "")
	e.wantStatus("PUT", put, []byte("one"), http.StatusCreated)
	e.clock.Add(2 * time.Minute)
	if n := e.m.Sweep(e.clock.Now()); n != 1 {
		t.Fatalf("swept %d files, want 1", n)
	}
	e.wantStatus("GET", get, nil, http.StatusNotFound)
	e.wantStatus("PUT", put, []byte("two"), http.StatusConflict)
	e.wantStatus("GET", get, nil, http.StatusNotFound)
	// Once the slot has expired, the id is forgotten.
	e.clock.Add(SlotValidity)
	e.m.Sweep(e.clock.Now())
	if n := len(e.m.files.gone); n != 0 {
		t.Errorf("%d swept ids still remembered after their slots expired", n)
	}
	e.wantStatus("PUT", put, []byte("two"), http.StatusForbidden)
}
