package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/skald-xmpp/skald/config"
	"github.com/skald-xmpp/skald/internal/server"
	"github.com/skald-xmpp/skald/jid"
	"github.com/skald-xmpp/skald/mam"
	"github.com/skald-xmpp/skald/mam/pie"
	"github.com/skald-xmpp/skald/storage"
)

// The archive commands work on the configured store directly, so they may
// run while the server does: SQLite serialises the writes. What the server
// caches (per-user item counts for archive_max_items) only ever
// overestimates after a purge, which costs it one recount.

// archivePage is how many items export reads at a time (keyset paging:
// an archive is never loaded whole) and import writes per transaction.
const archivePage = 500

// archiveFlags are the flags of the archive commands.
type archiveFlags struct {
	with, before string // purge
	output       string // export
	skipExisting bool   // user import
	// importOwners, if not nil, limits an archive import to these
	// accounts (user import leaves skipped accounts' archives alone).
	importOwners map[string]bool
}

func purgeFlags(c *cli, fs *flag.FlagSet) {
	fs.StringVar(&c.archive.with, "with", "", "only messages with this contact (bare `JID`)")
	fs.StringVar(&c.archive.before, "before", "", "only messages before this `TIME` (XEP-0082, or a date: midnight UTC)")
}

func exportFlags(c *cli, fs *flag.FlagSet) {
	fs.StringVar(&c.archive.output, "o", "", "write to `FILE` (mode 0600) instead of stdout")
}

// existingAccount parses USER and checks that the account exists.
func existingAccount(ctx context.Context, cfg *config.Config, st storage.Store, s string) (jid.JID, error) {
	account, err := accountJID(cfg, s)
	if err != nil {
		return jid.JID{}, err
	}
	if ok, err := st.UserExists(ctx, account.String()); err != nil {
		return jid.JID{}, err
	} else if !ok {
		return jid.JID{}, fmt.Errorf("no such account: %s", account)
	}
	return account, nil
}

// archiveModule assembles the mam module as the server does: same [mam]
// configuration and, for the archive ids clients see, the same secret.
func (c *cli) archiveModule(cfg *config.Config, mc mam.Config, st storage.Store) (*mam.Module, error) {
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	secret, err := server.LoadSecret(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	return mam.New(mc, st, st, secret, c.logger(cfg))
}

// count says "1 message", "2 messages".
func count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

func messages(n int) string { return count(n, "message") }

// ---------------------------------------------------------------- stats

func (c *cli) archiveStats(ctx context.Context, cfg *config.Config, args []string) error {
	if len(args) == 1 {
		if _, err := accountJID(cfg, args[0]); err != nil {
			return err
		}
	}
	return c.withStore(ctx, cfg, func(st storage.Store) error {
		if len(args) == 0 {
			return c.statsAll(ctx, st)
		}
		account, err := existingAccount(ctx, cfg, st, args[0])
		if err != nil {
			return err
		}
		stats, err := st.ArchiveStats(ctx, account.String())
		if err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "%s: %s\n", account, messages(stats[account.String()]))
		first, last, ok, err := st.ArchiveBounds(ctx, account.String())
		if err != nil || !ok {
			return err
		}
		fmt.Fprintf(c.stdout, "  first: %s\n  last:  %s\n", mam.FormatDateTime(first.Stamp), mam.FormatDateTime(last.Stamp))
		return nil
	})
}

// statsAll lists every account with its count (0 for empty archives),
// then the totals.
func (c *cli) statsAll(ctx context.Context, st storage.Store) error {
	users, err := st.ListUsers(ctx, "")
	if err != nil {
		return err
	}
	stats, err := st.ArchiveStats(ctx, "")
	if err != nil {
		return err
	}
	names := slices.Clone(users)
	for owner := range stats {
		if !slices.Contains(users, owner) {
			names = append(names, owner) // unlikely: deleting an account deletes its archive
		}
	}
	slices.Sort(names)
	width, total := 0, 0
	for _, n := range names {
		width = max(width, len(n))
		total += stats[n]
	}
	digits := len(fmt.Sprint(total))
	for _, n := range names {
		fmt.Fprintf(c.stdout, "%-*s %*d\n", width, n, digits, stats[n])
	}
	fmt.Fprintf(c.stdout, "total: %s in %s of %s\n", messages(total), count(len(stats), "archive"), count(len(names), "account"))
	return nil
}

// ---------------------------------------------------------------- purge

func (c *cli) archivePurge(ctx context.Context, cfg *config.Config, args []string) error {
	if _, err := accountJID(cfg, args[0]); err != nil {
		return err
	}
	var with string
	if s := c.archive.with; s != "" {
		j, err := jid.Parse(s)
		switch {
		case err != nil:
			return usagef("--with %q is not a valid JID: %v", s, err)
		case j.IsFull():
			return usagef("--with %q has a resource; give the contact's bare JID", s)
		}
		with = j.String()
	}
	var before time.Time
	if s := c.archive.before; s != "" {
		var err error
		if before, err = parseBefore(s); err != nil {
			return err
		}
	}
	return c.withStore(ctx, cfg, func(st storage.Store) error {
		account, err := existingAccount(ctx, cfg, st, args[0])
		if err != nil {
			return err
		}
		n, err := st.PurgeArchive(ctx, account.String(), with, before)
		if err != nil {
			return err
		}
		var filters []string
		if with != "" {
			filters = append(filters, "with "+with)
		}
		if !before.IsZero() {
			filters = append(filters, "before "+mam.FormatDateTime(before))
		}
		what := ""
		if len(filters) > 0 {
			what = " (" + strings.Join(filters, ", ") + ")"
		}
		fmt.Fprintf(c.stdout, "deleted %s from the archive of %s%s\n", messages(n), account, what)
		return nil
	})
}

// parseBefore parses --before: an XEP-0082 DateTime, or a date meaning
// its first instant in UTC.
func parseBefore(s string) (time.Time, error) {
	if len(s) == len(time.DateOnly) {
		if t, err := time.Parse(time.DateOnly, s); err == nil {
			return t, nil
		}
	} else if t, err := mam.ParseDateTime(s); err == nil {
		return t, nil
	}
	return time.Time{}, usagef("--before %q: want a date (2026-01-02, meaning midnight UTC) or an XEP-0082 date-time (2026-01-02T15:04:05Z, 2026-01-02T17:04:05.5+02:00)", s)
}

// ---------------------------------------------------------------- expire

func (c *cli) archiveExpire(ctx context.Context, cfg *config.Config, _ []string) error {
	mods, err := server.DecodeModuleConfig(cfg)
	if err != nil {
		return err
	}
	setting := fmt.Sprintf("archive_expires_after = %s", tomlValue(mods.MAM.ArchiveExpiresAfter))
	if _, never, _ := mam.ParseExpiry(mods.MAM.ArchiveExpiresAfter); never {
		fmt.Fprintf(c.stdout, "archive expiry is disabled (%s): nothing deleted\n", setting)
		return nil
	}
	return c.withStore(ctx, cfg, func(st storage.Store) error {
		m, err := c.archiveModule(cfg, mods.MAM, st)
		if err != nil {
			return err
		}
		n, err := m.Cleaner().ExpireNow(ctx)
		if err != nil {
			return fmt.Errorf("%w (%s deleted before the failure)", err, messages(n))
		}
		fmt.Fprintf(c.stdout, "deleted %s older than %s\n", messages(n), setting)
		return nil
	})
}

// tomlValue shows a configuration value as it is written in skald.toml.
func tomlValue(v any) string {
	if s, ok := v.(string); ok {
		return fmt.Sprintf("%q", s)
	}
	return fmt.Sprint(v)
}

// ---------------------------------------------------------------- export

func (c *cli) archiveExport(ctx context.Context, cfg *config.Config, args []string) error {
	if len(args) == 1 {
		if _, err := accountJID(cfg, args[0]); err != nil {
			return err
		}
	}
	mods, err := server.DecodeModuleConfig(cfg)
	if err != nil {
		return err
	}
	return c.withStore(ctx, cfg, func(st storage.Store) error {
		var owners []jid.JID
		if len(args) == 1 {
			account, err := existingAccount(ctx, cfg, st, args[0])
			if err != nil {
				return err
			}
			owners = []jid.JID{account}
		} else {
			stats, err := st.ArchiveStats(ctx, "")
			if err != nil {
				return err
			}
			for owner, n := range stats {
				if j, err := jid.Parse(owner); err == nil && n > 0 {
					owners = append(owners, j)
				}
			}
			// By domain, so that each <host> appears once.
			slices.SortFunc(owners, func(a, b jid.JID) int {
				return cmp.Or(strings.Compare(a.Domain(), b.Domain()), strings.Compare(a.Local(), b.Local()))
			})
		}
		m, err := c.archiveModule(cfg, mods.MAM, st)
		if err != nil {
			return err
		}
		report := c.stderr // stdout carries the document
		if c.archive.output != "" && c.archive.output != "-" {
			report = c.stdout
		}
		var res exportResult
		err = c.writeOutput(c.archive.output, func(w io.Writer) error {
			var werr error
			res, werr = c.exportArchives(ctx, st, m, owners, w)
			return werr
		})
		if err != nil {
			return err
		}
		dest := "stdout"
		if report == c.stdout {
			dest = c.archive.output
		}
		fmt.Fprintf(report, "exported %s of %s to %s\n", messages(res.items), count(len(owners), "archive"), dest)
		if res.skipped > 0 {
			fmt.Fprintf(c.stderr, "warning: %s could not be read from the store and were left out (see above)\n", messages(res.skipped))
		}
		return nil
	})
}

type exportResult struct{ items, skipped int }

// exportArchives writes owners' archives, each read in pages.
func (c *cli) exportArchives(ctx context.Context, st storage.Archive, m *mam.Module, owners []jid.JID, out io.Writer) (exportResult, error) {
	var res exportResult
	w := pie.NewWriter(out)
	for _, owner := range owners {
		if err := c.exportArchive(ctx, st, m, w, owner, &res); err != nil {
			return res, err
		}
	}
	return res, w.Close()
}

// exportArchive writes owner's archive, read in pages, to w.
func (c *cli) exportArchive(ctx context.Context, st storage.Archive, m *mam.Module, w *pie.Writer, owner jid.JID, res *exportResult) error {
	if err := w.StartArchive(owner); err != nil {
		return err
	}
	q := storage.ArchiveQuery{Owner: owner.String(), Limit: archivePage}
	for {
		page, err := st.QueryArchive(ctx, q)
		if err != nil {
			return err
		}
		for i := range page.Messages {
			msg := &page.Messages[i]
			id := m.ArchiveID(msg.ID)
			it, err := pie.FromArchived(msg, id)
			if err != nil {
				// The server serves such an item as an empty
				// <forwarded/>; a document cannot carry it.
				fmt.Fprintf(c.stderr, "skald export: %s item %s: stored stanza unreadable (%v); left out\n", owner, id, err)
				res.skipped++
				continue
			}
			if err := w.WriteItem(it); err != nil {
				return err
			}
			res.items++
		}
		if page.Complete || len(page.Messages) == 0 {
			return nil
		}
		q.AfterID = page.Messages[len(page.Messages)-1].ID
	}
}

// writeOutput runs write on stdout ("" or "-") or on a new file that
// replaces path only once complete, readable by its owner only (XEP-0227
// "Security Considerations").
func (c *cli) writeOutput(path string, write func(io.Writer) error) error {
	if path == "" || path == "-" {
		return write(c.stdout)
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name()) // after a successful rename there is nothing left to remove
	err = write(f)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	return err
}

// ---------------------------------------------------------------- import

// importItem is one message of the document, ready to store.
type importItem struct {
	msg   *storage.ArchivedMessage
	stamp time.Time // as in the document
	user  *importUser
	dup   bool
}

// importUser counts what happened to one owner's items.
type importUser struct {
	owner          string
	imported, dups int
}

// archiveImport adds the archives of a XEP-0227 document to existing
// accounts.
//
// The whole document is read and checked first (well-formed, every item
// complete and relative to its owner, every owner an existing account):
// a bad document imports nothing. Items are then written oldest first
// across all users, archivePage per transaction, so that stamps survive:
// the store keeps stamps non-decreasing in its own (arrival) order, so an
// item older than the newest one already in the store (of any user) is
// stored with that newest stamp instead, and the command reports how
// many were. Into an empty store every stamp is kept.
//
// An item whose origin-id, peer, direction and body match an item
// already archived, or an earlier item of the document, is skipped, so
// importing a document twice adds nothing the second time for messages
// with an origin-id (the others are added again). Imported items get new
// archive ids: clients resynchronise. Archiving preferences and
// dont_archive_namespaces do not apply (this is a restore), and
// archive_expires_after and archive_max_items do at the server's next
// expiry run and next append.
func (c *cli) archiveImport(ctx context.Context, cfg *config.Config, args []string) error {
	mods, err := server.DecodeModuleConfig(cfg)
	if err != nil {
		return err
	}
	items, users, err := c.readImport(args[0])
	if err != nil {
		return fmt.Errorf("%w; nothing imported", err)
	}
	if len(items) == 0 {
		fmt.Fprintln(c.stdout, "the document holds no archived messages: nothing imported")
		return nil
	}
	return c.withStore(ctx, cfg, func(st storage.Store) error {
		var missing []string
		for _, u := range users {
			if ok, err := st.UserExists(ctx, u.owner); err != nil {
				return err
			} else if !ok {
				missing = append(missing, u.owner)
			}
		}
		if len(missing) > 0 {
			return fmt.Errorf("no such account: %s (create with 'skald user add'); nothing imported", strings.Join(missing, ", "))
		}
		if err := markDuplicates(ctx, st, items); err != nil {
			return err
		}
		// Oldest first across users; the sort is stable, so items of one
		// stamp keep the document's order.
		slices.SortStableFunc(items, func(a, b importItem) int { return a.stamp.Compare(b.stamp) })
		written, clamped, err := writeImport(ctx, st, items)
		if err != nil {
			return fmt.Errorf("%w; imported before the failure: %s (oldest first)", err, messages(written))
		}
		for _, u := range users {
			fmt.Fprintf(c.stdout, "%s: imported %s", u.owner, messages(u.imported))
			if u.dups > 0 {
				fmt.Fprintf(c.stdout, ", skipped %d already archived", u.dups)
			}
			fmt.Fprintln(c.stdout)
		}
		if clamped > 0 {
			fmt.Fprintf(c.stderr, "warning: stamps raised for %s older than the newest message already in the store (its stamps never decrease in arrival order)\n", messages(clamped))
		}
		c.warnExpiry(mods.MAM, items)
		return nil
	})
}

// readImport reads and checks the whole document at path ("-": stdin).
func (c *cli) readImport(path string) ([]importItem, []*importUser, error) {
	var items []importItem
	var users []*importUser
	byOwner := make(map[string]*importUser)
	collect := func(r pie.Record) error {
		if c.archive.importOwners != nil && !c.archive.importOwners[r.Owner.String()] {
			return nil
		}
		msg, err := pie.ToArchived(r.Owner, r.Item)
		if err != nil {
			return &pie.Error{File: r.File, Line: r.Line, Err: fmt.Errorf("item of %s: %w", r.Owner, err)}
		}
		u := byOwner[msg.Owner]
		if u == nil {
			u = &importUser{owner: msg.Owner}
			byOwner[msg.Owner] = u
			users = append(users, u)
		}
		items = append(items, importItem{msg: msg, stamp: msg.Stamp, user: u})
		return nil
	}
	var err error
	if path == "-" {
		err = pie.Decode(c.stdin, pie.Options{}, collect)
	} else {
		// Includes resolve inside the document's directory.
		dir := filepath.Dir(path)
		err = pie.DecodeFile(os.DirFS(dir), filepath.Base(path), pie.Options{}, collect)
		var pe *pie.Error
		if errors.As(err, &pe) {
			pe.File = filepath.Join(dir, filepath.FromSlash(pe.File))
		}
	}
	var pe *pie.Error
	if errors.As(err, &pe) && pe.File == "" {
		pe.File = "stdin"
	}
	return items, users, err
}

// markDuplicates marks the items already archived, or repeated in the
// document, by origin-id, peer, direction and body (the rule the server
// applies to resent messages).
func markDuplicates(ctx context.Context, st storage.Archive, items []importItem) error {
	type key struct {
		owner, with, originID string
		outgoing              bool
	}
	seen := make(map[key][]string) // bodies
	for i := range items {
		it := &items[i]
		m := it.msg
		if m.OriginID == "" {
			continue
		}
		k := key{m.Owner, m.With, m.OriginID, m.Outgoing}
		if slices.Contains(seen[k], m.Body) {
			it.dup = true
			continue
		}
		seen[k] = append(seen[k], m.Body)
		prev, found, err := st.FindByOriginID(ctx, m.Owner, m.With, m.Outgoing, m.OriginID)
		if err != nil {
			return err
		}
		it.dup = found && prev.Body == m.Body
	}
	return nil
}

// writeImport appends the items that are not duplicates, in order, one
// transaction per archivePage items. It returns how many it wrote and
// how many of those the store stamped later than the document did.
func writeImport(ctx context.Context, st storage.Archive, items []importItem) (written, clamped int, err error) {
	batch := make([]*storage.ArchivedMessage, 0, archivePage)
	owners := make([]*importUser, 0, archivePage)
	stamps := make([]time.Time, 0, archivePage) // as in the document
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		if err := st.AppendArchive(ctx, batch); err != nil {
			return err
		}
		for i, m := range batch {
			owners[i].imported++
			if m.Stamp.After(stamps[i]) {
				clamped++
			}
		}
		written += len(batch)
		batch, owners, stamps = batch[:0], owners[:0], stamps[:0]
		return nil
	}
	for i := range items {
		it := &items[i]
		if it.dup {
			it.user.dups++
			continue
		}
		batch = append(batch, it.msg)
		owners = append(owners, it.user)
		stamps = append(stamps, it.stamp)
		if len(batch) == archivePage {
			if err := flush(); err != nil {
				return written, clamped, err
			}
		}
	}
	return written, clamped, flush()
}

// warnExpiry warns about imported items the server's expiry will delete.
func (c *cli) warnExpiry(mc mam.Config, items []importItem) {
	d, never, err := mam.ParseExpiry(mc.ArchiveExpiresAfter)
	if err != nil || never {
		return
	}
	cut := time.Now().Add(-d)
	n := 0
	for _, it := range items {
		if !it.dup && it.msg.Stamp.Before(cut) {
			n++
		}
	}
	if n > 0 {
		fmt.Fprintf(c.stderr, "warning: the server will delete %s of this import at its next expiry run: older than archive_expires_after = %s (set it to \"never\" to keep them)\n",
			messages(n), tomlValue(mc.ArchiveExpiresAfter))
	}
}
