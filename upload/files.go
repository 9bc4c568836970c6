package upload

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

// On disk, in the uploads directory, a stored file is two files named by
// its slot id: <id>.data (the bytes) and <id>.json (its meta). An upload
// is written to <id>.<random>.part; the meta is written (through a
// temporary file and a rename) before the data is renamed into place, and
// only a file with both is stored: a crash or a short upload leaves a
// .part or a meta without data, which openFiles removes.

// meta is the sidecar of a stored file.
type meta struct {
	Owner   string    `json:"owner"`
	Name    string    `json:"name"`
	Size    int64     `json:"size"`
	Type    string    `json:"type"`
	Created time.Time `json:"created"`
}

// Reasons a reservation fails.
var (
	errUsed  = errors.New("upload: slot already used")
	errBusy  = errors.New("upload: slot being uploaded")
	errQuota = errors.New("upload: quota exceeded")
)

// files is the uploads directory and its index.
//
// Lock: mu guards the maps and is a leaf; no disk I/O happens under it.
// Invariant: used[owner] is the sum of the sizes of owner's stored files
// and of its uploads in progress (busy), so a quota check under mu counts
// what is being written too.
// Invariant: an id is in at most one of byID, busy and gone.
type files struct {
	dir string

	mu   sync.Mutex
	byID map[string]meta
	used map[string]int64
	busy map[string]bool
	// gone holds the ids swept while their slot may still be valid, until
	// when it may: expires_after can be shorter than SlotValidity, and a
	// slot stays single-use (its GET URL was shared; a second PUT must not
	// give it other bytes).
	gone map[string]time.Time
}

// openFiles opens (creating) the uploads directory, removes what
// interrupted uploads left and indexes the stored files.
func openFiles(dir string) (*files, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("upload: %w", err)
	}
	f := &files{dir: dir, byID: map[string]meta{}, used: map[string]int64{}, busy: map[string]bool{}, gone: map[string]time.Time{}}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("upload: %w", err)
	}
	have := map[string]bool{}
	for _, e := range ents {
		have[e.Name()] = true
	}
	for _, e := range ents {
		name := e.Name()
		id, ext, _ := strings.Cut(name, ".")
		switch {
		case ext == "json":
			m, err := readMeta(filepath.Join(dir, name))
			st, serr := os.Stat(f.dataPath(id))
			if err != nil || serr != nil || st.Size() != m.Size {
				os.Remove(filepath.Join(dir, name))
				os.Remove(f.dataPath(id))
				continue
			}
			f.byID[id] = m
			f.used[m.Owner] += m.Size
		case ext == "data" && !have[id+".json"]:
			os.Remove(filepath.Join(dir, name))
		case strings.HasSuffix(name, ".part") || strings.HasSuffix(name, ".tmp"):
			os.Remove(filepath.Join(dir, name))
		}
	}
	return f, nil
}

func readMeta(path string) (meta, error) {
	var m meta
	b, err := os.ReadFile(path)
	if err != nil {
		return m, err
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return m, err
	}
	if m.Owner == "" || m.Name == "" || m.Size < 0 {
		return m, errors.New("incomplete meta")
	}
	return m, nil
}

func (f *files) dataPath(id string) string { return filepath.Join(f.dir, id+".data") }
func (f *files) metaPath(id string) string { return filepath.Join(f.dir, id+".json") }

// usage returns the bytes owner stores or is uploading.
func (f *files) usage(owner string) int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.used[owner]
}

// freedAt returns when enough of owner's stored files will have expired
// for need more bytes to fit under quota; ok is false if that never
// happens (no expiry, or uploads in progress hold the space).
func (f *files) freedAt(owner string, need, quota int64, expiry time.Duration) (time.Time, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var mine []meta
	for _, m := range f.byID {
		if m.Owner == owner {
			mine = append(mine, m)
		}
	}
	slices.SortFunc(mine, func(a, b meta) int { return a.Created.Compare(b.Created) })
	over := f.used[owner] + need - quota
	for _, m := range mine {
		over -= m.Size
		if over <= 0 {
			return m.Created.Add(expiry), true
		}
	}
	return time.Time{}, false
}

// reserve marks s as being uploaded and counts its size against owner's
// quota; release or commit end the reservation.
func (f *files) reserve(s slot, quota int64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case f.busy[s.id]:
		return errBusy
	case f.has(s.id):
		return errUsed
	case !f.gone[s.id].IsZero():
		return errUsed // expired already; see gone
	case f.used[s.owner]+s.size > quota:
		return errQuota
	}
	f.busy[s.id] = true
	f.used[s.owner] += s.size
	return nil
}

// has reports whether id is stored; under mu.
func (f *files) has(id string) bool {
	_, ok := f.byID[id]
	return ok
}

// release ends a reservation whose upload failed: the slot may be used
// again until it expires.
func (f *files) release(s slot) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.busy, s.id)
	f.used[s.owner] -= s.size
	if f.used[s.owner] == 0 {
		delete(f.used, s.owner)
	}
}

// commit stores the complete upload in part (already synced by receive)
// under s's id: the meta first, then the data renamed into place. On
// error the reservation is released and nothing is left behind.
//
// Durability order: the meta's bytes are synced before its rename, the
// data's before its own (receive), and the directory after both renames,
// so once commit returns (and the PUT is answered 201) both names and
// their bytes survive a crash; a crash before leaves at worst a meta
// without data, which openFiles removes.
func (f *files) commit(s slot, part string, m meta) error {
	b, _ := json.Marshal(m)
	tmp := f.metaPath(s.id) + ".tmp"
	err := writeSynced(tmp, b)
	if err == nil {
		err = os.Rename(tmp, f.metaPath(s.id))
	}
	if err == nil {
		err = os.Rename(part, f.dataPath(s.id))
	}
	if err == nil {
		err = syncDir(f.dir)
	}
	if err != nil {
		os.Remove(tmp)
		os.Remove(f.metaPath(s.id))
		os.Remove(f.dataPath(s.id))
		os.Remove(part)
		f.release(s)
		return fmt.Errorf("upload: store %s: %w", s.id, err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.busy, s.id)
	f.byID[s.id] = m
	return nil
}

// writeSynced writes b to a new file at path and syncs it.
func writeSynced(path string, b []byte) error {
	fh, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	_, err = fh.Write(b)
	if err == nil {
		err = fh.Sync()
	}
	if cerr := fh.Close(); err == nil {
		err = cerr
	}
	return err
}

// syncDir makes the renames in dir durable (fsync of the directory); a
// variable so that tests see when it runs.
var syncDir = func(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// lookup returns the meta of a stored file.
func (f *files) lookup(id string) (meta, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	m, ok := f.byID[id]
	return m, ok
}

// sweep removes the files created before cutoff and returns how many. They
// leave the index first, so a GET either gets the whole file or a 404.
// An id whose slot may still be valid at now (its file was created less
// than SlotValidity ago, and after the grant) is kept in f.gone.
func (f *files) sweep(cutoff, now time.Time) int {
	f.mu.Lock()
	for id, until := range f.gone {
		if now.After(until) {
			delete(f.gone, id)
		}
	}
	var gone []string
	for id, m := range f.byID {
		if m.Created.Before(cutoff) {
			gone = append(gone, id)
			delete(f.byID, id)
			if until := m.Created.Add(SlotValidity); !now.After(until) {
				f.gone[id] = until
			}
			f.used[m.Owner] -= m.Size
			if f.used[m.Owner] == 0 {
				delete(f.used, m.Owner)
			}
		}
	}
	f.mu.Unlock()
	for _, id := range gone {
		os.Remove(f.dataPath(id))
		os.Remove(f.metaPath(id))
	}
	return len(gone)
}

// removeOwner removes owner's stored files and returns how many; like
// sweep, they leave the index before the disk. An upload of owner's in
// progress is not stopped: it is stored when it ends, and expires.
func (f *files) removeOwner(owner string) int {
	f.mu.Lock()
	var gone []string
	for id, m := range f.byID {
		if m.Owner == owner {
			gone = append(gone, id)
			delete(f.byID, id)
			f.used[owner] -= m.Size
		}
	}
	if f.used[owner] == 0 {
		delete(f.used, owner)
	}
	f.mu.Unlock()
	for _, id := range gone {
		os.Remove(f.dataPath(id))
		os.Remove(f.metaPath(id))
	}
	return len(gone)
}

// RemoveOwner deletes every file owner uploaded to the uploads directory
// dir and returns how many; "skald user del" runs it. A running server's
// index still names the files until it restarts, but serves them as 404,
// since their data is gone.
func RemoveOwner(dir, owner string) (int, error) {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("upload: %w", err)
	}
	n := 0
	for _, e := range ents {
		id, ok := strings.CutSuffix(e.Name(), ".json")
		if !ok {
			continue
		}
		m, err := readMeta(filepath.Join(dir, e.Name()))
		if err != nil || m.Owner != owner {
			continue
		}
		// Data first: a meta without data is cleaned up at the next start.
		if err := os.Remove(filepath.Join(dir, id+".data")); err != nil && !errors.Is(err, os.ErrNotExist) {
			return n, fmt.Errorf("upload: %w", err)
		}
		os.Remove(filepath.Join(dir, e.Name()))
		n++
	}
	return n, nil
}

// totals returns the number of stored files and the bytes stored or being
// uploaded.
func (f *files) totals() (n int, bytes int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, b := range f.used {
		bytes += b
	}
	return len(f.byID), bytes
}
