package storagetest

import (
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
	wantErr(t, s.PublishPEPItem(bg, alice, node, storage.PEPItem{ID: "a", Payload: []byte("<x/>")}), storage.ErrNotFound)
	_, err := s.PEPItems(bg, alice, node, nil, 0)
	wantErr(t, err, storage.ErrNotFound)
	_, err = s.RetractPEPItem(bg, alice, node, "a")
	wantErr(t, err, storage.ErrNotFound)

	must(t, s.CreatePEPNode(bg, alice, storage.PEPNode{Name: node, Config: pepConfig(3)}, 0))
	items, err := s.PEPItems(bg, alice, node, nil, 0)
	must(t, err)
	wantItemIDs(t, "empty node", items)
	for _, id := range []string{"a", "b", "c"} {
		must(t, s.PublishPEPItem(bg, alice, node, storage.PEPItem{ID: id, Payload: []byte("<entry xmlns='http://www.w3.org/2005/Atom'>" + id + "</entry>")}))
	}
	items, _ = s.PEPItems(bg, alice, node, nil, 0)
	wantItemIDs(t, "newest first", items, "c", "b", "a")
	if string(items[2].Payload) != "<entry xmlns='http://www.w3.org/2005/Atom'>a</entry>" {
		t.Errorf("payload = %q", items[2].Payload)
	}
	// Republishing "a" replaces it and makes it the newest.
	must(t, s.PublishPEPItem(bg, alice, node, storage.PEPItem{ID: "a", Payload: []byte("<new/>")}))
	items, _ = s.PEPItems(bg, alice, node, nil, 0)
	wantItemIDs(t, "after republish", items, "a", "c", "b")
	if string(items[0].Payload) != "<new/>" {
		t.Errorf("republished payload = %q", items[0].Payload)
	}
	// A fourth id pushes the oldest ("b") out: max_items 3.
	must(t, s.PublishPEPItem(bg, alice, node, storage.PEPItem{ID: "d", Payload: []byte("<d/>")}))
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
	must(t, s.PublishPEPItem(bg, alice, "n", storage.PEPItem{ID: "1", Payload: []byte("<x/>")}))
	must(t, s.DeleteUser(bg, alice))
	must(t, s.CreateUser(bg, alice, cred(1)))
	nodes, err := s.PEPNodes(bg, alice)
	must(t, err)
	if len(nodes) != 0 {
		t.Errorf("nodes after DeleteUser: %+v", nodes)
	}
}
