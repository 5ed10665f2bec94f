package store

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"hash/fnv"
	"os"
	"syscall"
	"time"
)

// LockFirstStart serialises what gateways sharing one store create on
// their first start: the bootstrap principals, the signing keys, the
// secret pepper, the config's keys and policies and the quorum rules.
// Whoever holds it creates what is missing; the others, once they get it,
// read what the winner created.
const LockFirstStart = "mediaseal/first-start"

// LockPolicyWrites serialises policy writes (gate and handler) across the
// gateways sharing one store.
const LockPolicyWrites = "mediaseal/policy-writes"

// lockPoll is how often a SQLite waiter retries the file lock.
const lockPoll = 20 * time.Millisecond

// WithLock runs fn while holding the store-wide lock name, shared by every
// process on this store: on PostgreSQL a session advisory lock held on a
// dedicated connection (released by the server if this process dies), on
// SQLite an exclusive flock on a file beside the database (released by
// the kernel if this process dies). fn uses the store as usual; the lock
// orders gateways, not transactions. Waiting ends with ctx.
func (s *SQL) WithLock(ctx context.Context, name string, fn func(context.Context) error) error {
	switch s.dialect {
	case DialectPostgres:
		return s.withAdvisoryLock(ctx, name, fn)
	default:
		return s.withFileLock(ctx, name, fn)
	}
}

func advisoryKey(name string) int64 {
	h := fnv.New64a()
	h.Write([]byte(name))
	return int64(h.Sum64())
}

func (s *SQL) withAdvisoryLock(ctx context.Context, name string, fn func(context.Context) error) (err error) {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("store: lock %s: %w", name, err)
	}
	defer conn.Close()
	key := advisoryKey(name)
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, key); err != nil {
		return fmt.Errorf("store: lock %s: %w", name, err)
	}
	defer func() {
		var released bool
		uerr := conn.QueryRowContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, key).Scan(&released)
		if uerr != nil || !released {
			// Never hand a connection that may still hold the lock back to
			// the pool: closing it ends the session, which releases it.
			_ = conn.Raw(func(any) error { return driver.ErrBadConn })
			err = errors.Join(err, fmt.Errorf("store: unlock %s: released %v: %v", name, released, uerr))
		}
	}()
	return fn(ctx)
}

func (s *SQL) withFileLock(ctx context.Context, name string, fn func(context.Context) error) error {
	path := s.sqlitePath + ".lock"
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("store: lock %s: %w", name, err)
	}
	defer f.Close() // closing the descriptor releases the lock
	// flock locks belong to the open file description, so two stores in
	// one process exclude each other as two processes do.
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			break
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
			return fmt.Errorf("store: lock %s (%s): %w", name, path, err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("store: lock %s: %w", name, ctx.Err())
		case <-time.After(lockPoll):
		}
	}
	return fn(ctx)
}
