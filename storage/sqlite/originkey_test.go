package sqlite

import (
	"hash/fnv"
	"testing"
)

// TestOriginKey pins originKey to 64-bit FNV-1a of the zero-terminated
// fields: stored keys were computed by earlier runs (and by migration
// 0008), so the function may never change.
func TestOriginKey(t *testing.T) {
	tests := []struct {
		owner, with string
		outgoing    bool
		origin      string
	}{
		{"juliet@example.com", "romeo@example.net", true, "de305d54-75b4-431b-adb2-eb6b9e546013"},
		{"juliet@example.com", "romeo@example.net", false, "de305d54-75b4-431b-adb2-eb6b9e546013"},
		{"room@conference.example.com", "room@conference.example.com", false, "x"},
		{"a@b", "", false, ""},
	}
	seen := map[int64]bool{}
	for _, tc := range tests {
		dir := "0"
		if tc.outgoing {
			dir = "1"
		}
		h := fnv.New64a()
		h.Write([]byte(tc.owner + "\x00" + tc.with + "\x00" + dir + "\x00" + tc.origin + "\x00"))
		got := originKey(tc.owner, tc.with, tc.outgoing, tc.origin)
		if got != int64(h.Sum64()) {
			t.Errorf("originKey(%q, %q, %v, %q) = %d, want FNV-1a %d", tc.owner, tc.with, tc.outgoing, tc.origin, got, int64(h.Sum64()))
		}
		if seen[got] {
			t.Errorf("originKey(%q, %q, %v, %q) = %d repeats an earlier key", tc.owner, tc.with, tc.outgoing, tc.origin, got)
		}
		seen[got] = true
	}
	// One literal value, so that a change of both the function and the
	// reference above cannot pass.
	if got := originKey("a@b", "c@d", true, "o"); got != 0x44486f9186f2aed7 {
		t.Errorf("originKey(a@b, c@d, true, o) = %#x", got)
	}
}

// TestNewDatabaseAnnouncesNoMigration: creating a database is not an
// upgrade, and the server must not warn about one at a first start.
func TestNewDatabaseAnnouncesNoMigration(t *testing.T) {
	var announced []string
	s, err := Open(bg, t.TempDir()+"/new.db", Options{Synchronous: SyncOff, OnMigration: func(name string) { announced = append(announced, name) }})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if len(announced) != 0 {
		t.Errorf("a new database announced migrations %q", announced)
	}
}
