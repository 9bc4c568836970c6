package presence_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/skald-xmpp/skald/internal/routertest"
	"github.com/skald-xmpp/skald/presence"
	"github.com/skald-xmpp/skald/roster"
	"github.com/skald-xmpp/skald/router"
	"github.com/skald-xmpp/skald/storage"
	"github.com/skald-xmpp/skald/storage/memory"
)

// TestRemoteSubscribeFullRoster: a remote domain may name any number of
// senders; subscription requests from new ones stop making items once the
// roster, pending-in items included, holds max_items, while a contact
// already in the roster is still heard.
func TestRemoteSubscribeFullRoster(t *testing.T) {
	ctx := context.Background()
	st := memory.New()
	if err := st.CreateUser(ctx, "a@x", storage.Credentials{}); err != nil {
		t.Fatal(err)
	}
	r := router.New(router.Config{Domains: []string{"x"}, Users: st})
	cfg := roster.DefaultConfig()
	cfg.MaxItems = 3
	rost := roster.New(cfg, st, r)
	r.Register(rost, presence.New(r, rost))
	max := cfg.MaxItems
	subscribe := func(from string) {
		t.Helper()
		st := routertest.Parse(t, fmt.Sprintf(`<presence from=%q to="a@x" type="subscribe"/>`, from))
		if err := r.HandleFromRemote(ctx, "remote.example", st); err != nil {
			t.Fatal(err)
		}
	}
	for i := range max {
		subscribe(fmt.Sprintf("r%d@remote.example", i))
	}
	if it, ok, err := rost.Item(ctx, "a@x", "r0@remote.example"); err != nil || !ok || !it.PendingIn {
		t.Fatalf("first request made no pending-in item: %+v %v %v", it, ok, err)
	}
	subscribe("one-too-many@remote.example")
	if it, ok, _ := rost.Item(ctx, "a@x", "one-too-many@remote.example"); ok {
		t.Fatalf("a full roster took a new item: %+v", it)
	}
	// A contact already in the roster is still heard.
	subscribe("r0@remote.example")
	items, err := rost.Items(ctx, "a@x")
	if err != nil || len(items) != max {
		t.Fatalf("%d items (%v), want %d", len(items), err, max)
	}
}
