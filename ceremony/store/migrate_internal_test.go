package store

import (
	"strings"
	"testing"
)

func TestMigrationsLoad(t *testing.T) {
	ms, err := loadMigrations()
	if err != nil || len(ms) == 0 {
		t.Fatalf("loadMigrations = %d, %v", len(ms), err)
	}
	// Versions strictly increase. Parallel branches each take a number
	// the lead assigns (e.g. 0011 while 0008-0010 land elsewhere), so a
	// branch alone may have a gap; the merged tree should have none.
	for i, m := range ms {
		if i > 0 && m.version <= ms[i-1].version {
			t.Errorf("migration %d has version %d after %d: versions must increase", i, m.version, ms[i-1].version)
		}
		for _, d := range []string{DialectSQLite, DialectPostgres} {
			for _, st := range statements(m.sql, d) {
				if strings.Contains(st, "${") {
					t.Errorf("%s %s: unsubstituted placeholder in %q", m.name, d, st)
				}
			}
		}
	}
}

func TestStatements(t *testing.T) {
	src := "-- comment ${BLOB}\nCREATE TABLE a (\n  b ${BLOB}\n);\n\nCREATE INDEX i ON a (b);\nSELECT 1"
	tests := []struct {
		dialect string
		want    []string
	}{
		{DialectSQLite, []string{"CREATE TABLE a (\n  b BLOB\n);\n", "CREATE INDEX i ON a (b);\n", "SELECT 1\n"}},
		{DialectPostgres, []string{"CREATE TABLE a (\n  b BYTEA\n);\n", "CREATE INDEX i ON a (b);\n", "SELECT 1\n"}},
	}
	for _, tc := range tests {
		got := statements(src, tc.dialect)
		if strings.Join(got, "|") != strings.Join(tc.want, "|") {
			t.Errorf("%s: got %q, want %q", tc.dialect, got, tc.want)
		}
	}
}

func TestRebind(t *testing.T) {
	tests := []struct{ dialect, in, want string }{
		{DialectSQLite, "a = ? AND b = ?", "a = ? AND b = ?"},
		{DialectPostgres, "a = ? AND b = ?", "a = $1 AND b = $2"},
		{DialectPostgres, "no params", "no params"},
	}
	for _, tc := range tests {
		if got := (&SQL{dialect: tc.dialect}).q(tc.in); got != tc.want {
			t.Errorf("%s q(%q) = %q, want %q", tc.dialect, tc.in, got, tc.want)
		}
	}
}
