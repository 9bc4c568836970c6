package server_test

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
)

// TestLayering enforces ARCHITECTURE.md: each package imports only the
// layers it is allowed to.
func TestLayering(t *testing.T) {
	const mod = "github.com/skald-xmpp/skald/"
	out, err := exec.Command("go", "list", "-json", "../../...").Output()
	if err != nil {
		t.Skipf("go list: %v", err)
	}
	// allowed[pkg] lists the Skald packages pkg may import; "*" = any.
	low := []string{"internal/xml", "internal/period", "internal/keylock", "jid", "stream", "stanza", "storage", "sasl"}
	allowed := map[string][]string{
		"internal/xml":       {},
		"internal/metrics":   {},
		"internal/period":    {},
		"internal/keylock":   {},
		"jid":                {},
		"sasl":               {},
		"stream":             {"internal/xml"},
		"stanza":             {"internal/xml"},
		"storage":            {},
		"storage/memory":     {"storage"},
		"storage/sqlite":     {"storage"},
		"storage/postgres":   {"storage"},
		"config":             {"jid", "sasl"},
		"internal/certs":     {},
		"router":             {"internal/xml", "jid", "stream", "stanza", "storage"},
		"c2s":                append([]string{"router", "internal/connlimit", "internal/netaccept"}, low...),
		"internal/xmlcut":    {},
		"internal/hostmeta":  {"internal/xml"},
		"internal/connlimit": {},
		"internal/netaccept": {},
		"internal/httpfront": {"internal/connlimit"},
		"websocket":          {"c2s", "internal/connlimit", "internal/xml", "internal/xmlcut", "internal/hostmeta", "internal/httpfront", "stream"},
		// bosh is a transport beside websocket, handing sessions to c2s.
		"bosh": {"c2s", "internal/xml", "internal/xmlcut", "internal/hostmeta", "internal/httpfront", "stream"},
		// s2s is a transport beside c2s: the router's RemoteRouter.
		"s2s": {"router", "internal/netaccept", "internal/xml", "jid", "stream", "stanza"},
		// component is a transport beside s2s: the router's ComponentRouter.
		"component":        {"router", "internal/netaccept", "internal/xml", "jid", "stream", "stanza"},
		"internal/loadgen": {"internal/xml", "jid"},
		"mam/pie":          {"mam", "internal/xml", "jid", "storage"},
		// PEP extends disco (account identities and items, caps hashes).
		"pep": append([]string{"router", "disco"}, low...),
		// adhoc extends disco (the command nodes of the server's domain).
		"adhoc": append([]string{"router", "disco"}, low...),
		// muc extends mam: its rooms' archives (XEP-0313 MUC archives).
		"muc": append([]string{"router", "mam"}, low...),
		// The feature modules' test harness: test-only, but above router.
		"internal/routertest": {"router", "internal/xml", "jid", "stanza", "storage", "storage/memory"},
	}
	modules := map[string]bool{"roster": true, "presence": true, "mam": true, "carbons": true, "offline": true, "disco": true, "ping": true, "version": true, "blocking": true, "vcard": true, "private": true, "upload": true, "register": true, "entitytime": true, "lastactivity": true, "extdisco": true, "serverinfo": true, "push": true}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for dec.More() {
		var p struct {
			ImportPath string
			Imports    []string
		}
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		name := strings.TrimPrefix(p.ImportPath, mod)
		allow, known := allowed[name]
		// Test helper packages are checked only when placed above.
		if name == p.ImportPath || strings.HasPrefix(name, "cmd/") || strings.HasPrefix(name, "bench/") || name == "internal/server" || name == "internal/xmpptest" || (strings.HasSuffix(name, "test") && !known) {
			continue
		}
		if !known && modules[name] {
			allow = append([]string{"router", "roster"}, low...)
			known = true
		}
		if !known {
			t.Errorf("package %s is not placed in a layer: add it to ARCHITECTURE.md and this test", name)
			continue
		}
		for _, imp := range p.Imports {
			dep := strings.TrimPrefix(imp, mod)
			if dep == imp {
				continue
			}
			// internal/metrics is the bottom layer: anyone may import it.
			ok := dep == "internal/metrics"
			for _, a := range allow {
				if a == dep {
					ok = true
				}
			}
			if !ok {
				t.Errorf("%s imports %s, which ARCHITECTURE.md does not allow", name, dep)
			}
		}
	}
}
