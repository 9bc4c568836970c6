package storage

import (
	"strings"
	"testing"
	"testing/fstest"
)

func TestReadMigrations(t *testing.T) {
	file := func(sql string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(sql)} }
	tests := []struct {
		name      string
		fsys      fstest.MapFS
		wantNames []string
		wantErr   string
	}{
		{"none", fstest.MapFS{}, nil, ""},
		{"sorted by number", fstest.MapFS{
			"migrations/0002_b.sql":  file("B"),
			"migrations/0001_a.sql":  file("A"),
			"migrations/README.txt":  file("not sql"),
			"other/0003_ignored.sql": file("C"),
		}, []string{"0001_a.sql", "0002_b.sql"}, ""},
		{"gap", fstest.MapFS{"migrations/0001_a.sql": file(""), "migrations/0003_c.sql": file("")}, nil, "0003_c.sql: expected version 2"},
		{"does not start at 1", fstest.MapFS{"migrations/0002_b.sql": file("")}, nil, "expected version 1"},
		{"no number", fstest.MapFS{"migrations/x.sql": file("")}, nil, "NNNN_description.sql"},
		{"not a number", fstest.MapFS{"migrations/one_a.sql": file("")}, nil, "NNNN_description.sql"},
		{"zero", fstest.MapFS{"migrations/0000_a.sql": file("")}, nil, "NNNN_description.sql"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ms, err := ReadMigrations(tc.fsys)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(ms) != len(tc.wantNames) {
				t.Fatalf("got %d migrations, want %d", len(ms), len(tc.wantNames))
			}
			for i, m := range ms {
				if m.Name != tc.wantNames[i] || m.Version != i+1 {
					t.Errorf("migration %d = %d %s, want %d %s", i, m.Version, m.Name, i+1, tc.wantNames[i])
				}
				if want := string(tc.fsys["migrations/"+m.Name].Data); m.SQL != want {
					t.Errorf("%s: SQL %q, want %q", m.Name, m.SQL, want)
				}
			}
		})
	}
}
