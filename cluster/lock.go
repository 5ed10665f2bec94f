package cluster

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// ErrSpoolInUse means another mediaseal serve owns the spool.
var ErrSpoolInUse = errors.New("spool is in use by another mediaseal serve")

// LockSpool takes an exclusive lock on the spool directory for the life of
// a serving process. Crash recovery closes every open spool file it finds,
// so a second process on the same spool would "recover" recordings the
// first is still writing. The lock is released by the kernel if the
// process dies.
func LockSpool(dir string) (unlock func(), err error) {
	path := filepath.Join(dir, ".serve.lock")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("spool lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%w: %s (data dir or spool.dir shared with a running gateway)", ErrSpoolInUse, dir)
		}
		return nil, fmt.Errorf("spool lock %s: %w", path, err)
	}
	return func() { f.Close() }, nil
}
