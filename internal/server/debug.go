package server

import (
	"errors"
	"net"
	"net/http"
	"net/http/pprof"
	"time"
)

// The debug listener (config debug_address) serves Go's runtime profiles,
// for operators and for BENCHMARKS.md: the CPU profile, heap, goroutines,
// blocking and the execution trace of the running server. Its handlers
// go on a mux of its own, not http.DefaultServeMux.

func debugMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index) // also serves heap, goroutine, allocs, block, mutex
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}

// listenDebug binds the debug listener if one is configured.
func (s *Server) listenDebug() error {
	if s.Config.DebugAddress == "" {
		return nil
	}
	l, err := net.Listen("tcp", s.Config.DebugAddress)
	if err != nil {
		return err
	}
	s.debugListener = l
	// No WriteTimeout: a CPU profile or trace takes as long as asked.
	s.debug = &http.Server{Handler: debugMux(), ReadHeaderTimeout: 10 * time.Second}
	return nil
}

// DebugAddr returns the debug listener's address, "" if there is none.
func (s *Server) DebugAddr() string {
	if s.debugListener == nil {
		return ""
	}
	return s.debugListener.Addr().String()
}

func (s *Server) serveDebug() {
	if s.debug == nil {
		return
	}
	s.log.Warn("serving runtime profiles", "addr", s.DebugAddr(), "path", "/debug/pprof/")
	s.serveHTTP(s.debug, s.debugListener, "debug")
}

// serveHTTP serves srv on l on a tracked goroutine until Shutdown closes
// srv (the debug and metrics listeners).
func (s *Server) serveHTTP(srv *http.Server, l net.Listener, what string) {
	s.goroutine(func() {
		if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error(what+" listener stopped", "err", err)
		}
	})
}
