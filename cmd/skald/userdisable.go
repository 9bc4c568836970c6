package main

import (
	"context"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/skald-xmpp/skald/config"
	"github.com/skald-xmpp/skald/jid"
	"github.com/skald-xmpp/skald/storage"
)

// maxDisableReason bounds --reason as adhoc's disable-user bounds its
// x-reason field.
const maxDisableReason = 1024

func userDisableFlags(c *cli, fs *flag.FlagSet) {
	fs.StringVar(&c.disableReason, "reason", "", "a note for the operators (`TEXT`), shown by user list; never sent to the user")
}

// userDisable disables an account in the store. It is another process
// than the server: the server reads the flag at each login (c2s refuses
// it with account-disabled), but cannot be told to end the account's
// open streams; the XEP-0133 disable-user command does both.
func (c *cli) userDisable(ctx context.Context, cfg *config.Config, args []string) error {
	reason := strings.TrimSpace(c.disableReason)
	if len(reason) > maxDisableReason {
		return usagef("--reason is longer than %d bytes", maxDisableReason)
	}
	return c.withAccount(ctx, cfg, args[0], func(st storage.Store, account jid.JID) error {
		err := st.SetUserDisabled(ctx, account.String(), true, reason)
		if err == nil {
			fmt.Fprintf(c.stderr, "note: a running server refuses %s's next login; streams open now go on until they end or an administrator runs the disable-user command (XEP-0133)\n", account)
		}
		return c.report(err, storage.ErrNotFound, account, "no such account: %s", "disabled %s\n")
	})
}

func (c *cli) userEnable(ctx context.Context, cfg *config.Config, args []string) error {
	return c.withAccount(ctx, cfg, args[0], func(st storage.Store, account jid.JID) error {
		return c.report(st.SetUserDisabled(ctx, account.String(), false, ""), storage.ErrNotFound, account, "no such account: %s", "enabled %s\n")
	})
}

// disabledMark follows a disabled account's JID in user list: a tab, so
// that the first column stays the JID, then when and why (quoted: the
// reason is free text).
func disabledMark(st storage.AccountStatus) string {
	m := "\tdisabled since " + st.Since.UTC().Format(time.RFC3339)
	if st.Reason != "" {
		m += " reason " + strconv.Quote(st.Reason)
	}
	return m
}
