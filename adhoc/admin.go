package adhoc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"

	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/jid"
	"github.com/skald-xmpp/skald/router"
	"github.com/skald-xmpp/skald/stanza"
	"github.com/skald-xmpp/skald/storage"
	"github.com/skald-xmpp/skald/stream"
)

// NSAdmin is XEP-0133's namespace: the FORM_TYPE of its forms and the
// prefix of its command nodes.
const NSAdmin = "http://jabber.org/protocol/admin"

// maxOnlineListed bounds get-online-users-list whatever max_items says
// ("none" included): one reply must fit a client's stanza limit.
const maxOnlineListed = 1000

// maxAnnouncementBytes bounds an announcement, subject and text
// together: every available session gets its own copy, so a
// stanza-sized one to thousands of sessions would queue gigabytes.
const maxAnnouncementBytes = 4096

// Accounts is how the admin commands create, re-key and delete accounts:
// the running server's one path for it (register.Module implements it;
// internal/server wires it), so an account an administrator deletes
// loses exactly what one its user cancels loses.
type Accounts interface {
	// CreateAccount fails with storage.ErrExists for an existing account.
	CreateAccount(ctx context.Context, account jid.JID, password string) error
	// SetPassword fails with storage.ErrNotFound for an unknown account.
	SetPassword(ctx context.Context, account jid.JID, password string) error
	// DeleteAccount removes the account and all it owns, but leaves its
	// streams running; storage.ErrNotFound for an unknown account.
	DeleteAccount(ctx context.Context, account jid.JID) error
	// EndSessions ends a deleted account's streams.
	EndSessions(account jid.JID)
}

// Store is what the admin commands read and keep in the store: the
// accounts of a domain, which are disabled (disable.go), an account's
// roster, and each domain's message of the day (a document the domain
// owns, see motd.go).
type Store interface {
	ListUsers(ctx context.Context, domain string) ([]string, error)
	CountUsers(ctx context.Context, domain string) (int, error)
	SetUserDisabled(ctx context.Context, bare string, disabled bool, reason string) error
	DisabledUsers(ctx context.Context, domain string) ([]storage.DisabledUser, error)
	Roster(ctx context.Context, owner string) ([]storage.RosterItem, string, error)
	storage.Documents
}

// AddAdminCommands adds the XEP-0133 commands (see doc.go), run against
// r's sessions, st and accounts, and delivers the message of the day
// they set at each session's initial presence. Call it before serving.
func (m *Module) AddAdminCommands(r *router.Router, st Store, accounts Accounts) {
	a := &admin{r: r, users: st, accounts: accounts, log: m.log}
	m.motd = newMOTD(st, r)
	m.Add(a.commands()...)
	m.Add(m.motd.commands()...)
}

func (a *admin) commands() []*Command {
	return []*Command{
		{Node: NSAdmin + "#add-user", Name: "Add User", Admin: true, Stages: stage(addUserForm), Complete: a.addUser},
		{Node: NSAdmin + "#delete-user", Name: "Delete User", Admin: true, Stages: stage(deleteUserForm), Complete: a.deleteUser},
		{Node: NSAdmin + "#disable-user", Name: "Disable a User", Admin: true, Stages: stage(disableUserForm), Complete: a.disableUser},
		{Node: NSAdmin + "#reenable-user", Name: "Re-Enable a User", Admin: true, Stages: stage(reenableUserForm), Complete: a.reenableUser},
		{Node: NSAdmin + "#change-user-password", Name: "Change User Password", Admin: true, Stages: stage(changePasswordForm), Complete: a.changePassword},
		{Node: NSAdmin + "#end-user-session", Name: "End User Session", Admin: true, Stages: stage(endSessionForm), Complete: a.endSession},
		{Node: NSAdmin + "#get-user-roster", Name: "Get User Roster", Admin: true, Stages: stage(rosterForm), Complete: a.userRoster},
		{Node: NSAdmin + "#get-registered-users-num", Name: "Get Number of Registered Users", Admin: true, Complete: a.registeredNum},
		{Node: NSAdmin + "#get-disabled-users-num", Name: "Get Number of Disabled Users", Admin: true, Complete: a.disabledNum},
		{Node: NSAdmin + "#get-disabled-users-list", Name: "Get List of Disabled Users", Admin: true, Stages: stage(disabledListForm), Complete: a.disabledList},
		{Node: NSAdmin + "#get-online-users-num", Name: "Get Number of Online Users", Admin: true, Complete: a.onlineNum},
		{Node: NSAdmin + "#get-online-users-list", Name: "Get List of Online Users", Admin: true, Stages: stage(onlineListForm), Complete: a.onlineList},
		{Node: NSAdmin + "#announce", Name: "Send Announcement to Online Users", Admin: true, Stages: stage(announceForm), Complete: a.announce},
	}
}

type admin struct {
	r        *router.Router
	users    Store
	accounts Accounts
	log      *slog.Logger
}

func stage(f func() *xml.Element) []func(context.Context, *Call) *xml.Element {
	return []func(context.Context, *Call) *xml.Element{func(context.Context, *Call) *xml.Element { return f() }}
}

func rosterForm() *xml.Element {
	return adminForm("Getting a User's Roster", "Fill out this form to get a user's roster.").Append(
		field("jid-multi", "accountjids", "The Jabber ID(s) for which to retrieve the roster", true))
}

// userRoster answers one account's roster as jabber:iq:roster items
// inside the result form (XEP-0133 §4.8), without the items that only
// carry a stored subscription request (the user has not added them).
func (a *admin) userRoster(ctx context.Context, _ *Call, forms []Form) (*Outcome, error) {
	accounts, err := a.accountJIDs(forms[0])
	if err != nil {
		return nil, err
	}
	if len(accounts) != 1 {
		// One <query/> per answer: a client could not tell two apart.
		return nil, badPayload("name one account")
	}
	items, _, err := a.users.Roster(ctx, accounts[0].String())
	if err != nil {
		return nil, err
	}
	q := xml.New(nsRoster, "query")
	for _, it := range items {
		if it.Hidden {
			continue
		}
		el := xml.New(nsRoster, "item", "jid", it.JID)
		el.SetAttr("name", it.Name)
		el.SetAttr("subscription", it.Subscription)
		if it.AskOut {
			el.SetAttr("ask", "subscribe")
		}
		for _, g := range it.Groups {
			el.Append(xml.New(nsRoster, "group").AppendText(g))
		}
		q.Append(el)
	}
	form := resultForm(field("jid-multi", "accountjids", "", false, accounts[0].String()))
	return &Outcome{Form: form.Append(q)}, nil
}

const nsRoster = "jabber:iq:roster"

func adminForm(title, instructions string) *xml.Element {
	return newForm("form", NSAdmin, title, instructions)
}

func addUserForm() *xml.Element {
	return adminForm("Adding a User", "Fill out this form to add a user.").Append(
		field("jid-single", "accountjid", "The Jabber ID for the account to be added", true),
		field("text-private", "password", "The password for this account", true),
		field("text-private", "password-verify", "Retype password", true))
}

func deleteUserForm() *xml.Element {
	return adminForm("Deleting a User", "Fill out this form to delete a user.").Append(
		field("jid-multi", "accountjids", "The Jabber ID(s) to delete", true))
}

func changePasswordForm() *xml.Element {
	return adminForm("Changing a User Password", "Fill out this form to change a user's password.").Append(
		field("jid-single", "accountjid", "The Jabber ID for this account", true),
		field("text-private", "password", "The password for this account", true))
}

func endSessionForm() *xml.Element {
	return adminForm("Ending a User Session", "Fill out this form to end a user's session.").Append(
		field("jid-multi", "accountjids", "The Jabber ID(s) for which to end sessions", true))
}

func onlineListForm() *xml.Element {
	return adminForm("Requesting List of Online Users", "Fill out this form to request the online users of this service.").Append(maxItemsField())
}

func maxItemsField() *xml.Element {
	f := field("list-single", "max_items", "Maximum number of items to show", false, "25")
	for _, n := range []string{"25", "50", "75", "100", "150", "200"} {
		option(f, n, n)
	}
	option(f, "None", "none")
	return f
}

// maxItems reads a max_items field (onlineListForm): at most
// maxOnlineListed whatever it says.
func maxItems(f Form) (int, error) {
	switch v := f.Value("max_items"); v {
	case "", "none":
		return maxOnlineListed, nil
	default:
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return 0, badPayload("max_items is not a number")
		}
		return min(n, maxOnlineListed), nil
	}
}

func announceForm() *xml.Element {
	return adminForm("Making an Announcement", "Fill out this form to make an announcement to all active users of this service.").Append(
		field("text-single", "subject", "Subject", false),
		field("text-multi", "announcement", "Announcement", true))
}

// account parses a form value naming an account of a served domain: a
// bare JID with a localpart (XEP-0133: "user@host", not a full JID).
func (a *admin) account(v string) (jid.JID, error) {
	j, err := jid.Parse(strings.TrimSpace(v))
	if err != nil || j.Local() == "" || j.IsFull() {
		return jid.JID{}, badPayload(fmt.Sprintf("%q is not an account (user@domain)", v))
	}
	if !a.r.IsLocalDomain(j.Domain()) {
		return jid.JID{}, badPayload(fmt.Sprintf("%s is not an account of this server", j))
	}
	return j, nil
}

func (a *admin) addUser(ctx context.Context, _ *Call, forms []Form) (*Outcome, error) {
	f := forms[0]
	account, err := a.account(f.Value("accountjid"))
	if err != nil {
		return nil, err
	}
	if f.Value("password") != f.Value("password-verify") {
		return nil, badPayload("the passwords differ")
	}
	if err := a.accounts.CreateAccount(ctx, account, f.Value("password")); err != nil {
		if errors.Is(err, storage.ErrExists) {
			// XEP-0133, Error Handling: "a user already exists with that username".
			return nil, stanza.E(stanza.ConflictCond, account.String()+" already exists")
		}
		return nil, err
	}
	return &Outcome{Notes: []Note{{"info", "Created " + account.String() + "."}}}, nil
}

// accountJIDs parses a jid-multi field of accounts, all or none.
func (a *admin) accountJIDs(f Form) ([]jid.JID, error) {
	var out []jid.JID
	for _, v := range f["accountjids"] {
		if strings.TrimSpace(v) == "" {
			continue
		}
		j, err := a.account(v)
		if err != nil {
			return nil, err
		}
		out = append(out, j)
	}
	if len(out) == 0 {
		return nil, badPayload("name at least one account")
	}
	return out, nil
}

// deleteUser deletes each account as its user's own cancellation would
// (Accounts.DeleteAccount), then, after the result, ends its streams
// (XEP-0133 §4.2 SHOULD). Accounts that do not exist are named in an
// error note; the others are deleted anyway. A deletion that fails in
// the store is logged and named in an error note, and the command goes
// on: failing it as a whole would leave the accounts already deleted
// with their streams running.
func (a *admin) deleteUser(ctx context.Context, _ *Call, forms []Form) (*Outcome, error) {
	accounts, err := a.accountJIDs(forms[0])
	if err != nil {
		return nil, err
	}
	var deleted, missing, failed []jid.JID
	for _, j := range accounts {
		switch err := a.accounts.DeleteAccount(ctx, j); {
		case errors.Is(err, storage.ErrNotFound):
			missing = append(missing, j)
		case err != nil:
			a.log.Error("adhoc: delete-user failed", "account", j.String(), "err", err)
			failed = append(failed, j)
		default:
			deleted = append(deleted, j)
		}
	}
	out := &Outcome{AfterReply: func() {
		for _, j := range deleted {
			a.accounts.EndSessions(j)
		}
	}}
	if len(deleted) > 0 {
		out.Notes = append(out.Notes, Note{"info", "Deleted " + joinJIDs(deleted) + "."})
	}
	if len(missing) > 0 {
		// XEP-0050, Commands Successful/Failed: a command that completes
		// but fails says so in an error note.
		out.Notes = append(out.Notes, Note{"error", "No such account: " + joinJIDs(missing) + "."})
	}
	if len(failed) > 0 {
		out.Notes = append(out.Notes, Note{"error", "Not deleted (see the server log): " + joinJIDs(failed) + "."})
	}
	return out, nil
}

func (a *admin) changePassword(ctx context.Context, _ *Call, forms []Form) (*Outcome, error) {
	f := forms[0]
	account, err := a.account(f.Value("accountjid"))
	if err != nil {
		return nil, err
	}
	switch err := a.accounts.SetPassword(ctx, account, f.Value("password")); {
	case errors.Is(err, storage.ErrNotFound):
		return &Outcome{Notes: []Note{{"error", "No such account: " + account.String() + "."}}}, nil
	case err != nil:
		return nil, err
	}
	return &Outcome{Notes: []Note{{"info", "Changed the password of " + account.String() + "."}}}, nil
}

// endSession ends every stream of a bare JID, or the one of a full JID
// (XEP-0133 §4.5), after the result, with the policy-violation stream
// error (RFC 6120 §4.9.3.14: a local policy; the user may log in again).
func (a *admin) endSession(_ context.Context, _ *Call, forms []Form) (*Outcome, error) {
	var sessions []*router.Session
	for _, v := range forms[0]["accountjids"] {
		if strings.TrimSpace(v) == "" {
			continue
		}
		j, err := jid.Parse(strings.TrimSpace(v))
		if err != nil || j.Local() == "" || !a.r.IsLocalDomain(j.Domain()) {
			return nil, badPayload(fmt.Sprintf("%q is not an account of this server", v))
		}
		if j.IsFull() {
			if s := a.r.Session(j); s != nil {
				sessions = append(sessions, s)
			}
			continue
		}
		sessions = append(sessions, a.r.Sessions(j.String())...)
	}
	return &Outcome{
		Notes:      []Note{{"info", fmt.Sprintf("Ending %d session(s).", len(sessions))}},
		AfterReply: func() { closeAll(sessions, stream.PolicyViolation) },
	}, nil
}

func closeAll(sessions []*router.Session, cond stream.Condition) {
	for _, s := range sessions {
		s.Close(string(cond))
	}
}

func resultForm(fields ...*xml.Element) *xml.Element {
	return newForm("result", NSAdmin, "", "").Append(nodes(fields)...)
}

func nodes(els []*xml.Element) []xml.Node {
	out := make([]xml.Node, len(els))
	for i, e := range els {
		out[i] = e
	}
	return out
}

// registeredNum counts the accounts of the domain the command went to
// (disabled ones included: they are registered), in the store, without
// listing them.
func (a *admin) registeredNum(ctx context.Context, c *Call, _ []Form) (*Outcome, error) {
	n, err := a.users.CountUsers(ctx, c.Server.Domain())
	if err != nil {
		return nil, err
	}
	return &Outcome{Form: resultForm(
		field("text-single", "registeredusersnum", "The number of registered users", false, strconv.Itoa(n)))}, nil
}

// onlineNum counts the accounts of the domain with a bound session.
func (a *admin) onlineNum(_ context.Context, c *Call, _ []Form) (*Outcome, error) {
	_, accounts, _ := a.r.OnlineAccounts(c.Server.Domain(), 0)
	return &Outcome{Form: resultForm(
		field("text-single", "onlineusersnum", "The number of online users", false, strconv.Itoa(accounts)))}, nil
}

func (a *admin) onlineList(_ context.Context, c *Call, forms []Form) (*Outcome, error) {
	max, err := maxItems(forms[0])
	if err != nil {
		return nil, err
	}
	bares, accounts, _ := a.r.OnlineAccounts(c.Server.Domain(), max)
	out := &Outcome{Form: resultForm(field("jid-multi", "onlineuserjids", "The list of all online users", false, bares...))}
	if accounts > len(bares) {
		out.Notes = []Note{{"warn", fmt.Sprintf("Showing %d of %d online users.", len(bares), accounts)}}
	}
	return out, nil
}

// announce sends a headline message from the domain to every available
// session of the domain's online accounts (XEP-0133 §4.23, Send Announcement
// to Active Users).
func (a *admin) announce(_ context.Context, c *Call, forms []Form) (*Outcome, error) {
	f := forms[0]
	body := strings.Join(f["announcement"], "\n")
	if len(body)+len(f.Value("subject")) > maxAnnouncementBytes {
		return nil, badPayload("the announcement is longer than " + strconv.Itoa(maxAnnouncementBytes) + " bytes")
	}
	bares, _, _ := a.r.OnlineAccounts(c.Server.Domain(), -1)
	sent := 0
	for _, bare := range bares {
		to, err := jid.Parse(bare)
		if err != nil {
			continue
		}
		msg := xml.New(stanza.NSClient, "message", "type", "headline", "from", c.Server.String(), "to", bare)
		if subj := f.Value("subject"); subj != "" {
			msg.Append(xml.New(stanza.NSClient, "subject").AppendText(subj))
		}
		msg.Append(xml.New(stanza.NSClient, "body").AppendText(body))
		sent += a.r.SendTo(to, msg)
	}
	return &Outcome{Notes: []Note{{"info", fmt.Sprintf("Sent to %d session(s).", sent)}}}, nil
}

func joinJIDs(js []jid.JID) string {
	s := make([]string, len(js))
	for i, j := range js {
		s[i] = j.String()
	}
	return strings.Join(s, ", ")
}
