package connlimit

import "testing"

// TestPerIP: at most max per key; a key reaching zero leaves the map.
func TestPerIP(t *testing.T) {
	p := NewPerIP(2)
	if !p.Acquire("a") || !p.Acquire("a") || p.Acquire("a") || !p.Acquire("b") {
		t.Fatal("want two for a, then none, and one for b")
	}
	p.Release("a")
	if !p.Acquire("a") {
		t.Fatal("no room after a release")
	}
	p.Release("a")
	p.Release("a")
	p.Release("b")
	if len(p.open) != 0 {
		t.Fatalf("keys left: %v", p.open)
	}
}

// TestIPKey: per-address limits count an IPv4 address, or an IPv6 /64.
func TestIPKey(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.7:4711":         "192.0.2.7",
		"192.0.2.7":              "192.0.2.7",
		"[2001:db8:1:2::5]:4711": "2001:db8:1:2::/64",
		"2001:db8:1:2:ffff::9":   "2001:db8:1:2::/64",
		"[::ffff:192.0.2.7]:1":   "192.0.2.7",
		"[fe80::1%eth0]:5222":    "fe80::/64",
		"fe80::2%eth1":           "fe80::/64",
	} {
		if got := IPKey(in); got != want {
			t.Errorf("IPKey(%q) = %q, want %q", in, got, want)
		}
	}
}
