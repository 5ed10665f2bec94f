package store_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/mediaseal/mediaseal/ceremony/store"
	"github.com/mediaseal/mediaseal/internal/testenv"
)

func TestMain(m *testing.M) { testenv.PostgresMain(m) }

// backend opens a fresh, migrated store of one dialect. open may be called
// more than once per test to get several stores on the same database.
type backend struct {
	name string
	// database returns a handle naming a fresh database.
	database func(t *testing.T) store.Config
}

var backends = []backend{
	{"sqlite", func(t *testing.T) store.Config {
		return store.Config{SQLitePath: filepath.Join(t.TempDir(), "control.db")}
	}},
	{"postgres", func(t *testing.T) store.Config {
		return store.Config{PostgresDSN: testenv.PostgresDSN(t)}
	}},
}

// forEachBackend runs fn once per dialect against a fresh database.
func forEachBackend(t *testing.T, fn func(t *testing.T, s *store.SQL, cfg store.Config)) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			cfg := b.database(t)
			fn(t, openStore(t, cfg), cfg)
		})
	}
}

func openStore(t *testing.T, cfg store.Config) *store.SQL {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := store.Open(ctx, cfg)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

func TestOpenNeedsADatabase(t *testing.T) {
	if _, err := store.Open(context.Background(), store.Config{}); err == nil {
		t.Fatal("Open with an empty config succeeded")
	}
}

func TestMigrationsIdempotent(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *store.SQL, cfg store.Config) {
		ctx := context.Background()
		v, err := s.SchemaVersion(ctx)
		if err != nil || v < 1 {
			t.Fatalf("SchemaVersion = %d, %v; want >= 1", v, err)
		}
		// Reopening applies nothing and keeps the data.
		if err := s.CreateRecording(ctx, store.Recording{ID: store.NewID(), QueueID: "q"}); err != nil {
			t.Fatal(err)
		}
		s2 := openStore(t, cfg)
		v2, err := s2.SchemaVersion(ctx)
		if err != nil || v2 != v {
			t.Fatalf("after reopen SchemaVersion = %d, %v; want %d", v2, err, v)
		}
		var rows int
		if err := s2.DB().QueryRowContext(ctx, "SELECT COUNT(*) FROM schema_migrations").Scan(&rows); err != nil {
			t.Fatal(err)
		}
		if rows != migrationFiles(t) {
			t.Fatalf("schema_migrations has %d rows, want one per migration file (%d)", rows, migrationFiles(t))
		}
		got, err := s2.ListRecordings(ctx, store.RecordingFilter{})
		if err != nil || len(got) != 1 {
			t.Fatalf("after reopen: %d recordings, %v", len(got), err)
		}
	})
}

// Gateways starting at once against a new database must not race on the
// migrations.
func TestConcurrentOpen(t *testing.T) {
	forEachBackend(t, func(t *testing.T, _ *store.SQL, cfg store.Config) {
		// The database was already migrated by forEachBackend; use a
		// second fresh one for the race.
		cfg2 := backendFor(t, cfg)
		errs := make(chan error, 4)
		for range 4 {
			go func() {
				s, err := store.Open(context.Background(), cfg2)
				if err == nil {
					s.Close()
				}
				errs <- err
			}()
		}
		for range 4 {
			if err := <-errs; err != nil {
				t.Errorf("concurrent Open: %v", err)
			}
		}
	})
}

// backendFor returns a fresh database of the same dialect as cfg.
func backendFor(t *testing.T, cfg store.Config) store.Config {
	if cfg.PostgresDSN != "" {
		return backends[1].database(t)
	}
	return backends[0].database(t)
}

func TestNewIDUnique(t *testing.T) {
	const n = 100000
	seen := make(map[string]bool, n)
	prev := ""
	for range n {
		id := store.NewID()
		if seen[id] {
			t.Fatalf("NewID repeated %s", id)
		}
		if len(id) != 36 || id[14] != '7' {
			t.Fatalf("NewID %q is not a canonical UUIDv7", id)
		}
		if id < prev {
			// UUIDv7 from one process is monotonic in google/uuid.
			t.Fatalf("NewID went backwards: %s after %s", id, prev)
		}
		seen[id], prev = true, id
	}
}

// migrationFiles counts the migrations shipped in migrations/.
func migrationFiles(t *testing.T) int {
	t.Helper()
	m, err := filepath.Glob("migrations/*.sql")
	if err != nil || len(m) == 0 {
		t.Fatalf("migrations: %d files, %v", len(m), err)
	}
	return len(m)
}
