package postgres

import (
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/skald-xmpp/skald/storage"
)

func pepTestConfig(maxItems int) storage.PEPNodeConfig {
	return storage.PEPNodeConfig{AccessModel: storage.AccessPresence, PersistItems: true, MaxItems: maxItems,
		SendLastPublishedItem: storage.SendLastOnSubAndPresence, DeliverPayloads: true}
}

// TestPEPConcurrentQuota: many concurrent CreatePEPNode calls of one owner
// (on separate connections) create exactly maxNodes nodes; the others
// fail with ErrQuotaExceeded. Without the owner's PEP lock, creates that
// count before each other's insert commits would all pass.
func TestPEPConcurrentQuota(t *testing.T) {
	s := openTest(t, Options{MaxConns: 8})
	const owner, maxNodes, tries = "alice@example.org", 3, 16
	var wg sync.WaitGroup
	errs := make([]error, tries)
	for i := range tries {
		wg.Go(func() {
			errs[i] = s.CreatePEPNode(bg, owner, storage.PEPNode{Name: "n" + strconv.Itoa(i), Config: pepTestConfig(1)}, maxNodes)
		})
	}
	wg.Wait()
	created := 0
	for _, err := range errs {
		switch {
		case err == nil:
			created++
		case !errors.Is(err, storage.ErrQuotaExceeded):
			t.Errorf("create: %v", err)
		}
	}
	nodes, err := s.PEPNodes(bg, owner)
	if err != nil {
		t.Fatal(err)
	}
	if created != maxNodes || len(nodes) != maxNodes {
		t.Errorf("%d creates succeeded, %d nodes stored; want %d", created, len(nodes), maxNodes)
	}
}

// TestPEPConcurrentPublishTrim: concurrent publishes of distinct ids to
// one node, and reconfigurations racing with them, leave the node at most
// MaxItems items, the newest ones: publish and trim are atomic under the
// node row lock.
func TestPEPConcurrentPublishTrim(t *testing.T) {
	tests := []struct {
		name        string
		maxItems    int
		reconfigure bool
	}{
		{"publish only", 2, false},
		{"publish and configure", 5, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := openTest(t, Options{MaxConns: 8})
			const owner, node, publishers, each = "alice@example.org", "urn:xmpp:microblog:0", 6, 10
			if err := s.CreatePEPNode(bg, owner, storage.PEPNode{Name: node, Config: pepTestConfig(tc.maxItems)}, 0); err != nil {
				t.Fatal(err)
			}
			var wg sync.WaitGroup
			for p := range publishers {
				wg.Go(func() {
					for i := range each {
						id := strconv.Itoa(p) + "-" + strconv.Itoa(i)
						if err := s.PublishPEPItem(bg, owner, node, storage.PEPItem{ID: id, Payload: []byte("<x/>")}, 0); err != nil {
							t.Error(err)
							return
						}
					}
				})
			}
			if tc.reconfigure {
				wg.Go(func() {
					for i := range each {
						if err := s.ConfigurePEPNode(bg, owner, node, pepTestConfig(tc.maxItems-i%2)); err != nil {
							t.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			n, err := s.PEPNode(bg, owner, node)
			if err != nil {
				t.Fatal(err)
			}
			// The last committed publish or configure left the node
			// trimmed to the MaxItems it saw; a later configure only
			// lowers it and trims too.
			var stored, total int
			if err := s.pool.QueryRow(bg, `SELECT count(*) FROM pep_item WHERE owner = $1 AND node = $2`, owner, node).Scan(&stored); err != nil {
				t.Fatal(err)
			}
			if err := s.pool.QueryRow(bg, `SELECT count(*) FROM pep_item`).Scan(&total); err != nil {
				t.Fatal(err)
			}
			if stored > tc.maxItems || stored < n.Config.MaxItems || total != stored {
				t.Errorf("%d items stored (%d in all), want between max_items %d and %d", stored, total, n.Config.MaxItems, tc.maxItems)
			}
			items, err := s.PEPItems(bg, owner, node, nil, 0)
			if err != nil || len(items) != stored {
				t.Fatalf("PEPItems: %d items, %v; want %d", len(items), err, stored)
			}
		})
	}
}

// TestPEPDeleteNodeCascades: deleting a node, or the account, leaves no
// item rows behind, also when another owner has a node of the same name.
func TestPEPDeleteNodeCascades(t *testing.T) {
	s := openTest(t, Options{})
	const alice, bob, node = "alice@example.org", "bob@example.org", "n"
	for _, owner := range []string{alice, bob} {
		if err := s.CreateUser(bg, owner, storage.Credentials{}); err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{node, "other"} {
			if err := s.CreatePEPNode(bg, owner, storage.PEPNode{Name: name, Config: pepTestConfig(5)}, 0); err != nil {
				t.Fatal(err)
			}
			for i := range 3 {
				if err := s.PublishPEPItem(bg, owner, name, storage.PEPItem{ID: strconv.Itoa(i), Payload: []byte("<x/>")}, 0); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	count := func(owner string) int {
		t.Helper()
		var n int
		if err := s.pool.QueryRow(bg, `SELECT count(*) FROM pep_item WHERE owner = $1`, owner).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if err := s.DeletePEPNode(bg, alice, node); err != nil {
		t.Fatal(err)
	}
	if a, b := count(alice), count(bob); a != 3 || b != 6 {
		t.Errorf("after deleting alice's node: alice %d items, bob %d; want 3 and 6", a, b)
	}
	if err := s.DeleteUser(bg, alice); err != nil {
		t.Fatal(err)
	}
	if a, b := count(alice), count(bob); a != 0 || b != 6 {
		t.Errorf("after deleting alice: alice %d items, bob %d; want 0 and 6", a, b)
	}
}

// TestPEPPublishWaitsForConfigure: a publish that arrives while a
// configuration change of its node is uncommitted waits for it and trims
// to the new MaxItems (the node row lock), rather than to the old one it
// would read from its snapshot.
func TestPEPPublishWaitsForConfigure(t *testing.T) {
	s := openTest(t, Options{})
	const owner, node = "alice@example.org", "n"
	if err := s.CreatePEPNode(bg, owner, storage.PEPNode{Name: node, Config: pepTestConfig(5)}, 0); err != nil {
		t.Fatal(err)
	}
	if err := s.PublishPEPItem(bg, owner, node, storage.PEPItem{ID: "a", Payload: []byte("<a/>")}, 0); err != nil {
		t.Fatal(err)
	}
	tx, err := s.pool.Begin(bg)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(bg)
	// As ConfigurePEPNode's first statement: the row is locked until COMMIT.
	if _, err := tx.Exec(bg, `UPDATE pep_node SET max_items = 1 WHERE owner = $1 AND node = $2`, owner, node); err != nil {
		t.Fatal(err)
	}
	published := make(chan error, 1)
	go func() {
		published <- s.PublishPEPItem(bg, owner, node, storage.PEPItem{ID: "b", Payload: []byte("<b/>")}, 0)
	}()
	select {
	case err := <-published:
		t.Fatalf("publish finished (%v) while the node's configuration was being changed", err)
	case <-time.After(200 * time.Millisecond):
	}
	if err := tx.Commit(bg); err != nil {
		t.Fatal(err)
	}
	if err := <-published; err != nil {
		t.Fatal(err)
	}
	items, err := s.PEPItems(bg, owner, node, nil, 0)
	if err != nil || len(items) != 1 || items[0].ID != "b" {
		t.Errorf("items after publish under max_items 1: %+v, %v; want only b", items, err)
	}
}

// TestPEPPublishQuotaWaitsForPublish: a publish with a byte quota waits
// for another publish of the same owner (to another node) that has not
// committed yet, and counts its item: without the owner's PEP lock it
// would sum a snapshot without that item and both would pass a quota
// only one fits.
func TestPEPPublishQuotaWaitsForPublish(t *testing.T) {
	s := openTest(t, Options{})
	const owner, limit = "alice@example.org", 100
	for _, node := range []string{"one", "two"} {
		if err := s.CreatePEPNode(bg, owner, storage.PEPNode{Name: node, Config: pepTestConfig(1)}, 0); err != nil {
			t.Fatal(err)
		}
	}
	tx, err := s.pool.Begin(bg)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(bg)
	// As a PublishPEPItem to "one" with a quota, before its COMMIT.
	if _, err := tx.Exec(bg, `SELECT pg_advisory_xact_lock($1, hashtext(current_schema() || '/' || $2))`, lockPEP, owner); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(bg, `INSERT INTO pep_item (owner, node, id, payload) VALUES ($1, 'one', 'a', $2)`, owner, make([]byte, 60)); err != nil {
		t.Fatal(err)
	}
	published := make(chan error, 1)
	go func() {
		published <- s.PublishPEPItem(bg, owner, "two", storage.PEPItem{ID: "b", Payload: make([]byte, 60)}, limit)
	}()
	select {
	case err := <-published:
		t.Fatalf("publish finished (%v) while another publish of its owner was uncommitted", err)
	case <-time.After(200 * time.Millisecond):
	}
	if err := tx.Commit(bg); err != nil {
		t.Fatal(err)
	}
	if err := <-published; !errors.Is(err, storage.ErrQuotaExceeded) {
		t.Fatalf("publish after the other committed: %v, want ErrQuotaExceeded", err)
	}
}
