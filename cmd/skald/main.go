// Command skald is the Skald XMPP server and its administration tool.
//
//	skald [serve]            run the server (the default)
//	skald user add JID       create an account (password from the terminal or stdin)
//	skald user import FILE   migrate accounts from a XEP-0227 document (Prosody, ejabberd)
//	skald archive stats      archive administration
//	skald config check       validate the configuration
//
// See README.md for the two commands that set everything up.
package main

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/skald-xmpp/skald/config"
	"github.com/skald-xmpp/skald/internal/server"
)

func main() {
	serveFunc = serve
	checkConfigFunc = func(cfg *config.Config) error {
		_, err := server.DecodeModuleConfig(cfg)
		return err
	}
	os.Exit(runCLI(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// serve runs the server until SIGINT or SIGTERM, then shuts down
// gracefully: every stream gets system-shutdown.
func serve(ctx context.Context, cfg *config.Config, log *slog.Logger) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	srv, err := server.New(ctx, cfg, log, server.Options{})
	if err != nil {
		return err
	}
	if err := srv.Listen(); err != nil {
		srv.Store.Close()
		return err
	}
	srv.Start(ctx)
	log.Info("skald started", "version", server.Version, "domains", cfg.Domains, "data_dir", cfg.DataDir)
	<-ctx.Done()
	log.Info("skald shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return srv.Shutdown(sctx)
}
