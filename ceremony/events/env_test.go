package events

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite"

	"github.com/mediaseal/mediaseal/internal/testenv"
)

func TestMain(m *testing.M) { testenv.PostgresMain(m) }

// openDB opens an empty database of the dialect with the events tables of
// migration 0009 (read from the store's migrations: this package is below
// ceremony/store, whose Open applies it in the gateway).
func openDB(t *testing.T, dialect string) *Outbox {
	t.Helper()
	var db *sql.DB
	var err error
	blob := "BLOB"
	switch dialect {
	case DialectSQLite:
		db, err = sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "ev.db")+"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)")
	case DialectPostgres:
		db, err = sql.Open("pgx", testenv.PostgresDSN(t))
		blob = "BYTEA"
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	src, err := os.ReadFile("../store/migrations/0009_events.sql")
	if err != nil {
		t.Fatal(err)
	}
	var cur strings.Builder
	for _, line := range strings.Split(string(src), "\n") {
		if l := strings.TrimSpace(line); l == "" || strings.HasPrefix(l, "--") {
			continue
		}
		cur.WriteString(strings.ReplaceAll(line, "${BLOB}", blob) + "\n")
		if strings.HasSuffix(strings.TrimSpace(line), ";") {
			if _, err := db.ExecContext(context.Background(), cur.String()); err != nil {
				t.Fatalf("migration: %v\n%s", err, cur.String())
			}
			cur.Reset()
		}
	}
	o := New(db, dialect)
	o.AllowHTTP = true
	return o
}

func forDialects(t *testing.T, f func(t *testing.T, o *Outbox)) {
	for _, d := range []string{DialectSQLite, DialectPostgres} {
		t.Run(d, func(t *testing.T) { f(t, openDB(t, d)) })
	}
}
