package store

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migration is one versioned schema change, from migrations/NNNN_name.sql.
type migration struct {
	version int64
	name    string
	sql     string
}

// dialectTypes are the only spellings that differ between the dialects in
// migration SQL.
var dialectTypes = map[string]map[string]string{
	DialectSQLite:   {"${BLOB}": "BLOB"},
	DialectPostgres: {"${BLOB}": "BYTEA"},
}

// migrationLockID is the PostgreSQL advisory lock key that serialises
// migrations of gateways starting at once ("mseal" in ASCII).
const migrationLockID = 0x6d7365616c

func loadMigrations() ([]migration, error) {
	names, err := fs.Glob(migrationFiles, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, n := range names {
		base := strings.TrimSuffix(strings.TrimPrefix(n, "migrations/"), ".sql")
		num, name, ok := strings.Cut(base, "_")
		v, err := strconv.ParseInt(num, 10, 64)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("store: migration file %s: want NNNN_name.sql", n)
		}
		b, err := migrationFiles.ReadFile(n)
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: name, sql: string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	for i := 1; i < len(ms); i++ {
		if ms[i].version == ms[i-1].version {
			return nil, fmt.Errorf("store: two migrations with version %d", ms[i].version)
		}
	}
	return ms, nil
}

// statements splits migration SQL into statements (at ";" ending a line)
// and substitutes the dialect's type names. Comment lines are dropped.
func statements(src, dialect string) []string {
	var out []string
	var cur strings.Builder
	for _, line := range strings.Split(src, "\n") {
		t := strings.TrimSpace(line)
		if t == "" || strings.HasPrefix(t, "--") {
			continue
		}
		cur.WriteString(line)
		cur.WriteByte('\n')
		if strings.HasSuffix(t, ";") {
			out = append(out, cur.String())
			cur.Reset()
		}
	}
	if strings.TrimSpace(cur.String()) != "" {
		out = append(out, cur.String())
	}
	for i, st := range out {
		for from, to := range dialectTypes[dialect] {
			st = strings.ReplaceAll(st, from, to)
		}
		out[i] = st
	}
	return out
}

// migrate applies every pending migration, each in its own transaction
// together with its schema_migrations row.
func (s *SQL) migrate(ctx context.Context) error {
	ms, err := loadMigrations()
	if err != nil {
		return err
	}
	for _, m := range ms {
		err := s.tx(ctx, func(tx *sql.Tx) error {
			if s.dialect == DialectPostgres {
				if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1)", migrationLockID); err != nil {
					return err
				}
			}
			if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
				version    BIGINT PRIMARY KEY,
				name       TEXT NOT NULL,
				applied_at BIGINT NOT NULL)`); err != nil {
				return err
			}
			var n int
			if err := tx.QueryRowContext(ctx, s.q("SELECT COUNT(*) FROM schema_migrations WHERE version = ?"), m.version).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return nil
			}
			for _, st := range statements(m.sql, s.dialect) {
				if _, err := tx.ExecContext(ctx, st); err != nil {
					return fmt.Errorf("%w\n%s", err, st)
				}
			}
			_, err := tx.ExecContext(ctx, s.q("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)"),
				m.version, m.name, s.now().UnixNano())
			return err
		})
		if err != nil {
			return fmt.Errorf("store: migration %04d_%s: %w", m.version, m.name, err)
		}
	}
	return nil
}

// SchemaVersion returns the highest applied migration version.
func (s *SQL) SchemaVersion(ctx context.Context) (int64, error) {
	var v sql.NullInt64
	if err := s.db.QueryRowContext(ctx, "SELECT MAX(version) FROM schema_migrations").Scan(&v); err != nil {
		return 0, fmt.Errorf("store: schema version: %w", err)
	}
	return v.Int64, nil
}
