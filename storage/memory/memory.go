package memory

import (
	"context"
	"errors"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/skald-xmpp/skald/storage"
)

// Store is an in-memory storage.Store. The zero value is not usable; call
// New. All methods are safe for concurrent use.
type Store struct {
	// mu guards everything below. See the package documentation.
	mu     sync.RWMutex
	closed bool

	users    map[string]storage.Credentials
	disabled map[string]storage.AccountStatus // disabled accounts only (accounts.go)
	rosters  map[string]*roster

	offline    map[string][]storage.OfflineMessage
	offlineSeq int64

	// archives holds each owner's items in ascending ID order.
	archives map[string][]*storage.ArchivedMessage
	nextID   int64 // last ID handed out; store-wide, never decreases
	prefs    map[string]storage.ArchivePrefs

	blocked map[string]map[string]bool // owner -> blocked JIDs

	docs  map[string]map[docKey][]byte   // owner -> documents
	pep   map[string]map[string]*pepNode // owner -> node name -> node (pep.go)
	rooms map[string]storage.Room        // persistent MUC rooms by JID

	fast map[string]map[string]*fastSlots // owner -> client -> XEP-0484 tokens (fast.go)
}

// docKey names one of an owner's documents.
type docKey struct{ kind, key string }

type roster struct {
	version uint64
	items   map[string]storage.RosterItem
}

var _ storage.Store = (*Store)(nil)

var errEmptyOwner = errors.New("storage/memory: empty owner")

// New returns an empty store.
func New() *Store {
	return &Store{
		users:    make(map[string]storage.Credentials),
		disabled: make(map[string]storage.AccountStatus),
		rosters:  make(map[string]*roster),
		offline:  make(map[string][]storage.OfflineMessage),
		archives: make(map[string][]*storage.ArchivedMessage),
		prefs:    make(map[string]storage.ArchivePrefs),
		blocked:  make(map[string]map[string]bool),
		docs:     make(map[string]map[docKey][]byte),
		pep:      make(map[string]map[string]*pepNode),
		fast:     make(map[string]map[string]*fastSlots),
	}
}

// Name returns "memory".
func (s *Store) Name() string { return "memory" }

// Close drops all data; later calls fail with storage.ErrClosed.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	s.users, s.rosters, s.offline, s.archives, s.prefs, s.blocked, s.docs, s.pep, s.rooms, s.fast = nil, nil, nil, nil, nil, nil, nil, nil, nil, nil
	return nil
}

// rlock takes the shared lock after checking ctx; the caller must RUnlock
// when it returns nil.
func (s *Store) rlock(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return storage.ErrClosed
	}
	return nil
}

// lock takes the exclusive lock after checking ctx; the caller must Unlock
// when it returns nil.
func (s *Store) lock(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return storage.ErrClosed
	}
	return nil
}

// ---------------------------------------------------------------- copies

func cloneBytes(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return slices.Clone(b)
}

func cloneStrings(v []string) []string {
	if len(v) == 0 {
		return nil
	}
	return slices.Clone(v)
}

func cloneCredential(c storage.Credential) storage.Credential {
	return storage.Credential{
		Salt:       cloneBytes(c.Salt),
		Iterations: c.Iterations,
		StoredKey:  cloneBytes(c.StoredKey),
		ServerKey:  cloneBytes(c.ServerKey),
	}
}

func cloneCredentials(c storage.Credentials) storage.Credentials {
	return storage.Credentials{SHA1: cloneCredential(c.SHA1), SHA256: cloneCredential(c.SHA256)}
}

func cloneRosterItem(it storage.RosterItem) storage.RosterItem {
	it.Groups = cloneStrings(it.Groups)
	return it
}

func cloneMessage(m *storage.ArchivedMessage) storage.ArchivedMessage {
	c := *m
	c.Stanza = cloneBytes(m.Stanza)
	return c
}

// ---------------------------------------------------------------- users

func domainOf(bare string) string {
	if i := strings.IndexByte(bare, '@'); i >= 0 {
		return bare[i+1:]
	}
	return bare
}

// CreateUser implements storage.Users.
func (s *Store) CreateUser(ctx context.Context, bare string, c storage.Credentials) error {
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.mu.Unlock()
	if _, ok := s.users[bare]; ok {
		return storage.ErrExists
	}
	s.users[bare] = cloneCredentials(c)
	return nil
}

// UserCredentials implements storage.Users.
func (s *Store) UserCredentials(ctx context.Context, bare string) (storage.Credentials, error) {
	if err := s.rlock(ctx); err != nil {
		return storage.Credentials{}, err
	}
	defer s.mu.RUnlock()
	c, ok := s.users[bare]
	if !ok {
		return storage.Credentials{}, storage.ErrNotFound
	}
	return cloneCredentials(c), nil
}

// SetUserCredentials implements storage.Users; ErrNotFound for an unknown
// account.
func (s *Store) SetUserCredentials(ctx context.Context, bare string, c storage.Credentials) error {
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.mu.Unlock()
	if _, ok := s.users[bare]; !ok {
		return storage.ErrNotFound
	}
	s.users[bare] = cloneCredentials(c)
	delete(s.fast, bare)
	return nil
}

// ReplaceUserCredentials implements storage.Users.
func (s *Store) ReplaceUserCredentials(ctx context.Context, bare string, old, c storage.Credentials) (bool, error) {
	if err := s.lock(ctx); err != nil {
		return false, err
	}
	defer s.mu.Unlock()
	now, ok := s.users[bare]
	if !ok {
		return false, storage.ErrNotFound
	}
	if !now.Equal(old) {
		return false, nil
	}
	s.users[bare] = cloneCredentials(c)
	delete(s.fast, bare)
	return true, nil
}

// UserExists implements storage.Users.
func (s *Store) UserExists(ctx context.Context, bare string) (bool, error) {
	if err := s.rlock(ctx); err != nil {
		return false, err
	}
	defer s.mu.RUnlock()
	_, ok := s.users[bare]
	return ok, nil
}

// DeleteUser implements storage.Users.
func (s *Store) DeleteUser(ctx context.Context, bare string) error {
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.mu.Unlock()
	if _, ok := s.users[bare]; !ok {
		return storage.ErrNotFound
	}
	delete(s.users, bare)
	delete(s.disabled, bare)
	delete(s.rosters, bare)
	delete(s.offline, bare)
	delete(s.archives, bare)
	delete(s.prefs, bare)
	delete(s.blocked, bare)
	delete(s.docs, bare)
	delete(s.pep, bare)
	delete(s.fast, bare)
	for _, r := range s.rooms { // see storage.Rooms: bans stay
		if a, ok := r.Affiliations[bare]; ok && a != "outcast" {
			delete(r.Affiliations, bare)
		}
	}
	return nil
}

// ListUsers implements storage.Users.
func (s *Store) ListUsers(ctx context.Context, domain string) ([]string, error) {
	if err := s.rlock(ctx); err != nil {
		return nil, err
	}
	defer s.mu.RUnlock()
	var out []string
	for bare := range s.users {
		if domain == "" || domainOf(bare) == domain {
			out = append(out, bare)
		}
	}
	slices.Sort(out)
	return out, nil
}

// ---------------------------------------------------------------- rosters

func version(v uint64) string { return strconv.FormatUint(v, 10) }

// Roster implements storage.Rosters.
func (s *Store) Roster(ctx context.Context, owner string) ([]storage.RosterItem, string, error) {
	if err := s.rlock(ctx); err != nil {
		return nil, "", err
	}
	defer s.mu.RUnlock()
	r := s.rosters[owner]
	if r == nil {
		return nil, version(0), nil
	}
	var items []storage.RosterItem
	for _, it := range r.items {
		items = append(items, cloneRosterItem(it))
	}
	slices.SortFunc(items, func(a, b storage.RosterItem) int { return strings.Compare(a.JID, b.JID) })
	return items, version(r.version), nil
}

// RosterItem implements storage.Rosters.
func (s *Store) RosterItem(ctx context.Context, owner, contact string) (storage.RosterItem, error) {
	if err := s.rlock(ctx); err != nil {
		return storage.RosterItem{}, err
	}
	defer s.mu.RUnlock()
	if r := s.rosters[owner]; r != nil {
		if it, ok := r.items[contact]; ok {
			return cloneRosterItem(it), nil
		}
	}
	return storage.RosterItem{}, storage.ErrNotFound
}

// PutRosterItem implements storage.Rosters.
func (s *Store) PutRosterItem(ctx context.Context, owner string, item storage.RosterItem, visible bool) (string, error) {
	if err := s.lock(ctx); err != nil {
		return "", err
	}
	defer s.mu.Unlock()
	r := s.rosters[owner]
	if r == nil {
		r = &roster{items: make(map[string]storage.RosterItem)}
		s.rosters[owner] = r
	}
	r.items[item.JID] = cloneRosterItem(item)
	if visible {
		r.version++
	}
	return version(r.version), nil
}

// DeleteRosterItem implements storage.Rosters.
func (s *Store) DeleteRosterItem(ctx context.Context, owner, contact string, visible bool) (string, error) {
	if err := s.lock(ctx); err != nil {
		return "", err
	}
	defer s.mu.Unlock()
	r := s.rosters[owner]
	if r == nil {
		return "", storage.ErrNotFound
	}
	if _, ok := r.items[contact]; !ok {
		return "", storage.ErrNotFound
	}
	delete(r.items, contact)
	if visible {
		r.version++
	}
	return version(r.version), nil
}

// ---------------------------------------------------------------- offline

// StoreOffline implements storage.Offline. The Seq of m is ignored and
// assigned from a store-wide counter; a zero Stored time means now.
func (s *Store) StoreOffline(ctx context.Context, owner string, m storage.OfflineMessage, limit int) error {
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.mu.Unlock()
	q := s.offline[owner]
	if limit > 0 && len(q) >= limit {
		return storage.ErrQuotaExceeded
	}
	s.offlineSeq++
	m.Seq = s.offlineSeq
	m.Stanza = cloneBytes(m.Stanza)
	if m.Stored.IsZero() {
		m.Stored = time.Now()
	}
	m.Stored = time.UnixMicro(m.Stored.UnixMicro()).UTC()
	s.offline[owner] = append(q, m)
	return nil
}

// OfflineMessages implements storage.Offline.
func (s *Store) OfflineMessages(ctx context.Context, owner string) ([]storage.OfflineMessage, error) {
	if err := s.rlock(ctx); err != nil {
		return nil, err
	}
	defer s.mu.RUnlock()
	q := s.offline[owner]
	if len(q) == 0 {
		return nil, nil
	}
	out := make([]storage.OfflineMessage, len(q))
	for i, m := range q {
		m.Stanza = cloneBytes(m.Stanza)
		out[i] = m
	}
	return out, nil
}

// DeleteOffline implements storage.Offline.
func (s *Store) DeleteOffline(ctx context.Context, owner string, upTo int64) error {
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.mu.Unlock()
	q := s.offline[owner]
	n := sort.Search(len(q), func(i int) bool { return q[i].Seq > upTo })
	if n == len(q) {
		delete(s.offline, owner)
		return nil
	}
	s.offline[owner] = slices.Clone(q[n:])
	return nil
}

// ---------------------------------------------------------------- archive

// lastStamp returns the stamp (in microseconds) of the newest stored
// archive item of any owner, or math.MinInt64 for an empty store.
func (s *Store) lastStamp() int64 {
	var id int64
	stamp := int64(math.MinInt64)
	for _, a := range s.archives {
		if m := a[len(a)-1]; m.ID > id {
			id, stamp = m.ID, m.Stamp.UnixMicro()
		}
	}
	return stamp
}

// AppendArchive implements storage.Archive. It sets ID and Stamp (as
// stored: UTC, microseconds, clamped) of every message.
func (s *Store) AppendArchive(ctx context.Context, msgs []*storage.ArchivedMessage) error {
	for _, m := range msgs {
		if m == nil || m.Owner == "" {
			return errEmptyOwner
		}
	}
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.mu.Unlock()
	last := s.lastStamp()
	now := time.Now()
	for _, m := range msgs {
		st := m.Stamp
		if st.IsZero() {
			st = now
		}
		us := max(st.UnixMicro(), last)
		last = us
		s.nextID++
		m.ID = s.nextID
		m.Stamp = time.UnixMicro(us).UTC()
		c := cloneMessage(m)
		s.archives[m.Owner] = append(s.archives[m.Owner], &c)
	}
	return nil
}

// span is the half-open index range [lo, hi) of an owner's slice whose
// items satisfy the Start/End and AfterID/BeforeID bounds.
func span(a []*storage.ArchivedMessage, q storage.ArchiveQuery) (lo, hi int) {
	lo, hi = 0, len(a)
	if !q.Start.IsZero() {
		start := ceilMicro(q.Start)
		lo = sort.Search(len(a), func(i int) bool { return a[i].Stamp.UnixMicro() >= start })
	}
	if !q.End.IsZero() {
		end := q.End.UnixMicro()
		hi = sort.Search(len(a), func(i int) bool { return a[i].Stamp.UnixMicro() > end })
	}
	if q.AfterID != 0 {
		lo = max(lo, sort.Search(len(a), func(i int) bool { return a[i].ID > q.AfterID }))
	}
	if q.BeforeID != 0 {
		hi = min(hi, sort.Search(len(a), func(i int) bool { return a[i].ID >= q.BeforeID }))
	}
	return lo, max(lo, hi)
}

// ceilMicro is the smallest microsecond count not earlier than t.
func ceilMicro(t time.Time) int64 {
	us := t.UnixMicro()
	if t.Nanosecond()%1000 != 0 {
		us++
	}
	return us
}

// matcher returns the per-item filter of q other than the range bounds.
// The text filter is a scan: every candidate's body is folded and
// compared (storage.MatchText), the reference semantics.
func matcher(q storage.ArchiveQuery) (func(*storage.ArchivedMessage) bool, error) {
	terms, err := storage.TextTerms(q.Text)
	if err != nil {
		return nil, err
	}
	var idset map[int64]bool
	if len(q.IDs) > 0 {
		idset = make(map[int64]bool, len(q.IDs))
		for _, id := range q.IDs {
			idset[id] = true
		}
	}
	return func(m *storage.ArchivedMessage) bool {
		if q.With != "" {
			if m.With != q.With {
				return false
			}
			if q.WithResource != "" && m.WithResource != q.WithResource {
				return false
			}
		}
		if idset != nil && !idset[m.ID] {
			return false
		}
		return len(terms) == 0 || storage.MatchText(storage.FoldText(m.Body), terms)
	}, nil
}

// QueryArchive implements storage.Archive.
func (s *Store) QueryArchive(ctx context.Context, q storage.ArchiveQuery) (storage.ArchivePage, error) {
	if err := s.rlock(ctx); err != nil {
		return storage.ArchivePage{}, err
	}
	defer s.mu.RUnlock()
	a := s.archives[q.Owner]
	lo, hi := span(a, q)
	match, err := matcher(q)
	if err != nil {
		return storage.ArchivePage{}, err
	}
	limit := q.Limit
	if limit <= 0 {
		limit = math.MaxInt
	}
	var page []storage.ArchivedMessage
	more := false
	if q.Last {
		for i := hi - 1; i >= lo; i-- {
			if !match(a[i]) {
				continue
			}
			if len(page) == limit {
				more = true
				break
			}
			page = append(page, cloneMessage(a[i]))
		}
		slices.Reverse(page)
	} else {
		for i := lo; i < hi; i++ {
			if !match(a[i]) {
				continue
			}
			if len(page) == limit {
				more = true
				break
			}
			page = append(page, cloneMessage(a[i]))
		}
	}
	return storage.ArchivePage{Messages: page, Complete: !more}, nil
}

// CountArchive implements storage.Archive. Without With and IDs the
// matching items are the run span finds, counted without a walk.
func (s *Store) CountArchive(ctx context.Context, q storage.ArchiveQuery, max int) (int, error) {
	if err := s.rlock(ctx); err != nil {
		return 0, err
	}
	defer s.mu.RUnlock()
	a := s.archives[q.Owner]
	lo, hi := span(a, q)
	if max <= 0 {
		max = math.MaxInt
	}
	match, err := matcher(q)
	if err != nil {
		return 0, err
	}
	if q.With == "" && len(q.IDs) == 0 && q.Text == "" {
		return min(hi-lo, max), nil
	}
	n := 0
	for i := lo; i < hi && n < max; i++ {
		if match(a[i]) {
			n++
		}
	}
	return n, nil
}

func find(a []*storage.ArchivedMessage, id int64) (int, bool) {
	return sort.Find(len(a), func(i int) int {
		switch {
		case id < a[i].ID:
			return -1
		case id > a[i].ID:
			return 1
		}
		return 0
	})
}

// ArchiveIDsExist implements storage.Archive.
func (s *Store) ArchiveIDsExist(ctx context.Context, owner string, ids []int64) (map[int64]bool, error) {
	if err := s.rlock(ctx); err != nil {
		return nil, err
	}
	defer s.mu.RUnlock()
	a := s.archives[owner]
	out := make(map[int64]bool, len(ids))
	for _, id := range ids {
		_, ok := find(a, id)
		out[id] = ok
	}
	return out, nil
}

// ArchiveBounds implements storage.Archive.
func (s *Store) ArchiveBounds(ctx context.Context, owner string) (first, last storage.ArchivedMessage, ok bool, err error) {
	if err := s.rlock(ctx); err != nil {
		return first, last, false, err
	}
	defer s.mu.RUnlock()
	a := s.archives[owner]
	if len(a) == 0 {
		return first, last, false, nil
	}
	return cloneMessage(a[0]), cloneMessage(a[len(a)-1]), true, nil
}

// FindByOriginID implements storage.Archive; the newest match wins.
func (s *Store) FindByOriginID(ctx context.Context, owner, with string, outgoing bool, originID string) (storage.ArchivedMessage, bool, error) {
	if err := s.rlock(ctx); err != nil {
		return storage.ArchivedMessage{}, false, err
	}
	defer s.mu.RUnlock()
	if originID == "" {
		return storage.ArchivedMessage{}, false, nil
	}
	a := s.archives[owner]
	for i := len(a) - 1; i >= 0; i-- {
		if m := a[i]; m.OriginID == originID && m.With == with && m.Outgoing == outgoing {
			return cloneMessage(m), true, nil
		}
	}
	return storage.ArchivedMessage{}, false, nil
}

// setArchive replaces owner's archive, dropping the key when it is empty.
func (s *Store) setArchive(owner string, a []*storage.ArchivedMessage) {
	if len(a) == 0 {
		delete(s.archives, owner)
		return
	}
	s.archives[owner] = a
}

// PurgeArchive implements storage.Archive.
func (s *Store) PurgeArchive(ctx context.Context, owner, with string, before time.Time) (int, error) {
	if err := s.lock(ctx); err != nil {
		return 0, err
	}
	defer s.mu.Unlock()
	a := s.archives[owner]
	hi := len(a)
	if !before.IsZero() {
		b := ceilMicro(before) // stamp < before  <=>  stamp < ceil(before)
		hi = sort.Search(len(a), func(i int) bool { return a[i].Stamp.UnixMicro() >= b })
	}
	keep := make([]*storage.ArchivedMessage, 0, len(a))
	n := 0
	for i, m := range a {
		if i < hi && (with == "" || m.With == with) {
			n++
			continue
		}
		keep = append(keep, m)
	}
	s.setArchive(owner, keep)
	return n, nil
}

// ExpireArchive implements storage.Archive.
func (s *Store) ExpireArchive(ctx context.Context, before time.Time, batch int) (int, error) {
	if err := s.lock(ctx); err != nil {
		return 0, err
	}
	defer s.mu.Unlock()
	b := ceilMicro(before)
	type cand struct {
		owner string
		id    int64
	}
	var cands []cand
	for owner, a := range s.archives {
		n := sort.Search(len(a), func(i int) bool { return a[i].Stamp.UnixMicro() >= b })
		for _, m := range a[:n] {
			cands = append(cands, cand{owner, m.ID})
		}
	}
	slices.SortFunc(cands, func(x, y cand) int {
		switch {
		case x.id < y.id:
			return -1
		case x.id > y.id:
			return 1
		}
		return 0
	})
	if batch > 0 && len(cands) > batch {
		cands = cands[:batch]
	}
	// Each owner loses a prefix of its slice: count how long.
	cut := make(map[string]int)
	for _, c := range cands {
		cut[c.owner]++
	}
	for owner, n := range cut {
		s.setArchive(owner, slices.Clone(s.archives[owner][n:]))
	}
	return len(cands), nil
}

// TrimArchive implements storage.Archive.
func (s *Store) TrimArchive(ctx context.Context, owner string, keep int) (int, error) {
	if err := s.lock(ctx); err != nil {
		return 0, err
	}
	defer s.mu.Unlock()
	a := s.archives[owner]
	keep = max(keep, 0)
	if len(a) <= keep {
		return 0, nil
	}
	n := len(a) - keep
	s.setArchive(owner, slices.Clone(a[n:]))
	return n, nil
}

// ArchiveStats implements storage.Archive.
func (s *Store) ArchiveStats(ctx context.Context, owner string) (map[string]int, error) {
	if err := s.rlock(ctx); err != nil {
		return nil, err
	}
	defer s.mu.RUnlock()
	if owner != "" {
		return map[string]int{owner: len(s.archives[owner])}, nil
	}
	out := make(map[string]int, len(s.archives))
	for o, a := range s.archives {
		out[o] = len(a)
	}
	return out, nil
}

// ArchivePrefs implements storage.Archive.
func (s *Store) ArchivePrefs(ctx context.Context, owner string) (storage.ArchivePrefs, bool, error) {
	if err := s.rlock(ctx); err != nil {
		return storage.ArchivePrefs{}, false, err
	}
	defer s.mu.RUnlock()
	p, ok := s.prefs[owner]
	if !ok {
		return storage.ArchivePrefs{}, false, nil
	}
	return storage.ArchivePrefs{Default: p.Default, Always: cloneStrings(p.Always), Never: cloneStrings(p.Never)}, true, nil
}

// SetArchivePrefs implements storage.Archive.
func (s *Store) SetArchivePrefs(ctx context.Context, owner string, p storage.ArchivePrefs) error {
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.mu.Unlock()
	s.prefs[owner] = storage.ArchivePrefs{Default: p.Default, Always: cloneStrings(p.Always), Never: cloneStrings(p.Never)}
	return nil
}

// ---------------------------------------------------------------- blocking

// Blocklist implements storage.Blocking.
func (s *Store) Blocklist(ctx context.Context, owner string) ([]string, error) {
	if err := s.rlock(ctx); err != nil {
		return nil, err
	}
	defer s.mu.RUnlock()
	var out []string
	for j := range s.blocked[owner] {
		out = append(out, j)
	}
	slices.Sort(out)
	return out, nil
}

// Block implements storage.Blocking.
func (s *Store) Block(ctx context.Context, owner string, jids []string) ([]string, error) {
	if owner == "" {
		return nil, errEmptyOwner
	}
	if err := s.lock(ctx); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	set := s.blocked[owner]
	if set == nil {
		set = make(map[string]bool)
		s.blocked[owner] = set
	}
	var added []string
	for _, j := range jids {
		if !set[j] {
			set[j] = true
			added = append(added, j)
		}
	}
	return added, nil
}

// Unblock implements storage.Blocking.
func (s *Store) Unblock(ctx context.Context, owner string, jids []string) ([]string, error) {
	if err := s.lock(ctx); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	set := s.blocked[owner]
	var removed []string
	if len(jids) == 0 {
		for j := range set {
			removed = append(removed, j)
		}
		slices.Sort(removed)
		delete(s.blocked, owner)
		return removed, nil
	}
	for _, j := range jids {
		if set[j] {
			delete(set, j)
			removed = append(removed, j)
		}
	}
	if len(set) == 0 {
		delete(s.blocked, owner)
	}
	return removed, nil
}

// ReplaceArchived implements storage.Archive.
func (s *Store) ReplaceArchived(ctx context.Context, owner string, id int64, body string, stanza []byte) (bool, error) {
	if err := s.lock(ctx); err != nil {
		return false, err
	}
	defer s.mu.Unlock()
	a := s.archives[owner]
	i, ok := find(a, id)
	if !ok {
		return false, nil
	}
	// A new item rather than a write into the stored one, whose Stanza a
	// reader may still be copying from.
	c := *a[i]
	c.Body, c.Stanza = body, cloneBytes(stanza)
	a[i] = &c
	return true, nil
}
