package postgres

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/skald-xmpp/skald/storage"
)

// TestQueryPlans pins the plans of the page and count statements on an
// analysed archive of 100 owners with 4 peers each: each is an index scan of the index
// doc.go names for it, in the paging direction, with no sort and no
// sequential scan, so a page costs the same at any archive size.
func TestQueryPlans(t *testing.T) {
	s := openTest(t, Options{})
	var ms []*storage.ArchivedMessage
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 20000 {
		ms = append(ms, &storage.ArchivedMessage{Owner: "u" + strconv.Itoa(i%100) + "@x",
			With: "p" + strconv.Itoa(i/100%4) + "@x", OriginID: "o" + strconv.Itoa(i%50), Stamp: t0.Add(time.Duration(i) * time.Second)})
	}
	if err := s.AppendArchive(bg, ms); err != nil {
		t.Fatal(err)
	}
	if _, err := s.pool.Exec(bg, `ANALYZE archive`); err != nil {
		t.Fatal(err)
	}
	owner := ms[0].Owner
	tests := []struct {
		name  string
		q     storage.ArchiveQuery
		index string
		count bool
	}{
		{"last page", storage.ArchiveQuery{Owner: owner, Last: true, Limit: 10}, "archive_owner", false},
		{"after id", storage.ArchiveQuery{Owner: owner, AfterID: ms[12000].ID, Limit: 10}, "archive_owner", false},
		{"peer, before id", storage.ArchiveQuery{Owner: owner, With: ms[0].With, BeforeID: ms[15000].ID, Last: true, Limit: 10}, "archive_with", false},
		{"start and end", storage.ArchiveQuery{Owner: owner, Start: t0.Add(3 * time.Hour), End: t0.Add(4 * time.Hour), Limit: 10}, "archive_owner", false},
		{"count between ids", storage.ArchiveQuery{Owner: owner, AfterID: ms[10000].ID, BeforeID: ms[12000].ID}, "archive_owner", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cond, args, _ := where(tc.q, nil)
			sql := `SELECT ` + msgCols + ` FROM archive` + cond + ` ORDER BY ` + order(tc.q) + ` LIMIT 11`
			if tc.count {
				sql = `SELECT count(*) FROM (SELECT 1 FROM archive` + cond + ` LIMIT 100) r`
			}
			rows, err := s.pool.Query(bg, `EXPLAIN `+sql, args...)
			if err != nil {
				t.Fatal(err)
			}
			var plan []string
			for rows.Next() {
				var line string
				if err := rows.Scan(&line); err != nil {
					t.Fatal(err)
				}
				plan = append(plan, line)
			}
			text := strings.Join(plan, "\n")
			// A count has no order: a bitmap scan of the index's range is as good.
			scans := strings.Contains(text, "using "+tc.index) || (tc.count && strings.Contains(text, "Bitmap Index Scan on "+tc.index))
			if !scans || strings.Contains(text, "Sort") || strings.Contains(text, "Seq Scan") || strings.Contains(text, "archive_pkey") {
				t.Errorf("plan does not scan %s alone:\n%s", tc.index, text)
			}
			if tc.q.Start.IsZero() == false && !strings.Contains(text, "archive_time") {
				t.Errorf("Start/End not sought on archive_time:\n%s", text)
			}
		})
	}
}

// TestResendPlans: FindByOriginID and the resend check of
// AppendArchiveOnce seek archive_origin.
func TestResendPlans(t *testing.T) {
	s := openTest(t, Options{})
	var ms []*storage.ArchivedMessage
	for i := range 20000 {
		ms = append(ms, &storage.ArchivedMessage{Owner: "u" + strconv.Itoa(i%100) + "@x",
			With: "p" + strconv.Itoa(i/100%4) + "@x", OriginID: "o" + strconv.Itoa(i)})
	}
	if err := s.AppendArchive(bg, ms); err != nil {
		t.Fatal(err)
	}
	if _, err := s.pool.Exec(bg, `ANALYZE archive`); err != nil {
		t.Fatal(err)
	}
	for name, q := range map[string]struct {
		sql  string
		args []any
	}{
		"FindByOriginID": {findOriginSQL, []any{"u1@x", "p0@x", "o1", false}},
		"resend check":   {resendSQL, []any{[]string{"u1@x"}, []string{"p0@x"}, []string{"o1"}, []bool{false}}},
	} {
		var plan []string
		rows, err := s.pool.Query(bg, `EXPLAIN `+q.sql, q.args...)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var line string
			if err := rows.Scan(&line); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, line)
		}
		if text := strings.Join(plan, "\n"); !strings.Contains(text, "archive_origin") || strings.Contains(text, "Seq Scan on archive") {
			t.Errorf("%s does not seek archive_origin:\n%s", name, text)
		}
	}
}
