package server

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"path/filepath"
	"time"

	"github.com/skald-xmpp/skald/jid"
	"github.com/skald-xmpp/skald/upload"
)

// The upload listener ([upload] address) is the HTTP side of XEP-0363:
// clients PUT files to the slots the upload module grants and everyone
// GETs them. It serves https with the server's certificate unless
// [upload] tls = false (a proxy in front terminates TLS).

// listenUpload binds the upload listener if the module is enabled, and
// gives the module its public URL: public_url, or the first domain with
// the port just bound (so port 0 works in tests).
func (s *Server) listenUpload() error {
	if s.Upload == nil {
		return nil
	}
	cfg := s.uploadConfig
	if cfg.TLS && s.uploadTLS == nil {
		return errors.New("[upload] tls = true, but the server has no certificate")
	}
	l, err := net.Listen("tcp", cfg.Address)
	if err != nil {
		return err
	}
	if cfg.PublicURL == "" {
		if err := s.Upload.SetPublicURL(upload.DefaultPublicURL(cfg.TLS, s.Config.Domains[0], l.Addr().String())); err != nil {
			l.Close()
			return err
		}
	}
	l = upload.LimitListener(l, cfg.MaxConnections) // below TLS: a handshake holds a connection too
	if cfg.TLS {
		t := s.uploadTLS.Clone()
		t.NextProtos = []string{"http/1.1"}
		l = tls.NewListener(l, t)
	}
	s.uploadListener = l
	// No WriteTimeout or ReadTimeout: a 100 MiB upload or download on a
	// slow link takes long; the handler sets deadlines per request
	// (upload/http.go). Headers must come quickly, and an idle
	// keep-alive connection goes.
	s.uploadHTTP = &http.Server{Handler: s.Upload.Handler(), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	return nil
}

// UploadAddr returns the upload listener's address, "" if there is none.
func (s *Server) UploadAddr() string {
	if s.uploadListener == nil {
		return ""
	}
	return s.uploadListener.Addr().String()
}

// serveUpload serves the upload listener and starts the job that removes
// expired files, both ending with ctx or Shutdown.
func (s *Server) serveUpload(ctx context.Context) {
	if s.uploadHTTP == nil {
		return
	}
	s.log.Info("upload listening", "addr", s.UploadAddr(), "public_url", s.Upload.PublicURL())
	s.serveHTTP(s.uploadHTTP, s.uploadListener, "upload")
	s.goroutine(func() { s.Upload.RunCleanup(ctx) })
}

// shutdownUpload lets uploads in progress finish until ctx ends, then cuts
// them (their .part files are removed by their handlers).
func (s *Server) shutdownUpload(ctx context.Context) {
	if s.uploadHTTP == nil {
		return
	}
	if err := s.uploadHTTP.Shutdown(ctx); err != nil {
		s.uploadHTTP.Close()
	}
}

// removeUploads deletes the files an account uploaded (XEP-0363), for an
// account its user deleted in-band (register), as skald user del does:
// through the running module, whose index then forgets them, or from the
// directory when the upload service is off now but may have been on.
func (s *Server) removeUploads(_ context.Context, account jid.JID) error {
	if s.Upload != nil {
		_, err := s.Upload.RemoveOwner(account.String())
		return err
	}
	_, err := upload.RemoveOwner(filepath.Join(s.Config.DataDir, "uploads"), account.String())
	return err
}
