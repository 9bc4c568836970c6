package adhoc

import (
	"context"
	"log/slog"
	"strings"
	"time"

	"github.com/skald-xmpp/skald/disco"
	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/jid"
	"github.com/skald-xmpp/skald/router"
	"github.com/skald-xmpp/skald/stanza"
)

// NS is the Ad-Hoc Commands namespace, and the disco node of the list of
// commands (XEP-0050, Retrieving the Command List).
const NS = "http://jabber.org/protocol/commands"

// Command is one ad-hoc command of the server.
type Command struct {
	// Node identifies the command (XEP-0050, Command Nodes); Name labels it in
	// clients' menus.
	Node, Name string
	// Admin commands are listed to and run by administrators only.
	Admin bool
	// Local commands are listed to and run by the accounts of the
	// domain they are sent to only (a user's own settings).
	Local bool
	// Stages are the forms the requester fills in, in order; a command
	// without stages completes at once.
	Stages []func(ctx context.Context, c *Call) *xml.Element
	// Complete runs the command with the submitted forms, one per stage.
	// A *stanza.Error refuses the last form: the session stays at its
	// stage, so that the requester may correct it. Any other error is
	// internal-server-error and ends nothing either.
	Complete func(ctx context.Context, c *Call, forms []Form) (*Outcome, error)
}

// Call is one request of a command session.
type Call struct {
	Server    jid.JID // the domain the command was sent to
	Requester jid.JID // the requester's full JID
}

// Outcome is what a completed command answers.
type Outcome struct {
	Notes []Note
	// Form is a data form of type result, or nil.
	Form *xml.Element
	// AfterReply runs once the completed result is queued for the
	// requester (ending streams, the requester's own perhaps).
	AfterReply func()
}

// Note is a <note/> of a command result (XEP-0050, the note element).
type Note struct {
	Type string // "info", "warn" or "error"
	Text string
}

// Module serves the server's ad-hoc commands.
type Module struct {
	cfg      Config
	admins   map[string]bool
	commands []*Command
	byNode   map[string]*Command
	log      *slog.Logger
	sessions *sessionTable
	motd     *motd // nil until AddAdminCommands
}

// New returns the module with no commands; Add gives it some
// (AdminCommands, XEP-0133). admins are bare JIDs.
func New(cfg Config, admins []string, log *slog.Logger) *Module {
	if log == nil {
		log = slog.Default()
	}
	m := &Module{cfg: cfg, admins: map[string]bool{}, byNode: map[string]*Command{}, log: log,
		sessions: newSessionTable(cfg, time.Now)}
	for _, a := range admins {
		m.admins[a] = true
	}
	return m
}

// Add registers commands, listed in this order. It must be called
// before serving.
func (m *Module) Add(cmds ...*Command) {
	for _, c := range cmds {
		m.commands = append(m.commands, c)
		m.byNode[c.Node] = c
	}
}

// Name implements router.Module.
func (*Module) Name() string { return "adhoc" }

// DiscoFeatures implements router.FeatureProvider (XEP-0050, Discovering Support).
func (*Module) DiscoFeatures() (server, account []string) { return []string{NS}, nil }

// RegisterIQ implements router.IQRegistrar: commands go to the server's
// domain.
func (m *Module) RegisterIQ(r *router.Router) {
	r.HandleIQ(stanza.TypeSet, NS, "command", router.ToServer, router.IQHandlerFunc(m.handle))
}

// SessionEnded implements router.SessionObserver: a requester's command
// sessions end with its stream (they are bound to its full JID).
func (m *Module) SessionEnded(_ context.Context, s *router.Session) { m.sessions.dropOwner(s.JID()) }

// SessionAvailable implements router.AvailabilityObserver: the message
// of the day goes to each session at its initial presence.
func (m *Module) SessionAvailable(ctx context.Context, s *router.Session) {
	if m.motd == nil {
		return
	}
	if err := m.motd.deliver(ctx, s); err != nil {
		m.log.Error("adhoc: message of the day not sent", "to", s.JID().String(), "err", err)
	}
}

// SessionBound implements router.SessionObserver.
func (m *Module) SessionBound(context.Context, *router.Session) {}

// IsAdmin reports whether requester's account is an administrator.
func (m *Module) IsAdmin(requester jid.JID) bool { return m.admins[requester.Bare().String()] }

func (m *Module) may(server, requester jid.JID, c *Command) bool {
	if c.Local && (requester.Local() == "" || requester.Domain() != server.Domain()) {
		return false
	}
	return !c.Admin || m.IsAdmin(requester)
}

// DiscoServerNodeItems implements disco.ServerNodeProvider: the commands
// requester may run (XEP-0050, Retrieving the Command List), under the commands node.
func (m *Module) DiscoServerNodeItems(_ context.Context, server, requester jid.JID, node string) ([]disco.Item, bool, error) {
	if node != NS {
		return nil, false, nil
	}
	var items []disco.Item
	for _, c := range m.commands {
		if m.may(server, requester, c) {
			items = append(items, disco.Item{JID: server.String(), Node: c.Node, Name: c.Name})
		}
	}
	return items, true, nil
}

// DiscoServerNodeInfo implements disco.ServerNodeProvider: the commands
// node is an automation/command-list; a command node an
// automation/command-node, forbidden to who may not run it (SHOULD).
func (m *Module) DiscoServerNodeInfo(_ context.Context, server, requester jid.JID, node string) ([]disco.Identity, []string, bool, error) {
	if node == NS {
		return []disco.Identity{{Category: "automation", Type: "command-list"}}, []string{NS}, true, nil
	}
	c := m.byNode[node]
	if c == nil {
		return nil, nil, false, nil
	}
	if !m.may(server, requester, c) {
		return nil, nil, false, stanza.E(stanza.Forbidden, "")
	}
	return []disco.Identity{{Category: "automation", Type: "command-node", Name: c.Name}}, []string{NS, NSData}, true, nil
}

// The actions of XEP-0050's command element.
const (
	actExecute  = "execute"
	actCancel   = "cancel"
	actPrev     = "prev"
	actNext     = "next"
	actComplete = "complete"
)

func (m *Module) handle(ctx context.Context, iq *router.IQ) (*xml.Element, error) {
	el := iq.Payload
	node := el.Attr("node")
	if node == "" {
		return nil, stanza.E(stanza.BadRequest, "the command has no node")
	}
	c := m.byNode[node]
	if c == nil {
		return nil, stanza.E(stanza.ItemNotFound, "")
	}
	if !m.may(iq.To, iq.From, c) {
		return nil, stanza.E(stanza.Forbidden, "")
	}
	action := el.Attr("action")
	switch action {
	case "", actExecute, actCancel, actPrev, actNext, actComplete:
	default:
		return nil, cmdError(stanza.BadRequest, "malformed-action", "")
	}
	lang := el.Lang()
	if lang == "" {
		lang = iq.Stanza.Lang()
	}
	call := &Call{Server: iq.To, Requester: iq.From}
	sid := el.Attr("sessionid")
	if sid == "" {
		if action != "" && action != actExecute {
			return nil, cmdError(stanza.BadRequest, "bad-action", "start the command with execute")
		}
		return m.start(ctx, iq, c, call, lang)
	}
	s, err := m.sessions.checkOut(sid, iq.From, node)
	if err != nil {
		return nil, err
	}
	reply, done, err := m.step(ctx, iq, c, call, s, action, lang)
	if done {
		m.sessions.end(s)
	} else {
		m.sessions.checkIn(s)
	}
	return reply, err
}

// start begins a session: the first form, or the outcome at once.
func (m *Module) start(ctx context.Context, iq *router.IQ, c *Command, call *Call, lang string) (*xml.Element, error) {
	if len(c.Stages) == 0 {
		sid := m.sessions.oneShot(call.Requester)
		return m.complete(ctx, iq, c, call, sid, nil)
	}
	s, err := m.sessions.start(call.Requester, c.Node, lang)
	if err != nil {
		return nil, err
	}
	reply := m.showStage(ctx, iq, c, call, s)
	m.sessions.checkIn(s)
	return reply, nil
}

// step moves a checked-out session on; done reports that it ended.
func (m *Module) step(ctx context.Context, iq *router.IQ, c *Command, call *Call, s *session, action, lang string) (reply *xml.Element, done bool, err error) {
	if lang != "" && s.lang != "" && !strings.EqualFold(lang, s.lang) {
		// XEP-0050, Internationalization and Localization: a
		// session keeps the first language asked for.
		return nil, false, cmdError(stanza.BadRequest, "bad-locale", "a session keeps the language it started with")
	}
	last := s.stage == len(c.Stages)-1
	if action == "" || action == actExecute {
		action = actNext
		if last {
			action = actComplete
		}
	}
	switch action {
	case actCancel:
		return commandReply(iq, c.Node, s.id, "canceled"), true, nil
	case actPrev:
		if s.stage == 0 {
			return nil, false, cmdError(stanza.BadRequest, "bad-action", "this is the first stage")
		}
		s.stage--
		s.forms = s.forms[:s.stage]
		return m.showStage(ctx, iq, c, call, s), false, nil
	case actNext:
		if last {
			return nil, false, cmdError(stanza.BadRequest, "bad-action", "this is the last stage: complete it")
		}
		f, err := submitted(iq.Payload, c.Stages[s.stage](ctx, call))
		if err != nil {
			return nil, false, err
		}
		s.forms = append(s.forms, f)
		s.stage++
		return m.showStage(ctx, iq, c, call, s), false, nil
	default: // complete
		if !last {
			return nil, false, cmdError(stanza.BadRequest, "bad-action", "there are more stages")
		}
		f, err := submitted(iq.Payload, c.Stages[s.stage](ctx, call))
		if err != nil {
			return nil, false, err
		}
		reply, err := m.complete(ctx, iq, c, call, s.id, append(s.forms[:len(s.forms):len(s.forms)], f))
		return reply, err == nil, err
	}
}

func (m *Module) complete(ctx context.Context, iq *router.IQ, c *Command, call *Call, sid string, forms []Form) (*xml.Element, error) {
	out, err := c.Complete(ctx, call, forms)
	if err != nil {
		return nil, err
	}
	if out == nil {
		out = &Outcome{}
	}
	reply := commandReply(iq, c.Node, sid, "completed")
	cmd := reply.FirstElement()
	for _, n := range out.Notes {
		cmd.Append(xml.New(NS, "note", "type", n.Type).AppendText(n.Text))
	}
	if out.Form != nil {
		cmd.Append(out.Form)
	}
	iq.AfterReply = out.AfterReply
	return reply, nil
}

// showStage answers the form of s's stage with the actions allowed there
// (XEP-0050, Command Actions: <actions/> SHOULD be included;
// execute names the default).
func (m *Module) showStage(ctx context.Context, iq *router.IQ, c *Command, call *Call, s *session) *xml.Element {
	reply := commandReply(iq, c.Node, s.id, "executing")
	acts := xml.New(NS, "actions")
	if s.stage > 0 {
		acts.Append(xml.New(NS, actPrev))
	}
	if s.stage < len(c.Stages)-1 {
		acts.SetAttr("execute", actNext)
		acts.Append(xml.New(NS, actNext))
	} else {
		acts.SetAttr("execute", actComplete)
		acts.Append(xml.New(NS, actComplete))
	}
	reply.FirstElement().Append(acts, c.Stages[s.stage](ctx, call))
	return reply
}

// commandReply is the result carrying <command/> with its status; the
// language is always English (see doc.go).
func commandReply(iq *router.IQ, node, sid, status string) *xml.Element {
	cmd := xml.New(NS, "command", "node", node, "sessionid", sid, "status", status)
	cmd.Attrs = append(cmd.Attrs, xml.Attr{Space: xml.NSXML, Local: "lang", Value: "en"})
	return stanza.Result(iq.Stanza).Append(cmd)
}
