package server_test

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/skald-xmpp/skald/mam"
	"github.com/skald-xmpp/skald/offline"
)

// exampleSection returns skald.example.toml's commented section name
// with its options uncommented, ready to load.
func exampleSection(t *testing.T, name string) (src string, options int) {
	t.Helper()
	example, err := os.ReadFile("../../skald.example.toml")
	if err != nil {
		t.Fatal(err)
	}
	_, tail, ok := strings.Cut(string(example), "# ["+name+"]\n")
	if !ok {
		t.Fatalf("skald.example.toml has no [%s] section", name)
	}
	section, _, _ := strings.Cut(tail, "\n\n")
	lines := []string{"[" + name + "]"}
	for _, l := range strings.Split(section, "\n") {
		if strings.HasPrefix(l, "# ") && strings.Contains(l, " = ") && !strings.Contains(strings.SplitN(l[2:], " = ", 2)[0], " ") {
			lines = append(lines, strings.TrimPrefix(l, "# "))
		}
	}
	return strings.Join(lines, "\n") + "\n", len(lines) - 1
}

// TestArchiveExampleSections: the [mam] and [offline] sections of
// skald.example.toml show every option with its default, so an operator
// who uncomments them changes nothing.
func TestArchiveExampleSections(t *testing.T) {
	src, n := exampleSection(t, "mam")
	m, err := loadModuleConfig(t, src)
	if err != nil {
		t.Fatalf("[mam] of the example: %v\n%s", err, src)
	}
	// The TOML decoder gives int64 where the defaults hold int: compare
	// the printed values.
	if got, want := fmt.Sprintf("%v", m.MAM), fmt.Sprintf("%v", mam.DefaultConfig()); got != want || n != 7 {
		t.Errorf("[mam] of the example (%d options) gives %s, want the defaults %s", n, got, want)
	}
	src, n = exampleSection(t, "offline")
	m, err = loadModuleConfig(t, src)
	if err != nil || m.Offline != offline.DefaultConfig() || n != 1 {
		t.Errorf("[offline] of the example (%d options) gives %+v, %v; want %+v", n, m.Offline, err, offline.DefaultConfig())
	}
}
