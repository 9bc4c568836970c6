package upload

import (
	"net/http"
	"net/url"
	"os"
	"slices"
	"testing"
)

// TestDirectorySyncedBeforeCreated: a PUT is answered 201 only after the
// uploads directory was synced, and that sync runs after both renames
// (data and meta under their final names, no temporary left), so what
// the 201 promises survives a crash.
func TestDirectorySyncedBeforeCreated(t *testing.T) {
	e := newEnv(t, nil)
	var seen [][]string // the directory at each sync
	orig := syncDir
	syncDir = func(dir string) error {
		if dir == e.dir {
			seen = append(seen, e.stored())
		}
		return orig(dir)
	}
	t.Cleanup(func() { syncDir = orig })

	data := []byte("durable bytes")
	put, get := e.slotFor("d.txt", len(data), "")
	e.wantStatus("PUT", put, data, http.StatusCreated)
	if len(seen) != 1 {
		t.Fatalf("directory synced %d times before the 201, want 1", len(seen))
	}
	id := idOf(t, get)
	want := []string{id + ".data", id + ".json"}
	if !slices.Equal(seen[0], want) {
		t.Errorf("directory at its sync: %v, want %v", seen[0], want)
	}
	if b, err := os.ReadFile(e.m.files.dataPath(id)); err != nil || string(b) != string(data) {
		t.Errorf("stored data %q, %v", b, err)
	}
}

// idOf returns the slot id of a GET URL.
func idOf(t *testing.T, get string) string {
	t.Helper()
	g, err := url.Parse(get)
	if err != nil {
		t.Fatal(err)
	}
	id, _, ok := splitPath(g.Path)
	if !ok {
		t.Fatalf("no slot id in %s", get)
	}
	return id
}
