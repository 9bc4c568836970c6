package adhoc

import (
	"context"

	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/jid"
)

// NodePushGroupchat is the node of the user command that chooses which
// group chat messages wake the user's phone (XEP-0357 pushes; push
// package doc, "Group chats").
const NodePushGroupchat = "https://skald.im/commands#push-groupchat"

// PushSettings is what the push module lets an account choose for
// itself; push.Module implements it and internal/server wires it. Modes
// are "mentions", "all", "none", and "" for the server's.
type PushSettings interface {
	GroupchatSetting(ctx context.Context, account jid.JID) (own, effective string, err error)
	SetGroupchatSetting(ctx context.Context, account jid.JID, mode string) error
}

// pushDefault is the form's value for "the server's choice".
const pushDefault = "default"

// AddPushCommand adds the user command NodePushGroupchat: one form
// showing the account's choice (its own, or the server's) to change.
func (m *Module) AddPushCommand(p PushSettings) {
	pc := &pushCommand{m: m, p: p}
	m.Add(&Command{
		Node: NodePushGroupchat, Name: "Push notifications for group chats", Local: true,
		Stages:   []func(context.Context, *Call) *xml.Element{pc.form},
		Complete: pc.complete,
	})
}

type pushCommand struct {
	m *Module
	p PushSettings
}

func (pc *pushCommand) form(ctx context.Context, call *Call) *xml.Element {
	own, effective, err := pc.p.GroupchatSetting(ctx, call.Requester)
	if err != nil {
		// The form still lets the user set it; the store said why.
		pc.m.log.Error("adhoc: push setting unreadable", "account", call.Requester.Bare().String(), "err", err)
		effective = "unknown"
	}
	if own == "" {
		own = pushDefault
	}
	x := newForm("form", "", "Push notifications for group chats",
		"Which group chat messages wake your phone while its app sleeps (now: "+effective+").")
	f := field("list-single", "groupchat", "Group chat messages that push", true, own)
	option(f, "The server's choice", pushDefault)
	option(f, "Those that mention my nick or address", "mentions")
	option(f, "All of them", "all")
	option(f, "None", "none")
	return x.Append(f)
}

func (pc *pushCommand) complete(ctx context.Context, call *Call, forms []Form) (*Outcome, error) {
	mode := forms[0].Value("groupchat")
	switch mode {
	case pushDefault:
		mode = ""
	case "mentions", "all", "none":
	default:
		return nil, badPayload("groupchat: choose one of the options")
	}
	if err := pc.p.SetGroupchatSetting(ctx, call.Requester, mode); err != nil {
		return nil, err
	}
	_, effective, err := pc.p.GroupchatSetting(ctx, call.Requester)
	if err != nil {
		return nil, err
	}
	return &Outcome{Notes: []Note{{Type: "info", Text: "Group chat messages that push: " + effective + "."}}}, nil
}
