package mam

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/storage"
	"github.com/skald-xmpp/skald/storage/memory"
)

// appendLog is a store recording the owners of the items of each
// AppendArchive call (each call is one transaction); it can fail calls.
type appendLog struct {
	*memory.Store
	mu    sync.Mutex
	calls []string // "alice,bob" per call, local parts in item order
	fail  bool
}

func (s *appendLog) AppendArchive(ctx context.Context, msgs []*storage.ArchivedMessage) error {
	var owners []string
	for _, m := range msgs {
		owners = append(owners, strings.TrimSuffix(m.Owner, "@example.com"))
	}
	s.mu.Lock()
	s.calls = append(s.calls, strings.Join(owners, ","))
	fail := s.fail
	s.mu.Unlock()
	if fail {
		return errors.New("disk on fire")
	}
	return s.Store.AppendArchive(ctx, msgs)
}

func (s *appendLog) take() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := fmt.Sprint(s.calls)
	s.calls = nil
	return out
}

// TestOneAppendPerMessage: a message between two local accounts is made
// durable in both archives by one AppendArchive call (one commit), the
// sender's item first, with the same items, ids and stanza-ids as two
// separate appends would give; an archive that does not take the message
// is simply left out of the call.
func TestOneAppendPerMessage(t *testing.T) {
	never := &storage.ArchivePrefs{Default: "never"}
	tests := []struct {
		name             string
		alicePrefs       *storage.ArchivePrefs
		bobPrefs         *storage.ArchivePrefs
		to               string
		wantCalls        string
		wantSenderID     int64 // item id in alice's archive, 0: none
		wantRecipientID  int64 // item id of bob's stanza-id, 0: none
		wantBobDelivered bool
	}{
		{name: "both archives", to: "bob@example.com", wantCalls: "[alice,bob]",
			wantSenderID: 1, wantRecipientID: 2, wantBobDelivered: true},
		{name: "recipient archives nothing", bobPrefs: never, to: "bob@example.com", wantCalls: "[alice]",
			wantSenderID: 1, wantBobDelivered: true},
		{name: "sender archives nothing", alicePrefs: never, to: "bob@example.com", wantCalls: "[bob]",
			wantRecipientID: 1, wantBobDelivered: true},
		{name: "neither", alicePrefs: never, bobPrefs: never, to: "bob@example.com", wantCalls: "[]",
			wantBobDelivered: true},
		{name: "to oneself: once", to: "alice@example.com", wantCalls: "[alice]", wantSenderID: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mem := memory.New()
			st := &appendLog{Store: mem}
			e := newEnvStore(t, DefaultConfig(), st, mem)
			for owner, p := range map[string]*storage.ArchivePrefs{"alice@example.com": tc.alicePrefs, "bob@example.com": tc.bobPrefs} {
				if p != nil {
					if err := mem.SetArchivePrefs(e.ctx, owner, *p); err != nil {
						t.Fatal(err)
					}
				}
			}
			alice, _ := e.login("alice@example.com/a")
			_, brec := e.login("bob@example.com/b")
			e.send(alice, `<message to='`+tc.to+`' type='chat' id='m1'><body>hi</body><origin-id xmlns='urn:xmpp:sid:0' id='o1'/></message>`)
			if got := st.take(); got != tc.wantCalls {
				t.Errorf("AppendArchive calls %s, want %s", got, tc.wantCalls)
			}
			wantSender := ""
			if tc.wantSenderID != 0 {
				wantSender = e.id(tc.wantSenderID)
			}
			if fmt.Sprint(e.probe.senderID) != fmt.Sprint([]string{wantSender}) {
				t.Errorf("SenderArchiveID %v, want %q", e.probe.senderID, wantSender)
			}
			got := brec.take()
			if !tc.wantBobDelivered {
				if len(got) != 0 {
					t.Fatalf("bob got %d stanzas", len(got))
				}
				return
			}
			if len(got) != 1 {
				t.Fatalf("bob got %d stanzas", len(got))
			}
			sid := got[0].Child(NSSID, "stanza-id")
			switch {
			case tc.wantRecipientID == 0 && sid != nil:
				t.Errorf("unarchived message delivered with %s", sid)
			case tc.wantRecipientID != 0 && (sid.Attr("id") != e.id(tc.wantRecipientID) || sid.Attr("by") != "bob@example.com"):
				t.Errorf("stanza-id %s, want item %d by bob", sid, tc.wantRecipientID)
			}
			if fmt.Sprint(e.probe.archived) != fmt.Sprint([]bool{tc.wantRecipientID != 0}) {
				t.Errorf("Archived %v", e.probe.archived)
			}
		})
	}
}

// TestOneAppendFailureArchivesNothing: the one call fails as a whole, so
// neither archive keeps a message that was bounced.
func TestOneAppendFailureArchivesNothing(t *testing.T) {
	mem := memory.New()
	st := &appendLog{Store: mem, fail: true}
	e := newEnvStore(t, DefaultConfig(), st, mem)
	alice, arec := e.login("alice@example.com/a")
	_, brec := e.login("bob@example.com/b")
	e.send(alice, `<message to='bob@example.com' type='chat' id='m1'><body>x</body></message>`)
	if got := st.take(); got != "[alice,bob]" {
		t.Errorf("AppendArchive calls %s", got)
	}
	if n := len(brec.take()); n != 0 {
		t.Errorf("bob got %d stanzas", n)
	}
	if got := arec.take(); len(got) != 1 || got[0].Attr("type") != "error" {
		t.Errorf("alice got %v, want one bounce", got)
	}
	if a, b := len(e.items("alice@example.com")), len(e.items("bob@example.com")); a != 0 || b != 0 {
		t.Errorf("archives hold %d and %d items", a, b)
	}
}

// TestResendAfterRecipientPurge: a resend is recognised per archive; the
// one that lost the item (the recipient purged it) gets it again alone.
func TestResendAfterRecipientPurge(t *testing.T) {
	mem := memory.New()
	st := &appendLog{Store: mem}
	e := newEnvStore(t, DefaultConfig(), st, mem)
	alice, _ := e.login("alice@example.com/a")
	_, brec := e.login("bob@example.com/b")
	msg := `<message to='bob@example.com' type='chat'><body>hello</body><origin-id xmlns='urn:xmpp:sid:0' id='o1'/></message>`
	e.send(alice, msg)
	if _, err := mem.PurgeArchive(e.ctx, "bob@example.com", "", t0.AddDate(1, 0, 0)); err != nil {
		t.Fatal(err)
	}
	e.send(alice, msg)
	if got := st.take(); got != "[alice,bob bob]" {
		t.Errorf("AppendArchive calls %s", got)
	}
	if e.probe.senderID[0] != e.id(1) || e.probe.senderID[1] != e.id(1) {
		t.Errorf("sender ids %v", e.probe.senderID)
	}
	got := brec.take()
	if len(got) != 2 || got[1].Child(NSSID, "stanza-id").Attr("id") != e.id(3) {
		t.Fatalf("bob got %v", got)
	}
}

// onceLog is an appendLog that claims to check resends inside the append
// (as storage/sqlite does), so that the archive module takes batches
// whole; it finds none.
type onceLog struct{ appendLog }

func (s *onceLog) AppendArchiveOnce(ctx context.Context, msgs []*storage.ArchivedMessage) ([]bool, error) {
	return make([]bool, len(msgs)), s.AppendArchive(ctx, msgs)
}

// TestOneAppendPerBatch: messages a client sent back to back
// (HandleMessagesFromClient) are archived by one AppendArchive call for the
// whole batch, in the batch's order; a message that bounces before the
// archive step is left out, and every delivered copy carries its own item's
// stanza-id.
func TestOneAppendPerBatch(t *testing.T) {
	mem := memory.New()
	st := &onceLog{appendLog{Store: mem}}
	e := newEnvStore(t, DefaultConfig(), st, mem)
	alice, arec := e.login("alice@example.com/a")
	_, brec := e.login("bob@example.com/b")
	_, crec := e.login("carol@example.com/c")
	batch := []string{
		`<message to='bob@example.com' type='chat' id='m1'><body>1</body></message>`,
		`<message to='carol@example.com' type='chat' id='m2'><body>2</body></message>`,
		`<message to='nobody@example.com' type='chat' id='m3'><body>3</body></message>`,
		`<message to='bob@example.com' type='chat' id='m4'><body>4</body></message>`,
	}
	sts := make([]*xml.Element, len(batch))
	for i, raw := range batch {
		sts[i] = parseXML(t, raw)
	}
	n, err := e.r.HandleMessagesFromClient(e.ctx, alice, sts)
	if err != nil || n != len(sts) {
		t.Fatalf("HandleMessagesFromClient = %d, %v", n, err)
	}
	if got := st.take(); got != "[alice,bob,alice,carol,alice,bob]" {
		t.Errorf("AppendArchive calls %s, want one for the batch", got)
	}
	wantStanzaID := map[string]int64{"m1": 2, "m2": 4, "m4": 6}
	for name, rec := range map[string]*recorder{"bob": brec, "carol": crec} {
		for _, got := range rec.take() {
			id := got.Attr("id")
			sid := got.Child(NSSID, "stanza-id")
			if sid == nil || sid.Attr("id") != e.id(wantStanzaID[id]) || sid.Attr("by") != name+"@example.com" {
				t.Errorf("%s got %s with %v, want item %d", name, id, sid, wantStanzaID[id])
			}
			delete(wantStanzaID, id)
		}
	}
	if len(wantStanzaID) != 0 {
		t.Errorf("not delivered: %v", wantStanzaID)
	}
	if got := arec.take(); len(got) != 1 || got[0].Attr("id") != "m3" || got[0].Attr("type") != "error" {
		t.Errorf("alice got %v, want one bounce of m3", got)
	}
	if want := []string{e.id(1), e.id(3), e.id(5)}; fmt.Sprint(e.probe.senderID) != fmt.Sprint(want) {
		t.Errorf("sender ids %v, want %v", e.probe.senderID, want)
	}
}

// TestResendInsideBatch: a store that checks resends only before the
// append (the memory store) gets a batch one message at a time, so a
// client's retry in the same batch is still archived once.
func TestResendInsideBatch(t *testing.T) {
	mem := memory.New()
	st := &appendLog{Store: mem}
	e := newEnvStore(t, DefaultConfig(), st, mem)
	alice, _ := e.login("alice@example.com/a")
	_, brec := e.login("bob@example.com/b")
	msg := `<message to='bob@example.com' type='chat'><body>hello</body><origin-id xmlns='urn:xmpp:sid:0' id='o1'/></message>`
	n, err := e.r.HandleMessagesFromClient(e.ctx, alice, []*xml.Element{parseXML(t, msg), parseXML(t, msg)})
	if err != nil || n != 2 {
		t.Fatalf("HandleMessagesFromClient = %d, %v", n, err)
	}
	if got := st.take(); got != "[alice,bob]" {
		t.Errorf("AppendArchive calls %s, want one", got)
	}
	got := brec.take()
	if len(got) != 2 || got[0].Child(NSSID, "stanza-id").Attr("id") != got[1].Child(NSSID, "stanza-id").Attr("id") {
		t.Fatalf("bob got %v, want both copies with the one item's stanza-id", got)
	}
}
