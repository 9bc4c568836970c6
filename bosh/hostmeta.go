package bosh

import (
	"net"
	"net/http"

	"github.com/skald-xmpp/skald/internal/hostmeta"
)

// Endpoint returns the URL that host-meta announces for a request that
// reached the listener on port (port "" means this listener: the
// request's own Host): the configured url, else http(s)://, the host the
// client asked for, and the path.
func (s *Server) Endpoint(r *http.Request, port string) string {
	if s.cfg.URL != "" {
		return s.cfg.URL
	}
	scheme := "http://"
	if s.cfg.TLS || s.cfg.BehindTLSProxy {
		scheme = "https://"
	}
	host := r.Host
	if port != "" {
		if h, _, err := net.SplitHostPort(r.Host); err == nil {
			host = h
		}
		host = net.JoinHostPort(host, port)
	}
	return scheme + host + s.cfg.Path
}

// ServeHostMeta makes this listener serve the XEP-0156 documents too,
// announcing this endpoint and the links others returns; internal/server
// calls it, before Serve, when no WebSocket listener serves them.
func (s *Server) ServeHostMeta(others hostmeta.Links) {
	s.hostMeta = func(r *http.Request) []hostmeta.Link {
		links := []hostmeta.Link{{Rel: hostmeta.RelBOSH, Href: s.Endpoint(r, "")}}
		if others != nil {
			links = append(links, others(r)...)
		}
		return links
	}
}

// serveHostMeta registers the documents, served once ServeHostMeta was
// called (404 before).
func (s *Server) registerHostMeta(mux *http.ServeMux) {
	inner := http.NewServeMux()
	hostmeta.Register(inner, func(r *http.Request) []hostmeta.Link { return s.hostMeta(r) })
	serve := func(w http.ResponseWriter, r *http.Request) {
		if s.hostMeta == nil {
			http.NotFound(w, r)
			return
		}
		inner.ServeHTTP(w, r)
	}
	mux.HandleFunc("/.well-known/host-meta", serve)
	mux.HandleFunc("/.well-known/host-meta.json", serve)
}
