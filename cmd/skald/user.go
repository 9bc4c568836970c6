package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"golang.org/x/term"

	"github.com/skald-xmpp/skald/config"
	"github.com/skald-xmpp/skald/jid"
	"github.com/skald-xmpp/skald/sasl"
	"github.com/skald-xmpp/skald/storage"
	"github.com/skald-xmpp/skald/storage/memory"
	"github.com/skald-xmpp/skald/storage/postgres"
	"github.com/skald-xmpp/skald/storage/sqlite"
	"github.com/skald-xmpp/skald/upload"
)

// openStore opens the configured storage backend. Unlike the server, it
// never falls back to memory: an account created there would vanish.
func openStore(ctx context.Context, cfg *config.Config) (storage.Store, error) {
	switch cfg.Storage.Backend {
	case config.BackendMemory:
		return memory.New(), nil
	case config.BackendSQLite:
		if err := os.MkdirAll(filepath.Dir(cfg.DatabasePath()), 0o700); err != nil {
			return nil, fmt.Errorf("storage: %w", err)
		}
		st, err := sqlite.Open(ctx, cfg.DatabasePath(), sqlite.Options{})
		if err != nil {
			return nil, fmt.Errorf("storage %s: %w", cfg.DatabasePath(), err)
		}
		return st, nil
	case config.BackendPostgres:
		st, err := postgres.Open(ctx, cfg.Storage.DSN, postgres.Options{})
		if err != nil {
			return nil, fmt.Errorf("storage %s: %w", cfg.Storage.RedactedDSN(), err)
		}
		return st, nil
	}
	return nil, fmt.Errorf("storage backend %q is not supported", cfg.Storage.Backend)
}

// withStore opens the store for an account command and closes it after f.
func (c *cli) withStore(ctx context.Context, cfg *config.Config, f func(storage.Store) error) (err error) {
	if cfg.Storage.Backend == config.BackendMemory {
		return errors.New("storage.backend is \"memory\": accounts kept there live only as long as the server process, so they cannot be managed from the command line")
	}
	st, err := c.openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := st.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("closing storage: %w", cerr)
		}
	}()
	return f(st)
}

// accountJID parses an account address: a bare JID with a localpart at one
// of the served domains.
func accountJID(cfg *config.Config, s string) (jid.JID, error) {
	j, err := jid.Parse(s)
	if err != nil {
		return jid.JID{}, usagef("%q is not a valid JID: %v", s, err)
	}
	switch {
	case j.Local() == "":
		return jid.JID{}, usagef("%q has no user part (want user@domain)", s)
	case j.IsFull():
		return jid.JID{}, usagef("%q has a resource; accounts are bare JIDs (user@domain)", s)
	case !slices.Contains(cfg.Domains, j.Domain()):
		return jid.JID{}, usagef("this server does not serve %s (domains: %s)", j.Domain(), strings.Join(cfg.Domains, ", "))
	}
	return j, nil
}

// toStorageCredentials converts what sasl derives into what storage keeps;
// the two packages define identical types so neither imports the other.
func toStorageCredentials(c sasl.Credentials) storage.Credentials {
	return storage.Credentials{SHA1: storage.Credential(c.SHA1), SHA256: storage.Credential(c.SHA256)}
}

// withAccount parses the account argument of a user command and runs f on
// the opened store.
func (c *cli) withAccount(ctx context.Context, cfg *config.Config, arg string, f func(storage.Store, jid.JID) error) error {
	account, err := accountJID(cfg, arg)
	if err != nil {
		return err
	}
	return c.withStore(ctx, cfg, func(st storage.Store) error { return f(st, account) })
}

// newCredentials reads a password for account and derives its SCRAM
// credentials. It asks the store first whether the account exists as the
// command needs (else the error otherwise, formatted with the account), so
// nobody types a password for nothing.
func (c *cli) newCredentials(ctx context.Context, st storage.Store, account jid.JID, exists bool, otherwise string) (storage.Credentials, error) {
	if ok, err := st.UserExists(ctx, account.String()); err != nil {
		return storage.Credentials{}, err
	} else if ok != exists {
		return storage.Credentials{}, fmt.Errorf(otherwise, account)
	}
	pw, err := c.readPassword(account)
	if err != nil {
		return storage.Credentials{}, err
	}
	creds, err := sasl.DeriveCredentials(pw, sasl.DefaultIterations)
	if err != nil {
		return storage.Credentials{}, err
	}
	return toStorageCredentials(creds), nil
}

// report ends a user command with the error of its store call: sentinel
// (the account was there, or was not, after all) becomes failed formatted
// with the account; success prints done.
func (c *cli) report(err, sentinel error, account jid.JID, failed, done string) error {
	if errors.Is(err, sentinel) {
		return fmt.Errorf(failed, account)
	} else if err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, done, account)
	return nil
}

func (c *cli) userAdd(ctx context.Context, cfg *config.Config, args []string) error {
	return c.withAccount(ctx, cfg, args[0], func(st storage.Store, account jid.JID) error {
		creds, err := c.newCredentials(ctx, st, account, false, "%s already exists (use 'skald user passwd' to change its password)")
		if err != nil {
			return err
		}
		return c.report(st.CreateUser(ctx, account.String(), creds), storage.ErrExists, account, "%s already exists", "created %s\n")
	})
}

func (c *cli) userPasswd(ctx context.Context, cfg *config.Config, args []string) error {
	return c.withAccount(ctx, cfg, args[0], func(st storage.Store, account jid.JID) error {
		creds, err := c.newCredentials(ctx, st, account, true, "no such account: %s")
		if err != nil {
			return err
		}
		return c.report(st.SetUserCredentials(ctx, account.String(), creds), storage.ErrNotFound, account, "no such account: %s", "changed the password of %s\n")
	})
}

func (c *cli) userDel(ctx context.Context, cfg *config.Config, args []string) error {
	return c.withAccount(ctx, cfg, args[0], func(st storage.Store, account jid.JID) error {
		err := st.DeleteUser(ctx, account.String())
		if err == nil {
			// The account's uploads (XEP-0363) are files, not in the store.
			n, uerr := upload.RemoveOwner(filepath.Join(cfg.DataDir, "uploads"), account.String())
			if uerr != nil {
				return uerr
			}
			if n > 0 {
				fmt.Fprintf(c.stdout, "removed %d uploaded files of %s\n", n, account)
			}
		}
		return c.report(err, storage.ErrNotFound, account, "no such account: %s", "deleted %s\n")
	})
}

func (c *cli) userList(ctx context.Context, cfg *config.Config, args []string) error {
	domain := ""
	if len(args) == 1 {
		// Any domain, not only the served ones: accounts of a domain that
		// was removed from the configuration are still in the store.
		j, err := jid.Parse(args[0])
		if err != nil || j.Local() != "" || j.IsFull() {
			return usagef("%q is not a domain", args[0])
		}
		domain = j.String()
	}
	return c.withStore(ctx, cfg, func(st storage.Store) error {
		users, err := st.ListUsers(ctx, domain)
		if err != nil {
			return err
		}
		disabled, err := st.DisabledUsers(ctx, domain)
		if err != nil {
			return err
		}
		marks := make(map[string]string, len(disabled))
		for _, d := range disabled {
			marks[d.Bare] = disabledMark(d.AccountStatus)
		}
		for _, u := range users {
			fmt.Fprintln(c.stdout, u+marks[u])
		}
		return nil
	})
}

// readPassword reads a new password for account: from the terminal without
// echo, twice, when stdin is one; else the first line of stdin, for
// scripts. Never from the command line, where other users could see it.
func (c *cli) readPassword(account jid.JID) (string, error) {
	if f, ok := c.stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		return c.readPasswordTerminal(int(f.Fd()), account)
	}
	line, err := bufio.NewReader(c.stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("reading the password from stdin: %w", err)
	}
	if errors.Is(err, io.EOF) && line == "" {
		return "", errors.New("no password on stdin (give it as one line)")
	}
	// Only the line ending goes: spaces may belong to the password.
	pw := strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
	if pw == "" {
		return "", errors.New("the password is empty")
	}
	return pw, nil
}

func (c *cli) readPasswordTerminal(fd int, account jid.JID) (string, error) {
	// ReadPassword turns echo off; a Ctrl-C meanwhile would leave the
	// terminal without echo, so restore it before exiting.
	state, err := term.GetState(fd)
	if err != nil {
		return "", err
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	defer func() { signal.Stop(sig); close(done) }()
	go func() {
		select {
		case <-sig:
			term.Restore(fd, state)
			fmt.Fprintln(c.stderr)
			os.Exit(exitSignal)
		case <-done:
		}
	}()

	read := func(prompt string) (string, error) {
		fmt.Fprint(c.stderr, prompt)
		b, err := term.ReadPassword(fd)
		fmt.Fprintln(c.stderr)
		return string(b), err
	}
	pw, err := read(fmt.Sprintf("Password for %s: ", account))
	if err != nil {
		return "", err
	}
	if pw == "" {
		return "", errors.New("the password is empty")
	}
	again, err := read("Repeat the password: ")
	if err != nil {
		return "", err
	}
	if again != pw {
		return "", errors.New("the passwords differ")
	}
	return pw, nil
}
