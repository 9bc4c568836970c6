package upload

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"os"
	"strings"
	"time"
)

// minUploadRate is the slowest upload accepted, in bytes per second.
const minUploadRate = 8 << 10

// downloadStall is how long one write of a GET response (at most 32 KiB,
// ServeContent's copy buffer) may wait for the client to read.
const downloadStall = time.Minute

// Handler returns the HTTP side: PUT to a slot's URL stores the file, GET
// and HEAD of its URL serve it, OPTIONS answers CORS preflights (browser
// clients such as Converse.js upload from another origin). Everything
// else is 405.
func (m *Module) Handler() http.Handler { return http.HandlerFunc(m.serveHTTP) }

func (m *Module) serveHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	// The files are public to whoever has the URL (XEP-0363 §8); any
	// origin may read them and PUT to a slot it was given.
	h.Set("Access-Control-Allow-Origin", "*")
	id, name, ok := splitPath(r.URL.Path)
	switch {
	case r.Method == http.MethodOptions:
		h.Set("Access-Control-Allow-Methods", "GET, HEAD, PUT, OPTIONS")
		h.Set("Access-Control-Allow-Headers", "Content-Type")
		h.Set("Access-Control-Max-Age", "86400")
		w.WriteHeader(http.StatusNoContent)
	case !ok:
		http.NotFound(w, r)
	case r.Method == http.MethodPut:
		m.put(w, r, id, name)
	case r.Method == http.MethodGet || r.Method == http.MethodHead:
		m.get(w, r, id, name)
	default:
		h.Set("Allow", "GET, HEAD, PUT, OPTIONS")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
}

// splitPath takes the last two segments of a file's URL path, <id>/<name>:
// whatever prefix public_url has (a proxy may keep or strip it).
func splitPath(p string) (id, name string, ok bool) {
	i := strings.LastIndexByte(p, '/')
	if i <= 0 {
		return "", "", false
	}
	j := strings.LastIndexByte(p[:i], '/')
	id, name = p[j+1:i], p[i+1:]
	return id, name, len(id) == 22 && name != ""
}

// put stores the upload of a slot. XEP-0363 §6: Content-Length must be the
// slot's size, and Content-Type the slot's when the request named one;
// 201 means the GET URL serves the file.
func (m *Module) put(w http.ResponseWriter, r *http.Request, id, name string) {
	if m.store(w, r, id, name) {
		m.counters.stored.Inc()
	} else {
		m.counters.putErrors.Inc()
	}
}

// store answers a PUT and reports whether it stored the file.
func (m *Module) store(w http.ResponseWriter, r *http.Request, id, name string) bool {
	s, ok := slotFromPut(m.key, id, name, r.URL.Query())
	switch {
	case !ok:
		http.Error(w, "not a valid upload slot", http.StatusForbidden)
		return false
	case m.now().After(s.expires):
		http.Error(w, "upload slot expired; request a new one", http.StatusForbidden)
		return false
	case r.ContentLength < 0:
		http.Error(w, "Content-Length is required", http.StatusLengthRequired)
		return false
	case r.ContentLength != s.size:
		http.Error(w, "Content-Length does not match the slot's size", http.StatusBadRequest)
		return false
	}
	ctype := s.ctype
	if got := r.Header.Get("Content-Type"); s.ctype != "" && !sameMediaType(got, s.ctype) {
		http.Error(w, "Content-Type does not match the slot's", http.StatusUnsupportedMediaType)
		return false
	} else if ctype == "" {
		ctype = "application/octet-stream"
		if _, _, err := mime.ParseMediaType(got); err == nil && printable(got) {
			ctype = got
		}
	}
	switch err := m.files.reserve(s, m.cfg.quota); {
	case errors.Is(err, errUsed), errors.Is(err, errBusy):
		http.Error(w, "upload slot already used", http.StatusConflict)
		return false
	case errors.Is(err, errQuota):
		http.Error(w, "upload quota exceeded", http.StatusRequestEntityTooLarge)
		return false
	}
	// No server-wide read timeout fits every size: this upload gets a
	// minute plus what it needs at minUploadRate, so a client trickling
	// bytes cannot hold its reservation (and a connection) forever.
	http.NewResponseController(w).SetReadDeadline(time.Now().Add(time.Minute + time.Duration(s.size/minUploadRate)*time.Second))
	part, err := m.receive(r.Body, s)
	if err != nil {
		m.files.release(s)
		m.log.Debug("upload failed", "id", s.id, "owner", s.owner, "err", err)
		http.Error(w, "upload incomplete", http.StatusBadRequest)
		return false
	}
	if err := m.files.commit(s, part, meta{Owner: s.owner, Name: s.name, Size: s.size, Type: ctype, Created: m.now().UTC()}); err != nil {
		m.log.Error("upload not stored", "err", err)
		http.Error(w, "upload not stored", http.StatusInternalServerError)
		return false
	}
	w.WriteHeader(http.StatusCreated)
	return true
}

// receive writes exactly s.size bytes of body to a new .part file, synced,
// and returns its path; on any error nothing is left.
func (m *Module) receive(body io.Reader, s slot) (string, error) {
	f, err := os.CreateTemp(m.files.dir, s.id+".*.part")
	if err != nil {
		return "", err
	}
	_, err = io.CopyN(f, body, s.size)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return "", err
	}
	return f.Name(), nil
}

// sameMediaType compares media types without case and parameters'
// spelling ("image/JPEG" is "image/jpeg").
func sameMediaType(a, b string) bool {
	ma, pa, err1 := mime.ParseMediaType(a)
	mb, pb, err2 := mime.ParseMediaType(b)
	if err1 != nil || err2 != nil || ma != mb || len(pa) != len(pb) {
		return false
	}
	for k, v := range pa {
		if pb[k] != v {
			return false
		}
	}
	return true
}

// get serves a stored file with its type. Anyone may upload anything, so
// the browser is told not to sniff it and not to run it as a page of this
// origin; media and plain text open inline, the rest downloads.
func (m *Module) get(w http.ResponseWriter, r *http.Request, id, name string) {
	md, ok := m.files.lookup(id)
	if !ok || md.Name != name {
		http.NotFound(w, r)
		return
	}
	f, err := os.Open(m.files.dataPath(id))
	if err != nil {
		http.NotFound(w, r) // swept meanwhile
		return
	}
	defer f.Close()
	h := w.Header()
	h.Set("Content-Type", md.Type)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'; sandbox")
	disposition := "attachment"
	if mt, _, _ := mime.ParseMediaType(md.Type); strings.HasPrefix(mt, "image/") && mt != "image/svg+xml" ||
		strings.HasPrefix(mt, "audio/") || strings.HasPrefix(mt, "video/") || mt == "text/plain" {
		disposition = "inline"
	}
	if cd := mime.FormatMediaType(disposition, map[string]string{"filename": md.Name}); cd != "" {
		h.Set("Content-Disposition", cd)
	} else {
		h.Set("Content-Disposition", disposition)
	}
	h.Set("Cache-Control", "public, max-age=3600")
	pw := &progressWriter{ResponseWriter: w, rc: http.NewResponseController(w), stall: m.writeStall}
	pw.progress()
	http.ServeContent(pw, r, "", md.Created, f)
	// The deadline stays on the connection: a later request of this
	// keep-alive connection must not inherit it. After a failed write it
	// stays, so that the server's final flush and close cannot block.
	if !pw.failed {
		pw.rc.SetWriteDeadline(time.Time{})
	}
}

// progressWriter gives every write of a response stall to complete,
// moving the connection's write deadline as data flows: a download of
// any size goes on while the client reads, and a client that stops
// reading loses its connection (and the handler its open file) after
// stall, instead of holding both forever.
type progressWriter struct {
	http.ResponseWriter
	rc     *http.ResponseController
	stall  time.Duration
	failed bool // a write failed (the deadline passed, or the client left)
}

// progress moves the write deadline to stall from now.
func (p *progressWriter) progress() { p.rc.SetWriteDeadline(time.Now().Add(p.stall)) }

func (p *progressWriter) Write(b []byte) (int, error) {
	p.progress()
	n, err := p.ResponseWriter.Write(b)
	if err != nil {
		p.failed = true
	}
	return n, err
}
