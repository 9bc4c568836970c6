package sqlite

import (
	"math"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/ncruces/go-sqlite3"

	"github.com/skald-xmpp/skald/storage"
)

// A full-text query (ArchiveQuery.Text) reads, in one snapshot:
//
//   - the indexed part, ids up to archive_fts_mark: archive_fts MATCH the
//     owner's marker AND each term of three or more characters as a
//     quoted trigram phrase (a substring of the folded body), in rowid
//     order, each candidate joined to its archive row by rowid;
//   - the tail, ids above the mark: the owner's rows by the page's own
//     index range scan (archive_with or archive_time).
//
// Every candidate is checked in Go (owner, peer, ids, storage.MatchText
// on the folded body), so the result is exactly storage's definition
// whatever the index returns: the index only narrows. A query whose terms
// are all shorter than three characters (trigrams cannot look them up)
// scans the owner's range instead. Forward pages read the indexed part
// then the tail, Last pages the tail then the indexed part, backwards,
// so a page is the first (last) Limit matches of the range either way.
//
// Cost bound: a query examines at most Options.TextScanBudget candidate
// rows. If the page is not full by then it is answered with what was
// found and Complete false (the next page continues after its last
// item); with nothing found, ErrTextTooBroad.

// ftsPageSQL is the indexed part, ascending or descending.
const ftsPageSQL = `SELECT ` + msgCols + `, owner FROM archive_fts CROSS JOIN archive ON archive.id = archive_fts.rowid
	WHERE archive_fts MATCH ?1 AND archive_fts.rowid > ?2 AND archive_fts.rowid < ?3 ORDER BY archive_fts.rowid`

var ftsSQL = [2]string{ftsPageSQL, ftsPageSQL + ` DESC`}

// ftsMatch is the MATCH expression: the owner marker and every long term,
// each a quoted string (a quote in it doubled), so no character of the
// query is FTS5 syntax.
func ftsMatch(owner string, long []string) string {
	var b strings.Builder
	b.WriteString(`o:"` + ownerMarker(owner) + `"`)
	for _, t := range long {
		b.WriteString(` AND b:"`)
		b.WriteString(strings.ReplaceAll(t, `"`, `""`))
		b.WriteString(`"`)
	}
	return b.String()
}

// longTerms are the terms trigrams can look up.
func longTerms(terms []string) []string {
	var out []string
	for _, t := range terms {
		if utf8.RuneCountInString(t) >= 3 {
			out = append(out, t)
		}
	}
	return out
}

func foldIndexed(body []byte) string { return storage.FoldText(string(body)) }

// textSearch is one full-text query in progress.
type textSearch struct {
	q      storage.ArchiveQuery
	terms  []string
	idset  map[int64]bool
	want   int // matches wanted (Limit+1), -1: all
	budget int // candidates left to examine
	found  []storage.ArchivedMessage
	broke  bool // stopped by the budget
}

// done reports whether the page is full.
func (ts *textSearch) done() bool { return ts.want >= 0 && len(ts.found) >= ts.want }

// take checks the current row of st (msgCols) and keeps it if it
// matches; checkRow adds the owner and peer checks of index candidates.
// It reports false once the search must stop.
func (ts *textSearch) take(st *sqlite3.Stmt, checkRow bool) bool {
	if ts.budget <= 0 {
		ts.broke = true
		return false
	}
	ts.budget--
	if checkRow {
		if string(st.ColumnRawText(8)) != ts.q.Owner {
			return true
		}
		if ts.q.With != "" && (string(st.ColumnRawText(1)) != ts.q.With ||
			ts.q.WithResource != "" && string(st.ColumnRawText(2)) != ts.q.WithResource) {
			return true
		}
	}
	if ts.idset != nil && !ts.idset[st.ColumnInt64(0)] {
		return true
	}
	if !storage.MatchText(foldIndexed(st.ColumnRawText(6)), ts.terms) {
		return true
	}
	ts.found = append(ts.found, scanOne(st, ts.q.Owner))
	return !ts.done()
}

// textRange is the exclusive id range (lo, hi) of q: its AfterID,
// BeforeID, Start/End (two seeks on archive_time, see idRange) and IDs.
func textRange(c *conn, q storage.ArchiveQuery) (lo, hi int64, empty bool, err error) {
	lo, hi = q.AfterID, int64(math.MaxInt64)
	if q.BeforeID != 0 {
		hi = q.BeforeID
	}
	if !q.Start.IsZero() {
		id, ok, err := seekID(c, firstFromSQL, q.Owner, ceilMicro(q.Start))
		if err != nil || !ok {
			return 0, 0, true, err
		}
		lo = max(lo, id-1)
	}
	if !q.End.IsZero() {
		id, ok, err := seekID(c, lastUntilSQL, q.Owner, q.End.UnixMicro())
		if err != nil || !ok {
			return 0, 0, true, err
		}
		hi = min(hi, id+1)
	}
	if len(q.IDs) > 0 {
		lo = max(lo, slices.Min(q.IDs)-1)
		hi = min(hi, slices.Max(q.IDs)+1)
	}
	return lo, hi, hi-lo <= 1, nil
}

// scanSegment feeds the owner's rows with ids in (lo, hi) to ts, by the
// page statement of a query without text.
func (ts *textSearch) scanSegment(c *conn, lo, hi int64, desc bool) error {
	if hi-lo <= 1 {
		return nil
	}
	sq := storage.ArchiveQuery{Owner: ts.q.Owner, With: ts.q.With, WithResource: ts.q.WithResource, IDs: ts.q.IDs, Last: desc}
	if lo > 0 {
		sq.AfterID = lo
	}
	if hi != math.MaxInt64 {
		sq.BeforeID = hi
	}
	st, err := pageStmt(c, sq)
	if err != nil || st == nil {
		return err
	}
	defer st.Reset()
	for st.Step() {
		if !ts.take(st, false) {
			return nil
		}
	}
	return st.Err()
}

// indexSegment feeds ts the index candidates with ids in (lo, hi).
func (ts *textSearch) indexSegment(c *conn, match string, lo, hi int64, desc bool) error {
	if hi-lo <= 1 {
		return nil
	}
	sql := ftsSQL[0]
	if desc {
		sql = ftsSQL[1]
	}
	st, err := c.prep(sql)
	if err != nil {
		return err
	}
	defer st.Reset()
	if err := bind(st, match, lo, hi); err != nil {
		return err
	}
	for st.Step() {
		if !ts.take(st, true) {
			return nil
		}
	}
	return st.Err()
}

// queryText runs a text query; want is Limit+1 (-1: every match). It
// returns the matches in the order found (descending for Last) and
// whether the budget stopped it.
func (s *Store) queryText(c *conn, q storage.ArchiveQuery, terms []string, want int) (*textSearch, error) {
	ts := &textSearch{q: q, terms: terms, want: want, budget: s.opts.TextScanBudget}
	if len(q.IDs) > 0 {
		ts.idset = make(map[int64]bool, len(q.IDs))
		for _, id := range q.IDs {
			ts.idset[id] = true
		}
	}
	lo, hi, empty, err := textRange(c, q)
	if err != nil || empty {
		return ts, err
	}
	long := longTerms(terms)
	if len(long) == 0 || len(q.IDs) > 0 {
		// Nothing the index can look up, or a short list of ids: a scan.
		return ts, ts.scanSegment(c, lo, hi, q.Last)
	}
	mark, _, err := queryInt(c, `SELECT id FROM archive_fts_mark WHERE one=0`)
	if err != nil {
		return ts, err
	}
	match := ftsMatch(q.Owner, long)
	indexed := func() error { return ts.indexSegment(c, match, lo, min(hi, mark+1), q.Last) }
	tail := func() error { return ts.scanSegment(c, max(lo, mark), hi, q.Last) }
	first, second := indexed, tail
	if q.Last {
		first, second = tail, indexed
	}
	if err := first(); err != nil || ts.done() || ts.broke {
		return ts, err
	}
	return ts, second()
}

// queryArchiveText is QueryArchive for a query with text terms.
func (s *Store) queryArchiveText(c *conn, q storage.ArchiveQuery, terms []string) (storage.ArchivePage, error) {
	want := -1
	if q.Limit > 0 {
		want = q.Limit + 1
	}
	ts, err := s.queryText(c, q, terms, want)
	if err != nil {
		return storage.ArchivePage{}, err
	}
	page := storage.ArchivePage{Messages: ts.found, Complete: !ts.broke}
	if q.Limit > 0 && len(page.Messages) > q.Limit {
		page.Complete = false
		page.Messages = page.Messages[:q.Limit]
	}
	if ts.broke && len(page.Messages) == 0 {
		return storage.ArchivePage{}, storage.ErrTextTooBroad
	}
	if q.Last {
		slices.Reverse(page.Messages)
	}
	if len(page.Messages) == 0 {
		page.Messages = nil
	}
	return page, nil
}
