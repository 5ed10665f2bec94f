package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	_ "modernc.org/sqlite"             // registers the "sqlite" driver
)

// Dialect names.
const (
	DialectSQLite   = "sqlite"
	DialectPostgres = "postgres"
)

// Defaults.
const (
	// DefaultSQLiteBusyTimeout is how long a SQLite writer waits for the
	// write lock before failing.
	DefaultSQLiteBusyTimeout = 10 * time.Second
	// DefaultMaxOpenConns caps the PostgreSQL pool of one gateway.
	DefaultMaxOpenConns = 10
)

// Config selects the database. PostgresDSN wins when set; otherwise
// SQLitePath names the embedded database file.
type Config struct {
	// PostgresDSN is a pgx connection string (URL or key=value form).
	PostgresDSN string
	// SQLitePath is the SQLite database file, created if missing.
	SQLitePath string
	// MaxOpenConns caps the pool (PostgreSQL; default DefaultMaxOpenConns).
	MaxOpenConns int
	// Now is the clock (default time.Now); tests may pin it.
	Now func() time.Time
}

// SQL is the database/sql implementation of [Store].
type SQL struct {
	db      *sql.DB
	dialect string
	// sqlitePath is the database file (SQLite), beside which WithLock
	// keeps its lock file.
	sqlitePath string
	now        func() time.Time
	once       sync.Once
	err        error
}

var _ Store = (*SQL)(nil)

// Open connects to the database named by cfg and applies pending migrations.
func Open(ctx context.Context, cfg Config) (*SQL, error) {
	s := &SQL{now: cfg.Now}
	if s.now == nil {
		s.now = time.Now
	}
	var err error
	switch {
	case cfg.PostgresDSN != "":
		s.dialect = DialectPostgres
		s.db, err = sql.Open("pgx", cfg.PostgresDSN)
		if err != nil {
			return nil, fmt.Errorf("store: open postgres: %w", err)
		}
		n := cfg.MaxOpenConns
		if n <= 0 {
			n = DefaultMaxOpenConns
		}
		s.db.SetMaxOpenConns(n)
		s.db.SetMaxIdleConns(n)
	case cfg.SQLitePath != "":
		s.dialect, s.sqlitePath = DialectSQLite, cfg.SQLitePath
		// The index holds wrapped keys and call metadata: owner-only. SQLite
		// gives its -wal and -shm files the database file's mode.
		if err := ensurePrivateFile(cfg.SQLitePath); err != nil {
			return nil, fmt.Errorf("store: sqlite %s: %w", cfg.SQLitePath, err)
		}
		s.db, err = sql.Open("sqlite", sqliteDSN(cfg.SQLitePath))
		if err != nil {
			return nil, fmt.Errorf("store: open sqlite %s: %w", cfg.SQLitePath, err)
		}
		// SQLite has one writer at a time; a few connections let readers
		// proceed beside it (WAL) without piling up lock waits.
		s.db.SetMaxOpenConns(4)
	default:
		return nil, fmt.Errorf("%w: neither PostgresDSN nor SQLitePath is set", ErrInvalid)
	}
	s.db.SetConnMaxIdleTime(5 * time.Minute)
	if err := s.ping(ctx); err != nil {
		s.db.Close()
		return nil, fmt.Errorf("store: connect %s: %w", s.dialect, err)
	}
	if err := s.migrate(ctx); err != nil {
		s.db.Close()
		return nil, err
	}
	return s, nil
}

// ensurePrivateFile creates path with mode 0600 if missing and tightens
// the mode of an existing file.
func ensurePrivateFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Chmod(path, 0o600)
}

// sqliteDSN builds the modernc DSN: WAL for concurrent readers, a busy
// timeout so writers queue instead of failing, foreign keys on, and
// BEGIN IMMEDIATE so a read-then-write transaction cannot deadlock on lock
// upgrade.
func sqliteDSN(path string) string {
	q := url.Values{}
	q.Set("_busy_timeout", fmt.Sprint(DefaultSQLiteBusyTimeout.Milliseconds()))
	q.Set("_journal_mode", "WAL")
	q.Set("_synchronous", "NORMAL")
	q.Set("_foreign_keys", "1")
	q.Set("_txlock", "immediate")
	return "file:" + path + "?" + q.Encode()
}

// Dialect reports "sqlite" or "postgres".
func (s *SQL) Dialect() string { return s.dialect }

// DB exposes the handle for packages that add their own tables (and tests).
func (s *SQL) DB() *sql.DB { return s.db }

// Close closes the database; later calls return the first result.
func (s *SQL) Close() error {
	s.once.Do(func() { s.err = s.db.Close() })
	return s.err
}

// tx runs fn in a transaction and commits it if fn returns nil.
func (s *SQL) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	if err := fn(tx); err != nil {
		return errors.Join(err, ignoreDone(tx.Rollback()))
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
	return nil
}

func ignoreDone(err error) error {
	if errors.Is(err, sql.ErrTxDone) {
		return nil
	}
	return err
}

// ping connects once. A new SQLite connection switches the file to WAL,
// and SQLite answers that switch SQLITE_BUSY at once, without its busy
// handler, while another process (a gateway starting beside this one)
// holds the file: that answer is retried for up to the busy timeout.
func (s *SQL) ping(ctx context.Context) error {
	deadline := time.Now().Add(DefaultSQLiteBusyTimeout)
	for {
		err := s.db.PingContext(ctx)
		if err == nil || s.dialect != DialectSQLite || !strings.Contains(err.Error(), "SQLITE_BUSY") || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(20 * time.Millisecond):
		}
	}
}
