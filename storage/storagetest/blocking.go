package storagetest

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/skald-xmpp/skald/storage"
)

func wantList(t *testing.T, what string, got []string, want ...string) {
	t.Helper()
	if len(got) == 0 && len(want) == 0 {
		return
	}
	if !slices.Equal(got, want) {
		t.Errorf("%s = %q, want %q", what, got, want)
	}
}

// testBlocking checks XEP-0191 blocklists: block reports what was new,
// unblock what it removed, unblock with no JIDs empties the list, and
// owners are independent.
func testBlocking(t *testing.T, s storage.Store) {
	const alice, bob = "alice@example.org", "bob@example.org"
	l, err := s.Blocklist(bg, alice)
	must(t, err)
	wantList(t, "empty blocklist", l)

	added, err := s.Block(bg, alice, []string{"mallory@evil.example", "evil.example", "eve@example.org/phone"})
	must(t, err)
	wantList(t, "first block added", added, "mallory@evil.example", "evil.example", "eve@example.org/phone")
	added, err = s.Block(bg, alice, []string{"evil.example", "spam.example", "spam.example"})
	must(t, err)
	wantList(t, "second block added", added, "spam.example")
	l, err = s.Blocklist(bg, alice)
	must(t, err)
	wantList(t, "blocklist", l, "eve@example.org/phone", "evil.example", "mallory@evil.example", "spam.example")

	_, err = s.Block(bg, bob, []string{"carol@example.org"})
	must(t, err)

	removed, err := s.Unblock(bg, alice, []string{"spam.example", "never@blocked.example"})
	must(t, err)
	wantList(t, "unblock removed", removed, "spam.example")
	l, _ = s.Blocklist(bg, alice)
	wantList(t, "blocklist after unblock", l, "eve@example.org/phone", "evil.example", "mallory@evil.example")

	removed, err = s.Unblock(bg, alice, nil)
	must(t, err)
	wantList(t, "unblock all removed", removed, "eve@example.org/phone", "evil.example", "mallory@evil.example")
	l, _ = s.Blocklist(bg, alice)
	wantList(t, "blocklist after unblock all", l)
	removed, err = s.Unblock(bg, alice, nil)
	must(t, err)
	wantList(t, "unblock all of nothing", removed)

	l, _ = s.Blocklist(bg, bob)
	wantList(t, "bob's blocklist", l, "carol@example.org")

	if _, err := s.Block(bg, "", []string{"x@y"}); err == nil {
		t.Error("Block with an empty owner succeeded")
	}
	ctx, cancel := context.WithCancel(bg)
	cancel()
	if _, err := s.Block(ctx, alice, []string{"x@y"}); !errors.Is(err, context.Canceled) {
		t.Errorf("Block with a cancelled context: %v", err)
	}
	if l, _ := s.Blocklist(bg, alice); len(l) != 0 {
		t.Errorf("cancelled Block stored %q", l)
	}
}
