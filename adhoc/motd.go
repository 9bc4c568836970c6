package adhoc

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"

	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/router"
	"github.com/skald-xmpp/skald/stanza"
	"github.com/skald-xmpp/skald/storage"
)

// motdKind is the storage.Documents kind of a domain's message of the
// day; the owner is the domain itself (no account JID is a bare domain),
// the key "", the bytes the text as UTF-8 (backends keep them opaque).
const motdKind = "motd"

// maxMOTDBytes bounds the message of the day: it goes to every login.
const maxMOTDBytes = 4096

// motd keeps each domain's message of the day (XEP-0133 §4.24-4.26),
// read from the store once per domain and then served from memory. mu
// is a leaf; no I/O under it.
type motd struct {
	docs storage.Documents
	r    *router.Router // the sessions online when it is set

	// setMu serializes sets, store write and memory together: two
	// administrators setting it at once must leave the same text in
	// memory (sent at each login) and in the store (after a restart).
	setMu sync.Mutex

	mu    sync.Mutex
	texts map[string]string // domain -> text ("" = none); absent = not read yet
}

func newMOTD(docs storage.Documents, r *router.Router) *motd {
	return &motd{docs: docs, r: r, texts: map[string]string{}}
}

func (m *motd) get(ctx context.Context, domain string) (string, error) {
	m.mu.Lock()
	text, ok := m.texts[domain]
	m.mu.Unlock()
	if ok {
		return text, nil
	}
	b, err := m.docs.Document(ctx, domain, motdKind, "")
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return "", err
	}
	m.mu.Lock()
	if _, ok := m.texts[domain]; !ok { // a set meanwhile wins
		m.texts[domain] = string(b)
	}
	text = m.texts[domain]
	m.mu.Unlock()
	return text, nil
}

// set stores text ("" deletes the message: an empty document).
func (m *motd) set(ctx context.Context, domain, text string) error {
	m.setMu.Lock()
	defer m.setMu.Unlock()
	if err := m.docs.PutDocuments(ctx, domain, motdKind, []storage.Document{{XML: []byte(text)}}, 0); err != nil {
		return err
	}
	m.mu.Lock()
	m.texts[domain] = text
	m.mu.Unlock()
	return nil
}

// deliver sends the domain's message of the day to a session that has
// just become available: a headline from the domain.
func (m *motd) deliver(ctx context.Context, s *router.Session) error {
	domain := s.JID().Domain()
	text, err := m.get(ctx, domain)
	if err != nil || text == "" {
		return err
	}
	return s.Send(motdMessage(domain, s.JID().String(), text))
}

func motdMessage(domain, to, text string) *xml.Element {
	msg := xml.New(stanza.NSClient, "message", "type", "headline", "from", domain, "to", to)
	msg.Append(xml.New(stanza.NSClient, "subject").AppendText("Message of the Day"))
	msg.Append(xml.New(stanza.NSClient, "body").AppendText(text))
	return msg
}

// sendOnline sends a message of the day just set to the domain's
// available sessions: XEP-0133 §4.24 (note) has it "sent immediately to
// users who are online when the message is set"; later logins get it
// from deliver.
func (m *motd) sendOnline(domain, text string) {
	bares, _, _ := m.r.OnlineAccounts(domain, -1)
	for _, bare := range bares {
		for _, s := range m.r.Sessions(bare) {
			if s.Available() {
				s.Send(motdMessage(domain, s.JID().String(), text)) // a closed session has logged out
			}
		}
	}
}

func (m *motd) commands() []*Command {
	return []*Command{
		{Node: NSAdmin + "#set-motd", Name: "Set Message of the Day", Admin: true, Stages: []func(context.Context, *Call) *xml.Element{m.form(false)}, Complete: m.setFromForm},
		{Node: NSAdmin + "#edit-motd", Name: "Edit Message of the Day", Admin: true, Stages: []func(context.Context, *Call) *xml.Element{m.form(true)}, Complete: m.setFromForm},
		{Node: NSAdmin + "#delete-motd", Name: "Delete Message of the Day", Admin: true, Complete: m.delete},
	}
}

// form is set-motd's form, or edit-motd's with the current text in it
// (a store that cannot be read shows it empty; the log has the cause when
// logins read it).
func (m *motd) form(edit bool) func(context.Context, *Call) *xml.Element {
	return func(ctx context.Context, c *Call) *xml.Element {
		var values []string
		if edit {
			if text, err := m.get(ctx, c.Server.Domain()); err == nil && text != "" {
				values = strings.Split(text, "\n")
			}
		}
		return adminForm("Setting the Message of the Day", "Fill out this form to set the message of the day, sent to every user at login.").Append(
			field("text-multi", "motd", "Message of the Day", true, values...))
	}
}

func (m *motd) setFromForm(ctx context.Context, c *Call, forms []Form) (*Outcome, error) {
	text := strings.Join(forms[0]["motd"], "\n")
	if len(text) > maxMOTDBytes {
		return nil, badPayload("the message of the day is longer than " + strconv.Itoa(maxMOTDBytes) + " bytes")
	}
	if err := m.set(ctx, c.Server.Domain(), text); err != nil {
		return nil, err
	}
	m.sendOnline(c.Server.Domain(), text)
	return &Outcome{Notes: []Note{{"info", "The message of the day of " + c.Server.Domain() + " is set."}}}, nil
}

func (m *motd) delete(ctx context.Context, c *Call, _ []Form) (*Outcome, error) {
	if err := m.set(ctx, c.Server.Domain(), ""); err != nil {
		return nil, err
	}
	return &Outcome{Notes: []Note{{"info", "The message of the day of " + c.Server.Domain() + " is deleted."}}}, nil
}
