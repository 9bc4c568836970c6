package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/skald-xmpp/skald/config"
	"github.com/skald-xmpp/skald/mam/pie"
	"github.com/skald-xmpp/skald/presence"
	"github.com/skald-xmpp/skald/private"
	"github.com/skald-xmpp/skald/sasl"
	"github.com/skald-xmpp/skald/storage"
	"github.com/skald-xmpp/skald/vcard"
)

func userImportFlags(c *cli, fs *flag.FlagSet) {
	fs.BoolVar(&c.archive.skipExisting, "skip-existing", false, "leave accounts that already exist untouched (default: refuse the import)")
}

// userImport creates the accounts of a XEP-0227 document with their
// credentials, rosters, incoming subscription requests, vCards, private
// XML and offline messages, then imports their archives as "archive
// import" does.
//
// The document is read twice, streaming (bounded memory): the first pass
// checks all of it (every part well-formed and meaningful, every account
// at a served domain and with credentials, none existing unless
// --skip-existing) and writes nothing; the second writes. A bad document
// imports nothing; a storage failure in the second pass names the account
// it happened to.
func (c *cli) userImport(ctx context.Context, cfg *config.Config, args []string) error {
	path := args[0]
	if path == "-" {
		return usagef("skald user import reads its document twice: give a file, not stdin")
	}
	var plan *userImportPlan
	err := c.withStore(ctx, cfg, func(st storage.Store) error {
		var err error
		if plan, err = c.checkUserImport(ctx, cfg, st, path); err != nil {
			return fmt.Errorf("%w; nothing imported", err)
		}
		if err := c.writeUserImport(ctx, st, path, plan); err != nil {
			return err
		}
		for _, u := range plan.users {
			if plan.skip[u] {
				fmt.Fprintf(c.stdout, "%s: exists, skipped\n", u)
			} else {
				fmt.Fprintf(c.stdout, "%s: created\n", u)
				c.warnSHA1Only(ctx, st, u)
			}
		}
		return nil
	})
	if err != nil || !plan.archived {
		return err
	}
	// The archives of the created accounts go in as "archive import"
	// puts them (a third pass).
	c.archive.importOwners = map[string]bool{}
	for _, u := range plan.users {
		if !plan.skip[u] {
			c.archive.importOwners[u] = true
		}
	}
	return c.archiveImport(ctx, cfg, args)
}

// warnSHA1Only tells the operator about an account imported with
// SCRAM-SHA-1 credentials only (Prosody's default password_hash exports
// just those): Skald offers SCRAM-SHA-256 too, clients that choose it
// cannot log in to that account, and the SHA-256 keys cannot be made
// without the password: c2s makes them at the account's first PLAIN
// login, or a new password does.
func (c *cli) warnSHA1Only(ctx context.Context, st storage.Store, u string) {
	creds, err := st.UserCredentials(ctx, u)
	if err != nil || len(creds.SHA256.StoredKey) > 0 || len(creds.SHA1.StoredKey) == 0 {
		return
	}
	fmt.Fprintf(c.stderr, "%s: warning: only SCRAM-SHA-1 credentials; clients that choose SCRAM-SHA-256 cannot log in until the account logs in once with PLAIN or its password is set again (skald user passwd); see [c2s] sasl_mechanisms\n", u)
}

// userImportPlan is what the checking pass learnt.
type userImportPlan struct {
	users    []string        // in document order
	skip     map[string]bool // existing accounts left alone
	archived bool            // the document holds archive items
}

// decodeUsers runs one pass over the document at path.
func decodeUsers(path string, opt pie.Options, items func(pie.Record) error) error {
	dir := filepath.Dir(path)
	err := pie.DecodeFile(os.DirFS(dir), filepath.Base(path), opt, items)
	var pe *pie.Error
	if errors.As(err, &pe) {
		pe.File = filepath.Join(dir, filepath.FromSlash(pe.File))
	}
	return err
}

func (c *cli) checkUserImport(ctx context.Context, cfg *config.Config, st storage.Store, path string) (*userImportPlan, error) {
	plan := &userImportPlan{skip: map[string]bool{}}
	seen := map[string]bool{}
	var existing []string
	var cur string
	var curRec pie.UserRecord
	hasCreds := false
	finish := func() error {
		if cur != "" && !hasCreds {
			return &pie.Error{File: curRec.File, Line: curRec.Line, Err: fmt.Errorf("%s has neither a password nor <scram-credentials xmlns='%s'>: it could never log in", cur, pie.NSSCRAM)}
		}
		return nil
	}
	opt := pie.Options{
		User: func(r pie.UserRecord) error {
			if err := finish(); err != nil {
				return err
			}
			owner := r.Owner.String()
			if seen[owner] {
				return &pie.Error{File: r.File, Line: r.Line, Err: fmt.Errorf("%s appears twice", owner)}
			}
			seen[owner] = true
			if !slices.Contains(cfg.Domains, r.Owner.Domain()) {
				return &pie.Error{File: r.File, Line: r.Line, Err: fmt.Errorf("this server does not serve %s (domains: %s)", r.Owner.Domain(), strings.Join(cfg.Domains, ", "))}
			}
			if r.HasPassword {
				if _, err := sasl.PreparePassword(r.Password); err != nil {
					return &pie.Error{File: r.File, Line: r.Line, Err: fmt.Errorf("password of %s: %v", owner, err)}
				}
			}
			ok, err := st.UserExists(ctx, owner)
			if err != nil {
				return err
			}
			if ok {
				existing = append(existing, owner)
				plan.skip[owner] = true
			}
			plan.users = append(plan.users, owner)
			cur, curRec, hasCreds = owner, r, r.HasPassword
			return nil
		},
		UserPart: func(p pie.UserPart) error {
			scram, err := checkUserPart(p)
			hasCreds = hasCreds || scram
			return err
		},
	}
	err := decodeUsers(path, opt, func(r pie.Record) error {
		if _, err := pie.ToArchived(r.Owner, r.Item); err != nil {
			return &pie.Error{File: r.File, Line: r.Line, Err: fmt.Errorf("item of %s: %w", r.Owner, err)}
		}
		plan.archived = true
		return nil
	})
	if err == nil {
		err = finish()
	}
	if err != nil {
		return nil, err
	}
	if len(existing) > 0 && !c.archive.skipExisting {
		return nil, fmt.Errorf("accounts exist already: %s (delete them with 'skald user del', or pass --skip-existing to leave them untouched)", strings.Join(existing, ", "))
	}
	return plan, nil
}

// checkUserPart parses one part as the writing pass will; it reports
// whether the part is a SCRAM credential.
func checkUserPart(p pie.UserPart) (scram bool, err error) {
	el := p.Element
	wrap := func(err error) error {
		if err == nil {
			return nil
		}
		return p.Errorf("user %s: %v", p.Owner, err)
	}
	switch {
	case el.Is(pie.NSSCRAM, "scram-credentials"):
		_, cred, err := pie.ParseSCRAM(el)
		if err == nil && cred.Iterations > sasl.MaxIterations {
			// The server would never use it: it bounds the work a PLAIN
			// login makes it do.
			err = fmt.Errorf("<scram-credentials>: <iter-count> %d is over %d", cred.Iterations, sasl.MaxIterations)
		}
		return err == nil, wrap(err)
	case el.Is(pie.NSDisabled, "disabled"):
		_, err := pie.ParseDisabled(el, maxDisableReason)
		return false, wrap(err)
	case el.Is(pie.NSRoster, "query"):
		_, err := pie.ParseRoster(el)
		return false, wrap(err)
	case el.Is(pie.NSPrivate, "query"):
		_, err := pie.PrivateDocuments(el)
		return false, wrap(err)
	case el.Is(pie.NS, "offline-messages"):
		_, err := pie.OfflineMessages(el, p.Owner.Domain(), time.Now())
		return false, wrap(err)
	case el.Is("jabber:client", "presence"):
		_, _, err := pie.SubscriptionRequest(el)
		return false, wrap(err)
	}
	return false, nil // vCard (kept as it is) and unknown data (ignored)
}

// writeUserImport is the writing pass.
func (c *cli) writeUserImport(ctx context.Context, st storage.Store, path string, plan *userImportPlan) error {
	var cur string
	fail := func(err error) error {
		return fmt.Errorf("importing %s: %w (the accounts before it in the document are imported)", cur, err)
	}
	opt := pie.Options{
		User: func(r pie.UserRecord) error {
			cur = r.Owner.String()
			if plan.skip[cur] {
				return nil
			}
			var creds storage.Credentials
			if r.HasPassword {
				sc, err := sasl.DeriveCredentials(r.Password, sasl.DefaultIterations)
				if err != nil {
					return fail(err)
				}
				creds = toStorageCredentials(sc)
			}
			if err := st.CreateUser(ctx, cur, creds); err != nil {
				return fail(err)
			}
			return nil
		},
		UserPart: func(p pie.UserPart) error {
			if plan.skip[cur] {
				return nil
			}
			if err := writeUserPart(ctx, st, cur, p); err != nil {
				return fail(err)
			}
			return nil
		},
	}
	return decodeUsers(path, opt, func(pie.Record) error { return nil })
}

// writeUserPart stores one part of owner's data.
func writeUserPart(ctx context.Context, st storage.Store, owner string, p pie.UserPart) error {
	el := p.Element
	switch {
	case el.Is(pie.NSSCRAM, "scram-credentials"):
		mech, cred, err := pie.ParseSCRAM(el)
		if err != nil {
			return err
		}
		creds, err := st.UserCredentials(ctx, owner)
		if err != nil {
			return err
		}
		// A document with both a password and SCRAM data: the exported
		// SCRAM data wins for its hash.
		if mech == pie.MechSHA1 {
			creds.SHA1 = cred
		} else {
			creds.SHA256 = cred
		}
		return st.SetUserCredentials(ctx, owner, creds)
	case el.Is(pie.NSDisabled, "disabled"):
		reason, err := pie.ParseDisabled(el, maxDisableReason)
		if err != nil {
			return err
		}
		return st.SetUserDisabled(ctx, owner, true, reason)
	case el.Is(pie.NSRoster, "query"):
		items, err := pie.ParseRoster(el)
		if err != nil {
			return err
		}
		for _, it := range items {
			// A subscription request read before the roster left a
			// pending-in mark on the item.
			if old, err := st.RosterItem(ctx, owner, it.JID); err == nil {
				it.PendingIn = old.PendingIn
			}
			if _, err := st.PutRosterItem(ctx, owner, it, true); err != nil {
				return err
			}
		}
	case el.Is(pie.NSPrivate, "query"):
		docs, err := pie.PrivateDocuments(el)
		if err != nil {
			return err
		}
		if len(docs) > 0 {
			return st.PutDocuments(ctx, owner, private.Kind, docs, 0)
		}
	case el.Is(pie.NSVCard, "vCard"):
		return st.PutDocuments(ctx, owner, vcard.Kind, []storage.Document{{XML: el.Bytes("")}}, 0)
	case el.Is(pie.NS, "offline-messages"):
		msgs, err := pie.OfflineMessages(el, p.Owner.Domain(), time.Now())
		if err != nil {
			return err
		}
		for _, m := range msgs {
			if err := st.StoreOffline(ctx, owner, m, 0); err != nil {
				return err
			}
		}
	case el.Is("jabber:client", "presence"):
		from, b, err := pie.SubscriptionRequest(el)
		if err != nil {
			return err
		}
		if err := st.PutDocuments(ctx, owner, presence.RequestKind, []storage.Document{{Key: from.String(), XML: b}}, 0); err != nil {
			return err
		}
		it, err := st.RosterItem(ctx, owner, from.String())
		switch {
		case errors.Is(err, storage.ErrNotFound):
			it = storage.RosterItem{JID: from.String(), Subscription: storage.SubNone, Hidden: true}
		case err != nil:
			return err
		}
		it.PendingIn = true
		_, err = st.PutRosterItem(ctx, owner, it, false)
		return err
	}
	return nil
}
