package carbons

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

// answerable remembers (account, peer, id) for answerTTL, never more than
// maxAnswerable entries (the oldest go), and ignores empty or overlong ids.
func TestAnswerable(t *testing.T) {
	now := time.Unix(1000, 0)
	a := newAnswerable()
	a.now = func() time.Time { return now }
	a.remember("romeo@x", "juliet@y", "m1")
	a.remember("romeo@x", "juliet@y", "")
	a.remember("romeo@x", "juliet@y", strings.Repeat("i", maxAnswerableID+1))
	tests := []struct {
		account, peer, id string
		want              bool
	}{
		{"romeo@x", "juliet@y", "m1", true},
		{"romeo@x", "nurse@y", "m1", false},
		{"juliet@y", "romeo@x", "m1", false},
		{"romeo@x", "juliet@y", "m2", false},
		{"romeo@x", "juliet@y", "", false},
		{"romeo@x", "juliet@y", strings.Repeat("i", maxAnswerableID+1), false},
	}
	for _, tc := range tests {
		if got := a.answers(tc.account, tc.peer, tc.id); got != tc.want {
			t.Errorf("answers(%q, %q, %.10q) = %v, want %v", tc.account, tc.peer, tc.id, got, tc.want)
		}
	}
	now = now.Add(answerTTL)
	if a.answers("romeo@x", "juliet@y", "m1") {
		t.Error("remembered past answerTTL")
	}

	// Eviction: m1 is remembered again late, so it outlives the others
	// of its generation.
	a = newAnswerable()
	a.remember("r", "j", "m1")
	for i := range maxAnswerable - 2 {
		a.remember("r", "j", strconv.Itoa(i))
	}
	a.remember("r", "j", "m1")
	a.remember("r", "j", "new")
	if !a.answers("r", "j", "m1") || !a.answers("r", "j", "new") || !a.answers("r", "j", "0") {
		t.Error("recent entries evicted")
	}
	a.remember("r", "j", "newer")
	if a.answers("r", "j", "0") || !a.answers("r", "j", "1") || !a.answers("r", "j", "m1") {
		t.Error("not the oldest entry evicted")
	}
	if len(a.m) > maxAnswerable {
		t.Errorf("%d entries", len(a.m))
	}
}
