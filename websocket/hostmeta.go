package websocket

import (
	"bytes"
	"encoding/json"
	"net/http"

	"github.com/skald-xmpp/skald/internal/xml"
)

// XEP-0156 §3: a client finds the WebSocket endpoint of a domain in its
// host-meta documents (RFC 6415), XRD or JSON, as a link of this relation.
const relWebSocket = "urn:xmpp:alt-connections:websocket"

// endpoint returns the URL host-meta announces.
func (s *Server) endpoint(r *http.Request) string {
	if s.cfg.URL != "" {
		return s.cfg.URL
	}
	scheme := "ws://"
	if r.TLS != nil || s.cfg.BehindTLSProxy {
		scheme = "wss://"
	}
	return scheme + r.Host + s.cfg.Path
}

// hostMetaHeaders allow any web page to read the documents (XEP-0156 §3:
// a client on another origin, such as Converse.js hosted elsewhere, reads
// them with a cross-origin request).
func hostMetaHeaders(w http.ResponseWriter, contentType string) {
	w.Header().Set("Access-Control-Allow-Origin", "*")
	w.Header().Set("Content-Type", contentType)
}

func (s *Server) serveHostMeta(w http.ResponseWriter, r *http.Request) {
	if !getOnly(w, r) {
		return
	}
	var b bytes.Buffer
	b.WriteString(`<?xml version='1.0' encoding='utf-8'?>` + "\n")
	b.WriteString(`<XRD xmlns='http://docs.oasis-open.org/ns/xri/xrd-1.0'>` + "\n")
	b.WriteString(`  <Link rel='` + relWebSocket + `' href='`)
	xml.EscapeAttr(&b, s.endpoint(r))
	b.WriteString("'/>\n</XRD>\n")
	hostMetaHeaders(w, "application/xrd+xml; charset=utf-8")
	w.Write(b.Bytes())
}

func (s *Server) serveHostMetaJSON(w http.ResponseWriter, r *http.Request) {
	if !getOnly(w, r) {
		return
	}
	type link struct {
		Rel  string `json:"rel"`
		Href string `json:"href"`
	}
	doc := struct {
		Links []link `json:"links"`
	}{[]link{{relWebSocket, s.endpoint(r)}}}
	b, _ := json.Marshal(doc)
	hostMetaHeaders(w, "application/json")
	w.Write(append(b, '\n'))
}

// getOnly answers methods other than GET and HEAD with 405.
func getOnly(w http.ResponseWriter, r *http.Request) bool {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return true
	}
	w.Header().Set("Allow", "GET, HEAD")
	http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	return false
}
