package storagetest

import (
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/skald-xmpp/skald/storage"
)

func pepConfig(maxItems int) storage.PEPNodeConfig {
	return storage.PEPNodeConfig{AccessModel: storage.AccessPresence, PersistItems: true, MaxItems: maxItems,
		SendLastPublishedItem: storage.SendLastOnSubAndPresence, DeliverPayloads: true}
}

func wantItemIDs(t *testing.T, what string, got []storage.PEPItem, want ...string) {
	t.Helper()
	ids := make([]string, len(got))
	for i, it := range got {
		ids[i] = it.ID
	}
	wantList(t, what, ids, want...)
}

// testPEPNodes checks node creation, the node quota, configuration,
// listing and deletion, and that owners are independent.
func testPEPNodes(t *testing.T, s storage.Store) {
	const alice, bob = "alice@example.org", "bob@example.org"
	_, err := s.PEPNode(bg, alice, "urn:xmpp:avatar:metadata")
	wantErr(t, err, storage.ErrNotFound)

	must(t, s.CreatePEPNode(bg, alice, storage.PEPNode{Name: "urn:xmpp:avatar:metadata", Config: pepConfig(1)}, 2))
	wantErr(t, s.CreatePEPNode(bg, alice, storage.PEPNode{Name: "urn:xmpp:avatar:metadata", Config: pepConfig(5)}, 2), storage.ErrExists)
	open := pepConfig(10)
	open.AccessModel, open.NotifyRetract = storage.AccessOpen, true
	must(t, s.CreatePEPNode(bg, alice, storage.PEPNode{Name: "eu.siacs.conversations.axolotl.devicelist", Config: open}, 2))
	wantErr(t, s.CreatePEPNode(bg, alice, storage.PEPNode{Name: "third", Config: pepConfig(1)}, 2), storage.ErrQuotaExceeded)
	must(t, s.CreatePEPNode(bg, bob, storage.PEPNode{Name: "urn:xmpp:avatar:metadata", Config: pepConfig(1)}, 2))

	nodes, err := s.PEPNodes(bg, alice)
	must(t, err)
	if len(nodes) != 2 || nodes[0].Name != "eu.siacs.conversations.axolotl.devicelist" || nodes[0].Config != open ||
		nodes[1].Name != "urn:xmpp:avatar:metadata" || nodes[1].Config != pepConfig(1) {
		t.Fatalf("PEPNodes = %+v", nodes)
	}
	n, err := s.PEPNode(bg, alice, "urn:xmpp:avatar:metadata")
	must(t, err)
	if n.Config != pepConfig(1) {
		t.Errorf("the failed create changed the node: %+v", n.Config)
	}

	wl := pepConfig(3)
	wl.AccessModel = storage.AccessWhitelist
	must(t, s.ConfigurePEPNode(bg, alice, "urn:xmpp:avatar:metadata", wl))
	n, _ = s.PEPNode(bg, alice, "urn:xmpp:avatar:metadata")
	if n.Config != wl {
		t.Errorf("configured node = %+v, want %+v", n.Config, wl)
	}
	wantErr(t, s.ConfigurePEPNode(bg, alice, "nope", wl), storage.ErrNotFound)

	wantErr(t, s.DeletePEPNode(bg, alice, "nope"), storage.ErrNotFound)
	must(t, s.DeletePEPNode(bg, alice, "urn:xmpp:avatar:metadata"))
	_, err = s.PEPNode(bg, alice, "urn:xmpp:avatar:metadata")
	wantErr(t, err, storage.ErrNotFound)
	if _, err := s.PEPNode(bg, bob, "urn:xmpp:avatar:metadata"); err != nil {
		t.Errorf("bob's node after alice deleted hers: %v", err)
	}
}

// testPEPItems checks publish order, replacement by id, max_items
// trimming on publish and on configure, retrieval by ids and max,
// retraction, and that deleting a node drops its items.
func testPEPItems(t *testing.T, s storage.Store) {
	const alice, node = "alice@example.org", "urn:xmpp:microblog:0"
	wantErr(t, s.PublishPEPItem(bg, alice, node, storage.PEPItem{ID: "a", Payload: []byte("<x/>")}, 0), storage.ErrNotFound)
	_, err := s.PEPItems(bg, alice, node, nil, 0)
	wantErr(t, err, storage.ErrNotFound)
	_, err = s.RetractPEPItem(bg, alice, node, "a")
	wantErr(t, err, storage.ErrNotFound)

	must(t, s.CreatePEPNode(bg, alice, storage.PEPNode{Name: node, Config: pepConfig(3)}, 0))
	items, err := s.PEPItems(bg, alice, node, nil, 0)
	must(t, err)
	wantItemIDs(t, "empty node", items)
	for _, id := range []string{"a", "b", "c"} {
		must(t, s.PublishPEPItem(bg, alice, node, storage.PEPItem{ID: id, Payload: []byte("<entry xmlns='http://www.w3.org/2005/Atom'>" + id + "</entry>")}, 0))
	}
	items, _ = s.PEPItems(bg, alice, node, nil, 0)
	wantItemIDs(t, "newest first", items, "c", "b", "a")
	if string(items[2].Payload) != "<entry xmlns='http://www.w3.org/2005/Atom'>a</entry>" {
		t.Errorf("payload = %q", items[2].Payload)
	}
	// Republishing "a" replaces it and makes it the newest.
	must(t, s.PublishPEPItem(bg, alice, node, storage.PEPItem{ID: "a", Payload: []byte("<new/>")}, 0))
	items, _ = s.PEPItems(bg, alice, node, nil, 0)
	wantItemIDs(t, "after republish", items, "a", "c", "b")
	if string(items[0].Payload) != "<new/>" {
		t.Errorf("republished payload = %q", items[0].Payload)
	}
	// A fourth id pushes the oldest ("b") out: max_items 3.
	must(t, s.PublishPEPItem(bg, alice, node, storage.PEPItem{ID: "d", Payload: []byte("<d/>")}, 0))
	items, _ = s.PEPItems(bg, alice, node, nil, 0)
	wantItemIDs(t, "after trim", items, "d", "a", "c")
	items, _ = s.PEPItems(bg, alice, node, nil, 2)
	wantItemIDs(t, "max 2", items, "d", "a")
	items, _ = s.PEPItems(bg, alice, node, []string{"c", "b", "d"}, 1)
	wantItemIDs(t, "by ids", items, "d", "c")

	removed, err := s.RetractPEPItem(bg, alice, node, "a")
	must(t, err)
	if !removed {
		t.Error("retract of a stored item reported nothing removed")
	}
	if removed, _ := s.RetractPEPItem(bg, alice, node, "a"); removed {
		t.Error("second retract reported a removal")
	}
	items, _ = s.PEPItems(bg, alice, node, nil, 0)
	wantItemIDs(t, "after retract", items, "d", "c")

	must(t, s.ConfigurePEPNode(bg, alice, node, pepConfig(1)))
	items, _ = s.PEPItems(bg, alice, node, nil, 0)
	wantItemIDs(t, "after configure to max_items 1", items, "d")

	must(t, s.DeletePEPNode(bg, alice, node))
	must(t, s.CreatePEPNode(bg, alice, storage.PEPNode{Name: node, Config: pepConfig(3)}, 0))
	items, _ = s.PEPItems(bg, alice, node, nil, 0)
	wantItemIDs(t, "recreated node", items)
}

// testPEPDeleteUser checks that DeleteUser removes the account's PEP
// nodes and items.
func testPEPDeleteUser(t *testing.T, s storage.Store) {
	const alice = "alice@example.org"
	must(t, s.CreateUser(bg, alice, cred(1)))
	must(t, s.CreatePEPNode(bg, alice, storage.PEPNode{Name: "n", Config: pepConfig(3)}, 0))
	must(t, s.PublishPEPItem(bg, alice, "n", storage.PEPItem{ID: "1", Payload: []byte("<x/>")}, 0))
	must(t, s.DeleteUser(bg, alice))
	must(t, s.CreateUser(bg, alice, cred(1)))
	nodes, err := s.PEPNodes(bg, alice)
	must(t, err)
	if len(nodes) != 0 {
		t.Errorf("nodes after DeleteUser: %+v", nodes)
	}
}

// testPEPQuota checks the per-owner byte quota of PublishPEPItem: it
// counts ids and payloads over all the owner's nodes and no one else's,
// a refused publish changes nothing (neither its item nor the trim it
// would have done), and replacing or trimming items makes room.
func testPEPQuota(t *testing.T, s storage.Store) {
	const alice, bob = "alice@example.org", "bob@example.org"
	item := func(id string, size int) storage.PEPItem {
		return storage.PEPItem{ID: id, Payload: []byte("<x>" + strings.Repeat("a", size-len(id)-7) + "</x>")}
	}
	const limit = 100
	for _, owner := range []string{alice, bob} {
		must(t, s.CreatePEPNode(bg, owner, storage.PEPNode{Name: "one", Config: pepConfig(2)}, 0))
		must(t, s.CreatePEPNode(bg, owner, storage.PEPNode{Name: "two", Config: pepConfig(5)}, 0))
	}
	must(t, s.PublishPEPItem(bg, bob, "one", item("b", 90), limit)) // bob's bytes are not alice's
	must(t, s.PublishPEPItem(bg, alice, "one", item("a", 40), limit))
	must(t, s.PublishPEPItem(bg, alice, "two", item("c", 40), limit))
	// 80 + 30 > 100: refused, nothing stored.
	wantErr(t, s.PublishPEPItem(bg, alice, "two", item("d", 30), limit), storage.ErrQuotaExceeded)
	items, _ := s.PEPItems(bg, alice, "two", nil, 0)
	wantItemIDs(t, "after refused publish", items, "c")
	// Exactly at the limit is allowed.
	must(t, s.PublishPEPItem(bg, alice, "two", item("d", 20), limit))
	// Replacing "c" (40) by a 30-byte "c" frees 10 bytes: 40+30+20 = 90.
	must(t, s.PublishPEPItem(bg, alice, "two", item("c", 30), limit))
	// Node "one" keeps 2 items, so "e" joins "a": 40+20 + 50 = 110 > 100,
	// refused, and "a" is still the only item there.
	wantErr(t, s.PublishPEPItem(bg, alice, "one", item("e", 20), limit), storage.ErrQuotaExceeded)
	items, _ = s.PEPItems(bg, alice, "one", nil, 0)
	wantItemIDs(t, "after refused publish to one", items, "a")
	// Without a quota the same publish passes.
	must(t, s.PublishPEPItem(bg, alice, "one", item("e", 20), 0))
	// Now "one" holds a+e (60), "two" c+d (50): 110. A third item in
	// "one" trims "a" (40): 20+15+50 = 85 fits, so trimming makes room.
	must(t, s.PublishPEPItem(bg, alice, "one", item("f", 15), limit))
	items, _ = s.PEPItems(bg, alice, "one", nil, 0)
	wantItemIDs(t, "after trim made room", items, "f", "e")
	// Retracting and deleting free bytes too.
	must(t, s.DeletePEPNode(bg, alice, "two"))
	must(t, s.PublishPEPItem(bg, alice, "one", item("g", 60), limit)) // trims "e": 15+60
	items, _ = s.PEPItems(bg, alice, "one", nil, 0)
	wantItemIDs(t, "after delete made room", items, "g", "f")
}

// testPEPQuotaConcurrent publishes at once to several nodes of one owner
// items that each fit the quota alone but no two together: exactly one
// may be stored, whatever the interleaving.
func testPEPQuotaConcurrent(t *testing.T, s storage.Store) {
	const alice, publishers, limit = "alice@example.org", 6, 100
	for i := range publishers {
		must(t, s.CreatePEPNode(bg, alice, storage.PEPNode{Name: strconv.Itoa(i), Config: pepConfig(1)}, 0))
	}
	errs := make(chan error, publishers)
	for i := range publishers {
		go func() {
			payload := "<x>" + strings.Repeat("a", limit/2) + "</x>"
			errs <- s.PublishPEPItem(bg, alice, strconv.Itoa(i), storage.PEPItem{ID: "i", Payload: []byte(payload)}, limit)
		}()
	}
	stored := 0
	for range publishers {
		switch err := <-errs; {
		case err == nil:
			stored++
		case !errors.Is(err, storage.ErrQuotaExceeded):
			t.Errorf("publish: %v", err)
		}
	}
	if stored != 1 {
		t.Errorf("%d publishes stored, want exactly 1", stored)
	}
}
