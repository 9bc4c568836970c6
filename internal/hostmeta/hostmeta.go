// Package hostmeta serves the XEP-0156 discovery documents (RFC 6415
// host-meta: /.well-known/host-meta, XRD, and /.well-known/host-meta.json,
// JRD) through which web clients find a domain's XMPP over WebSocket and
// BOSH endpoints. The transports that serve HTTP (websocket, bosh) list
// their links; whichever listener serves the documents announces both
// (see internal/server).
//
// Layering: it imports only internal/xml.
package hostmeta

import (
	"bytes"
	"encoding/json"
	"net/http"

	"github.com/skald-xmpp/skald/internal/xml"
)

// Link relations of XEP-0156 §3.
const (
	RelWebSocket = "urn:xmpp:alt-connections:websocket"
	RelBOSH      = "urn:xmpp:alt-connections:xbosh"
)

// Link is one alternative connection method.
type Link struct{ Rel, Href string }

// Links returns the links to announce for a request.
type Links func(r *http.Request) []Link

// Register serves both documents on mux.
func Register(mux *http.ServeMux, links Links) {
	mux.HandleFunc("/.well-known/host-meta", func(w http.ResponseWriter, r *http.Request) { serveXRD(w, r, links) })
	mux.HandleFunc("/.well-known/host-meta.json", func(w http.ResponseWriter, r *http.Request) { serveJRD(w, r, links) })
}

// headers allow any web page to read the documents (XEP-0156 §3: a
// client on another origin, such as Converse.js hosted elsewhere, reads
// them with a cross-origin request).
func headers(w http.ResponseWriter, contentType string) {
	w.Header().Set("Access-Control-Allow-Origin", "*")
	w.Header().Set("Content-Type", contentType)
}

func serveXRD(w http.ResponseWriter, r *http.Request, links Links) {
	if !getOnly(w, r) {
		return
	}
	var b bytes.Buffer
	b.WriteString(`<?xml version='1.0' encoding='utf-8'?>` + "\n")
	b.WriteString(`<XRD xmlns='http://docs.oasis-open.org/ns/xri/xrd-1.0'>` + "\n")
	for _, l := range links(r) {
		b.WriteString(`  <Link rel='`)
		xml.EscapeAttr(&b, l.Rel)
		b.WriteString(`' href='`)
		xml.EscapeAttr(&b, l.Href)
		b.WriteString("'/>\n")
	}
	b.WriteString("</XRD>\n")
	headers(w, "application/xrd+xml; charset=utf-8")
	w.Write(b.Bytes())
}

func serveJRD(w http.ResponseWriter, r *http.Request, links Links) {
	if !getOnly(w, r) {
		return
	}
	type link struct {
		Rel  string `json:"rel"`
		Href string `json:"href"`
	}
	doc := struct {
		Links []link `json:"links"`
	}{Links: []link{}}
	for _, l := range links(r) {
		doc.Links = append(doc.Links, link{l.Rel, l.Href})
	}
	b, _ := json.Marshal(doc)
	headers(w, "application/json")
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
