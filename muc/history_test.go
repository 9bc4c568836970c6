package muc

import "testing"

// TestAddHistoryBounds: the history keeps at most maxMsgs items and about
// maxHistoryBytes, dropping the oldest; one item larger than the bound
// stays alone, and the byte count follows what is kept.
func TestAddHistoryBounds(t *testing.T) {
	tests := []struct {
		name    string
		sizes   []int
		maxMsgs int
		want    []int // sizes kept, oldest first
	}{
		{"count", []int{1, 2, 3, 4}, 3, []int{2, 3, 4}},
		{"bytes", []int{100 << 10, 100 << 10, 100 << 10}, 50, []int{100 << 10, 100 << 10}},
		{"one large item stays", []int{10, maxHistoryBytes + 1}, 50, []int{maxHistoryBytes + 1}},
		{"off", []int{1, 2}, 0, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := &room{}
			for _, s := range tc.sizes {
				r.addHistory(historyItem{size: s}, tc.maxMsgs)
			}
			var got []int
			total := 0
			for _, it := range r.history {
				got = append(got, it.size)
				total += it.size
			}
			if len(got) != len(tc.want) || total != r.historyB {
				t.Fatalf("kept %v (counted %d bytes), want %v", got, r.historyB, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Fatalf("kept %v, want %v", got, tc.want)
				}
			}
		})
	}
}
