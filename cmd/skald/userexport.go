package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/skald-xmpp/skald/config"
	"github.com/skald-xmpp/skald/internal/server"
	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/jid"
	"github.com/skald-xmpp/skald/mam"
	"github.com/skald-xmpp/skald/mam/pie"
	"github.com/skald-xmpp/skald/presence"
	"github.com/skald-xmpp/skald/storage"
	"github.com/skald-xmpp/skald/vcard"
)

// userExport writes the accounts of the store (or of one domain) as a
// XEP-0227 document: SCRAM credentials (never a password: the server has
// none), whether it is disabled (pie.NSDisabled, Skald's own), roster,
// incoming subscription requests, vCard, offline messages and archive,
// one user at a time (bounded memory: an archive is read in pages). Private XML is not exported: storage.Documents cannot list an
// account's namespaces.
func (c *cli) userExport(ctx context.Context, cfg *config.Config, args []string) error {
	domain := ""
	if len(args) == 1 {
		domain = args[0]
		if !slices.Contains(cfg.Domains, domain) {
			return usagef("this server does not serve %s (domains: %s)", domain, strings.Join(cfg.Domains, ", "))
		}
	}
	mods, err := server.DecodeModuleConfig(cfg)
	if err != nil {
		return err
	}
	return c.withStore(ctx, cfg, func(st storage.Store) error {
		users, err := st.ListUsers(ctx, domain)
		if err != nil {
			return err
		}
		var owners []jid.JID
		for _, u := range users {
			if j, err := jid.Parse(u); err == nil {
				owners = append(owners, j)
			}
		}
		// By domain, so that each <host> appears once.
		slices.SortFunc(owners, func(a, b jid.JID) int {
			return strings.Compare(a.Domain()+"\x00"+a.Local(), b.Domain()+"\x00"+b.Local())
		})
		m, err := c.archiveModule(cfg, mods.MAM, st)
		if err != nil {
			return err
		}
		stats, err := st.ArchiveStats(ctx, "")
		if err != nil {
			return err
		}
		report := c.stderr // stdout carries the document
		dest := "stdout"
		if c.archive.output != "" && c.archive.output != "-" {
			report, dest = c.stdout, c.archive.output
		}
		var res exportResult
		err = c.writeOutput(c.archive.output, func(out io.Writer) error {
			w := pie.NewWriter(out)
			for _, owner := range owners {
				parts, err := userParts(ctx, st, owner.String())
				if err != nil {
					return fmt.Errorf("%s: %w", owner, err)
				}
				if err := w.StartUser(owner, parts...); err != nil {
					return err
				}
				if stats[owner.String()] > 0 {
					if err := c.exportArchive(ctx, st, m, w, owner, &res); err != nil {
						return fmt.Errorf("%s: %w", owner, err)
					}
				}
			}
			return w.Close()
		})
		if err != nil {
			return err
		}
		fmt.Fprintf(report, "exported %s with %s to %s\n", count(len(owners), "account"), messages(res.items), dest)
		if res.skipped > 0 {
			fmt.Fprintf(c.stderr, "warning: %s could not be read from the store and were left out (see above)\n", messages(res.skipped))
		}
		return nil
	})
}

// userParts reads what the document carries of owner besides its archive.
func userParts(ctx context.Context, st storage.Store, owner string) ([]*xml.Element, error) {
	var parts []*xml.Element
	creds, err := st.UserCredentials(ctx, owner)
	if err != nil {
		return nil, err
	}
	if len(creds.SHA1.StoredKey) > 0 {
		parts = append(parts, pie.SCRAMElement(pie.MechSHA1, creds.SHA1))
	}
	if len(creds.SHA256.StoredKey) > 0 {
		parts = append(parts, pie.SCRAMElement(pie.MechSHA256, creds.SHA256))
	}
	status, err := st.UserStatus(ctx, owner)
	if err != nil {
		return nil, err
	}
	if status.Disabled {
		parts = append(parts, pie.DisabledElement(status))
	}
	items, _, err := st.Roster(ctx, owner)
	if err != nil {
		return nil, err
	}
	parts = append(parts, pie.RosterElement(items))
	// Incoming subscription requests: the kept stanza of each pending-in
	// item, or a bare request when none was kept.
	for _, it := range items {
		if !it.PendingIn {
			continue
		}
		b, err := st.Document(ctx, owner, presence.RequestKind, it.JID)
		var el *xml.Element
		if err == nil && len(b) > 0 {
			el, err = parseDocument(b)
		}
		if err != nil && !errors.Is(err, storage.ErrNotFound) {
			return nil, err
		}
		if el == nil || !el.Is("jabber:client", "presence") {
			el = xml.New("jabber:client", "presence", "type", "subscribe")
		}
		el.SetAttr("from", it.JID).SetAttr("to", owner).SetAttr("type", "subscribe")
		parts = append(parts, el)
	}
	if b, err := st.Document(ctx, owner, vcard.Kind, ""); err == nil && len(b) > 0 {
		el, err := parseDocument(b)
		if err != nil {
			return nil, fmt.Errorf("stored vCard: %w", err)
		}
		parts = append(parts, el)
	} else if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return nil, err
	}
	msgs, err := st.OfflineMessages(ctx, owner)
	if err != nil {
		return nil, err
	}
	if len(msgs) > 0 {
		off := xml.New(pie.NS, "offline-messages")
		for _, m := range msgs {
			st, err := pie.ParseStanza(m.Stanza)
			if err != nil {
				return nil, fmt.Errorf("offline message %d: %w", m.Seq, err)
			}
			if st.Child(mam.NSDelay, "delay") == nil {
				st.Append(xml.New(mam.NSDelay, "delay", "stamp", mam.FormatDateTime(m.Stored.UTC())))
			}
			off.Append(st)
		}
		parts = append(parts, off)
	}
	return parts, nil
}

// parseDocument reads one stored element (a document serialised with
// its namespace declared).
func parseDocument(b []byte) (*xml.Element, error) {
	var el *xml.Element
	err := pie.Decode(strings.NewReader("<server-data xmlns='urn:xmpp:pie:0'><host jid='h'><user name='u'>"+string(b)+"</user></host></server-data>"),
		pie.Options{UserPart: func(p pie.UserPart) error {
			if el != nil {
				return errors.New("more than one element")
			}
			el = p.Element
			return nil
		}}, func(pie.Record) error { return nil })
	if err == nil && el == nil {
		err = errors.New("no element")
	}
	return el, err
}
