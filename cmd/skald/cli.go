package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"

	"github.com/skald-xmpp/skald/config"
	"github.com/skald-xmpp/skald/internal/certs"
	"github.com/skald-xmpp/skald/storage"
)

// serveFunc runs the server until ctx ends or a signal stops it; main.go
// sets it. It is a variable so the command table compiles and is testable
// without the server.
var serveFunc func(ctx context.Context, cfg *config.Config, log *slog.Logger) error

// checkConfigFunc, if set by main.go, completes "config check" with what
// only the server knows: decoding every module section (which also reports
// unknown keys in them) and CheckAllSectionsClaimed with the server's list.
var checkConfigFunc func(cfg *config.Config) error

// defaultConfigFile is used when -c is not given and it exists in the
// working directory; otherwise the built-in defaults apply.
const defaultConfigFile = "skald.toml"

// Exit codes.
const (
	exitOK     = 0
	exitError  = 1
	exitUsage  = 2
	exitSignal = 130 // interrupted while reading a password
)

// command is one entry of the subcommand table.
type command struct {
	name    string // words, "user add"
	args    string // argument synopsis for usage
	help    string
	minArgs int
	maxArgs int
	// flags, if set, defines the command's own flags on fs (bound to
	// fields of c); they may appear anywhere among the arguments.
	flags func(c *cli, fs *flag.FlagSet)
	// run gets the loaded configuration and the arguments after the name.
	run func(c *cli, ctx context.Context, cfg *config.Config, args []string) error
}

// commands is the subcommand table; usage lists it in this order.
var commands = []command{
	{name: "serve", help: "run the server (the default without a command)", run: (*cli).serve},
	{name: "user add", args: "JID", help: "create an account; the password is read from the terminal, or one line from stdin", minArgs: 1, maxArgs: 1, run: (*cli).userAdd},
	{name: "user passwd", args: "JID", help: "change an account's password (read like for user add)", minArgs: 1, maxArgs: 1, run: (*cli).userPasswd},
	{name: "user del", args: "JID", help: "delete an account with its roster, offline messages, archive, vCard, private XML, uploaded files and room affiliations (bans stay); a running server keeps the rooms it holds until restarted", minArgs: 1, maxArgs: 1, run: (*cli).userDel},
	{name: "user import", args: "FILE [--skip-existing]", help: "create the accounts of a XEP-0227 document (prosody-migrator, ejabberdctl export_piefxis) with their passwords or SCRAM credentials, rosters, subscription requests, vCards, private XML, offline messages and archives; refuses existing accounts unless --skip-existing, which leaves them and their data (archives included) as they are", minArgs: 1, maxArgs: 1, flags: userImportFlags, run: (*cli).userImport},
	{name: "user export", args: "[DOMAIN] [-o FILE]", help: "write the accounts (of one domain) as a XEP-0227 document to stdout or FILE: SCRAM credentials, rosters, subscription requests, vCards, offline messages and archives (not private XML)", maxArgs: 1, flags: exportFlags, run: (*cli).userExport},
	{name: "user disable", args: "JID [--reason TEXT]", help: "stop an account from logging in, keeping all it owns (roster, archive...); a running server refuses its next login, but its open streams go on: end them with the XEP-0133 disable-user command instead", minArgs: 1, maxArgs: 1, flags: userDisableFlags, run: (*cli).userDisable},
	{name: "user enable", args: "JID", help: "let a disabled account log in again", minArgs: 1, maxArgs: 1, run: (*cli).userEnable},
	{name: "user list", args: "[DOMAIN]", help: "list the accounts (of one domain); disabled ones are marked, with when and why", maxArgs: 1, run: (*cli).userList},
	{name: "archive stats", args: "[USER]", help: "count the archived messages of every account, or of one (with its first and last)", maxArgs: 1, run: (*cli).archiveStats},
	{name: "archive purge", args: "USER [--with JID] [--before TIME]", help: "delete a user's archived messages: all, or only those with one contact and/or before a time (no confirmation)", minArgs: 1, maxArgs: 1, flags: purgeFlags, run: (*cli).archivePurge},
	{name: "archive expire", help: "delete the messages older than archive_expires_after now, as the server does periodically", run: (*cli).archiveExpire},
	{name: "archive export", args: "[USER] [-o FILE]", help: "write archives (one user's, or all) as a XEP-0227 document to stdout or FILE", maxArgs: 1, flags: exportFlags, run: (*cli).archiveExport},
	{name: "archive import", args: "FILE", help: "add the archives in a XEP-0227 document (- for stdin) to existing accounts", minArgs: 1, maxArgs: 1, run: (*cli).archiveImport},
	{name: "config check", help: "load and validate the configuration, then summarise it", run: (*cli).configCheck},
}

// cli holds what the commands use instead of globals, so tests can run
// them with their own streams and store.
type cli struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	// configPath is the -c/--config value, "" if not given.
	configPath string
	// openStore opens the configured store (openStore in user.go).
	openStore func(ctx context.Context, cfg *config.Config) (storage.Store, error)
	// archive holds the flags of the archive commands (archive.go).
	archive archiveFlags
	// disableReason is user disable's --reason (userdisable.go).
	disableReason string
}

// usageError is a command-line mistake: exit code 2 and a hint.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{fmt.Sprintf(format, args...)}
}

// runCLI runs the command line args (without the program name) and returns
// the exit code: 0 success, 1 runtime error, 2 usage error.
func runCLI(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	c := &cli{stdin: stdin, stdout: stdout, stderr: stderr, openStore: openStore}
	return c.run(context.Background(), args)
}

func (c *cli) run(ctx context.Context, args []string) int {
	fs := c.flagSet("skald")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			c.usage(c.stdout, "")
			return exitOK
		}
		return exitUsage // the flag package printed the problem
	}
	args = fs.Args()
	if len(args) > 0 && args[0] == "help" {
		c.usage(c.stdout, strings.Join(args[1:], " "))
		return exitOK
	}
	cmd, rest, err := lookup(args)
	if err == nil {
		// Flags may also follow the command, before or after its
		// arguments: "skald user add -c x.toml JID".
		fs = c.flagSet("skald " + cmd.name)
		if cmd.flags != nil {
			cmd.flags(c, fs)
		}
		if rest, err = parseArgs(fs, rest); errors.Is(err, flag.ErrHelp) {
			c.usage(c.stdout, cmd.name)
			return exitOK
		} else if err != nil {
			return exitUsage
		}
		if len(rest) < cmd.minArgs || len(rest) > cmd.maxArgs {
			err = usagef("usage: skald %s %s", cmd.name, cmd.args)
		}
	}
	if err != nil {
		fmt.Fprintf(c.stderr, "skald: %v\n", err)
		if !strings.HasPrefix(err.Error(), "usage:") {
			fmt.Fprintln(c.stderr, "Run 'skald help' for the list of commands.")
		}
		return exitUsage
	}

	cfg, err := c.loadConfig()
	if err != nil {
		fmt.Fprintf(c.stderr, "skald: %v\n", err)
		return exitError
	}
	if err := cmd.run(c, ctx, cfg, rest); err != nil {
		fmt.Fprintf(c.stderr, "skald %s: %v\n", cmd.name, err)
		var ue *usageError
		if errors.As(err, &ue) {
			return exitUsage
		}
		return exitError
	}
	return exitOK
}

// flagSet returns a flag set with the global flags bound to c.
func (c *cli) flagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	fs.Usage = func() { fmt.Fprintln(c.stderr, "Run 'skald help' for usage.") }
	for _, n := range []string{"c", "config"} {
		fs.Func(n, "configuration file `PATH`", func(v string) error {
			if v == "" {
				return errors.New("empty path")
			}
			c.configPath = v
			return nil
		})
	}
	return fs
}

// parseArgs parses fs's flags wherever they appear among args and returns
// the other arguments; "--" ends the flags.
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if n := len(args) - len(rest); n > 0 && args[n-1] == "--" {
			return append(pos, rest...), nil
		}
		if len(rest) == 0 {
			return pos, nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// lookup finds the command named by the leading words of args (serve when
// there are none) and returns it with the remaining arguments.
func lookup(args []string) (command, []string, error) {
	if len(args) == 0 {
		return commands[0], nil, nil
	}
	var best *command
	for i := range commands {
		words := strings.Fields(commands[i].name)
		if len(args) >= len(words) && slices.Equal(args[:len(words)], words) &&
			(best == nil || len(words) > len(strings.Fields(best.name))) {
			best = &commands[i]
		}
	}
	if best != nil {
		return *best, args[len(strings.Fields(best.name)):], nil
	}
	var subs []string
	for _, cmd := range commands {
		if group, sub, ok := strings.Cut(cmd.name, " "); ok && group == args[0] {
			subs = append(subs, sub)
		}
	}
	if len(subs) > 0 {
		if len(args) == 1 {
			return command{}, nil, usagef("%q needs a subcommand: %s", args[0], strings.Join(subs, ", "))
		}
		return command{}, nil, usagef("unknown command %q; %q has: %s", args[0]+" "+args[1], args[0], strings.Join(subs, ", "))
	}
	return command{}, nil, usagef("unknown command %q", args[0])
}

// usage prints the command list (only the commands starting with prefix).
func (c *cli) usage(w io.Writer, prefix string) {
	fmt.Fprintln(w, "Usage: skald [-c PATH] [COMMAND]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Commands:")
	for _, cmd := range commands {
		if prefix != "" && !strings.HasPrefix(cmd.name, prefix) {
			continue
		}
		synopsis := strings.TrimSpace(cmd.name + " " + cmd.args)
		if len(synopsis) > 22 {
			fmt.Fprintf(w, "  %s\n  %-22s %s\n", synopsis, "", cmd.help)
		} else {
			fmt.Fprintf(w, "  %-22s %s\n", synopsis, cmd.help)
		}
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Flags:")
	fmt.Fprintf(w, "  -c, --config PATH      configuration file (default: %s in the working directory if present,\n", defaultConfigFile)
	fmt.Fprintln(w, "                         else the built-in defaults: domain localhost, data in ./skald-data)")
}

// loadConfig loads -c PATH, else ./skald.toml if it exists, else the
// defaults.
func (c *cli) loadConfig() (*config.Config, error) {
	path := c.configPath
	if path == "" {
		if _, err := os.Stat(defaultConfigFile); err == nil {
			path = defaultConfigFile
		} else if !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("config: %w", err)
		}
	}
	if path == "" {
		return config.Default(), nil
	}
	return config.Load(path)
}

func (c *cli) logger(cfg *config.Config) *slog.Logger {
	return slog.New(slog.NewTextHandler(c.stderr, &slog.HandlerOptions{Level: cfg.SlogLevel()}))
}

func (c *cli) serve(ctx context.Context, cfg *config.Config, _ []string) error {
	if serveFunc == nil {
		return errors.New("this build has no server")
	}
	return serveFunc(ctx, cfg, c.logger(cfg))
}

func (c *cli) configCheck(_ context.Context, cfg *config.Config, _ []string) error {
	if !cfg.SelfSigned() {
		if _, err := certs.Load(cfg.TLS.CertFile, cfg.TLS.KeyFile); err != nil {
			return err
		}
	}
	if checkConfigFunc != nil {
		if err := checkConfigFunc(cfg); err != nil {
			return err
		}
	}
	w := c.stdout
	if cfg.Path == "" {
		fmt.Fprintln(w, "no configuration file: using the built-in defaults")
	} else {
		fmt.Fprintf(w, "%s: OK\n", cfg.Path)
	}
	fmt.Fprintf(w, "  domains:   %s\n", strings.Join(cfg.Domains, ", "))
	fmt.Fprintf(w, "  data_dir:  %s\n", cfg.DataDir)
	switch cfg.Storage.Backend {
	case config.BackendSQLite:
		fmt.Fprintf(w, "  storage:   sqlite %s\n", cfg.DatabasePath())
	case config.BackendPostgres:
		fmt.Fprintf(w, "  storage:   postgres %s\n", cfg.Storage.RedactedDSN())
	default:
		fmt.Fprintf(w, "  storage:   %s\n", cfg.Storage.Backend)
	}
	var ls []string
	if a := cfg.C2S.StartTLSAddress; a != "" {
		req := "TLS required"
		if !cfg.C2S.RequireTLS {
			req = "TLS optional"
		}
		ls = append(ls, fmt.Sprintf("STARTTLS %s (%s)", a, req))
	}
	if a := cfg.C2S.DirectTLSAddress; a != "" {
		ls = append(ls, "direct TLS "+a)
	}
	fmt.Fprintf(w, "  c2s:       %s\n", strings.Join(ls, ", "))
	if cfg.SelfSigned() {
		fmt.Fprintf(w, "  tls:       self-signed certificate generated in %s\n", cfg.DataDir)
	} else {
		fmt.Fprintf(w, "  tls:       %s\n", cfg.TLS.CertFile)
	}
	if len(cfg.Admins) > 0 {
		fmt.Fprintf(w, "  admins:    %s\n", strings.Join(cfg.Admins, ", "))
	}
	if s := cfg.Sections(); len(s) > 0 {
		checked := ""
		if checkConfigFunc == nil {
			checked = " (not checked by this build)"
		}
		fmt.Fprintf(w, "  modules:   [%s]%s\n", strings.Join(s, "], ["), checked)
	}
	return nil
}
