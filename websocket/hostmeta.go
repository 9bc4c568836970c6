package websocket

import (
	"net/http"

	"github.com/skald-xmpp/skald/internal/hostmeta"
)

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

// hostMetaLinks are the links of the XEP-0156 documents: this endpoint,
// then those of the other transports (AnnounceAlso).
func (s *Server) hostMetaLinks(r *http.Request) []hostmeta.Link {
	links := []hostmeta.Link{{Rel: hostmeta.RelWebSocket, Href: s.endpoint(r)}}
	if s.others != nil {
		links = append(links, s.others(r)...)
	}
	return links
}

// AnnounceAlso adds the links others returns to the host-meta documents
// (the BOSH endpoint). It is called before Serve.
func (s *Server) AnnounceAlso(others hostmeta.Links) { s.others = others }
