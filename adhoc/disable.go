package adhoc

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/jid"
	"github.com/skald-xmpp/skald/storage"
	"github.com/skald-xmpp/skald/stream"
)

// Disabling accounts (XEP-0133 §4.3, §4.4, §4.14, §4.19): an operator
// stops an abusive account without deleting it; its roster, archive and
// the rest stay as evidence (storage.Users.SetUserDisabled). c2s refuses
// its logins with <account-disabled/>, and disable-user ends its
// streams, which skald user disable (another process) cannot.

// disabledStreamText is the text of the stream error that ends a
// disabled account's streams. As at login, the operator's reason is not
// sent: it is a note for operators.
const disabledStreamText = "this account is disabled; contact the server's administrator"

// disabledCondition is that stream error's condition: the account broke
// the service's local policy (RFC 6120 §4.9.3.14), which the text names.
// not-authorized (§4.9.3.12) is about stream negotiation, and is what
// ends a deleted account's streams (register.EndSessions).
const disabledCondition = stream.PolicyViolation

// maxReasonBytes bounds the operator's note kept with a disabled account.
const maxReasonBytes = 1024

func disableUserForm() *xml.Element {
	// x-reason is Skald's (XEP-0068: a field XEP-0133 does not register
	// starts with "x-").
	return adminForm("Disabling a User", "Fill out this form to disable a user.").Append(
		field("jid-multi", "accountjids", "The Jabber ID(s) to disable", true),
		field("text-single", "x-reason", "Reason (kept for the operators, not shown to the user)", false))
}

func reenableUserForm() *xml.Element {
	return adminForm("Re-Enable a User", "Fill out this form to re-enable a user.").Append(
		field("jid-multi", "accountjids", "The Jabber ID(s) to re-enable", true))
}

func disabledListForm() *xml.Element {
	return adminForm("Requesting List of Disabled Users", "Fill out this form to request the disabled users of this service.").Append(maxItemsField())
}

// disableUser disables each account, then, after the result, ends its
// streams (XEP-0133 §4.3: "MUST result in the termination of any active
// sessions"), XEP-0198 sessions waiting for resumption included. As
// delete-user does, it names unknown accounts and store failures in
// error notes and goes on with the others.
//
// The requester's own account is left enabled, with an error note: an
// administrator who disabled it would be cut off at once, with only
// skald user enable to come back; another administrator can disable it.
func (a *admin) disableUser(ctx context.Context, c *Call, forms []Form) (*Outcome, error) {
	accounts, err := a.accountJIDs(forms[0])
	if err != nil {
		return nil, err
	}
	reason := strings.TrimSpace(forms[0].Value("x-reason"))
	if len(reason) > maxReasonBytes {
		return nil, badPayload("the reason is longer than " + strconv.Itoa(maxReasonBytes) + " bytes")
	}
	self := c.Requester.Bare()
	own := slices.ContainsFunc(accounts, func(j jid.JID) bool { return j.Equal(self) })
	accounts = slices.DeleteFunc(accounts, func(j jid.JID) bool { return j.Equal(self) })
	done, missing, failed := a.setDisabled(ctx, accounts, true, reason)
	out := &Outcome{AfterReply: func() {
		for _, j := range done {
			for _, s := range a.r.Sessions(j.String()) {
				s.CloseWithText(string(disabledCondition), disabledStreamText)
			}
		}
	}}
	out.Notes = outcomeNotes("Disabled", done, missing, failed)
	if own {
		out.Notes = append(out.Notes, Note{"error", "Not disabled: " + self.String() + " is the account you are using; another administrator can disable it."})
	}
	return out, nil
}

// reenableUser lets the accounts log in again (XEP-0133 §4.4).
func (a *admin) reenableUser(ctx context.Context, _ *Call, forms []Form) (*Outcome, error) {
	accounts, err := a.accountJIDs(forms[0])
	if err != nil {
		return nil, err
	}
	done, missing, failed := a.setDisabled(ctx, accounts, false, "")
	return &Outcome{Notes: outcomeNotes("Re-enabled", done, missing, failed)}, nil
}

func (a *admin) setDisabled(ctx context.Context, accounts []jid.JID, disabled bool, reason string) (done, missing, failed []jid.JID) {
	for _, j := range accounts {
		switch err := a.users.SetUserDisabled(ctx, j.String(), disabled, reason); {
		case errors.Is(err, storage.ErrNotFound):
			missing = append(missing, j)
		case err != nil:
			a.log.Error("adhoc: disabling or re-enabling an account failed", "account", j.String(), "disable", disabled, "err", err)
			failed = append(failed, j)
		default:
			a.log.Info("adhoc: account disabled or re-enabled", "account", j.String(), "disabled", disabled, "reason", reason)
			done = append(done, j)
		}
	}
	return done, missing, failed
}

func outcomeNotes(verb string, done, missing, failed []jid.JID) []Note {
	var notes []Note
	if len(done) > 0 {
		notes = append(notes, Note{"info", verb + " " + joinJIDs(done) + "."})
	}
	if len(missing) > 0 {
		notes = append(notes, Note{"error", "No such account: " + joinJIDs(missing) + "."})
	}
	if len(failed) > 0 {
		notes = append(notes, Note{"error", "Not changed (see the server log): " + joinJIDs(failed) + "."})
	}
	return notes
}

// disabledNum counts the disabled accounts of the domain (§4.14).
func (a *admin) disabledNum(ctx context.Context, c *Call, _ []Form) (*Outcome, error) {
	users, err := a.users.DisabledUsers(ctx, c.Server.Domain())
	if err != nil {
		return nil, err
	}
	return &Outcome{Form: resultForm(
		field("text-single", "disabledusersnum", "The number of disabled users", false, strconv.Itoa(len(users))))}, nil
}

// disabledList lists the disabled accounts of the domain (§4.19), at
// most max_items of them.
func (a *admin) disabledList(ctx context.Context, c *Call, forms []Form) (*Outcome, error) {
	max, err := maxItems(forms[0])
	if err != nil {
		return nil, err
	}
	users, err := a.users.DisabledUsers(ctx, c.Server.Domain())
	if err != nil {
		return nil, err
	}
	bares := make([]string, 0, min(len(users), max))
	for _, u := range users[:min(len(users), max)] {
		bares = append(bares, u.Bare)
	}
	out := &Outcome{Form: resultForm(field("jid-multi", "disableduserjids", "The list of all disabled users", false, bares...))}
	if len(users) > len(bares) {
		out.Notes = []Note{{"warn", fmt.Sprintf("Showing %d of %d disabled users.", len(bares), len(users))}}
	}
	return out, nil
}
