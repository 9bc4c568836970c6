package c2s

import "testing"

// TestDormant: a session is dormant while detached with stream management
// on (held for resumption) or while its client is inactive (XEP-0352);
// not while attached and active, not before its bind result is out, and
// never once ended.
func TestDormant(t *testing.T) {
	c := &conn{}
	tests := []struct {
		name string
		s    *session
		want bool
	}{
		{"attached, active", &session{c: c, attached: true, smOn: true}, false},
		{"attached, inactive", &session{c: c, attached: true, csi: csiState{inactive: true}}, true},
		{"detached for resumption", &session{attached: true, smOn: true}, true},
		{"no connection, no stream management", &session{attached: true}, false},
		{"not yet attached", &session{smOn: true}, false},
		{"ended", &session{attached: true, smOn: true, ended: true}, false},
		{"ended while inactive", &session{c: c, attached: true, ended: true, csi: csiState{inactive: true}}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.s.Dormant(); got != tc.want {
				t.Errorf("Dormant() = %v, want %v", got, tc.want)
			}
		})
	}
}
