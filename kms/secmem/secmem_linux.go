package secmem

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

func mapSecret(n int) (mem []byte, locked bool, err error) {
	page := os.Getpagesize()
	size := (n + page - 1) / page * page
	mem, err = unix.Mmap(-1, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		return nil, false, fmt.Errorf("secmem: mmap %d bytes: %w", size, err)
	}
	if err := unix.Madvise(mem, unix.MADV_DONTDUMP); err != nil {
		_ = unix.Munmap(mem)
		return nil, false, fmt.Errorf("secmem: madvise(MADV_DONTDUMP): %w", err)
	}
	// A forked child gets zeroes, not the key (best effort: Linux >= 4.14).
	_ = unix.Madvise(mem, unix.MADV_WIPEONFORK)
	// mlock fails with ENOMEM/EPERM beyond RLIMIT_MEMLOCK: the buffer is
	// then only kept out of dumps, and Locked reports it.
	locked = unix.Mlock(mem) == nil
	return mem, locked, nil
}

func unmapSecret(mem []byte, locked bool) error {
	if locked {
		_ = unix.Munlock(mem)
	}
	if err := unix.Munmap(mem); err != nil {
		return fmt.Errorf("secmem: munmap: %w", err)
	}
	return nil
}

// DisableCoreDumps makes the process undumpable: no core file on a crash,
// and no ptrace attach or /proc/<pid>/mem read by other processes of the
// same user. It also sets RLIMIT_CORE to 0 for the children it starts.
func DisableCoreDumps() error {
	if err := unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0); err != nil {
		return fmt.Errorf("secmem: prctl(PR_SET_DUMPABLE, 0): %w", err)
	}
	if err := unix.Setrlimit(unix.RLIMIT_CORE, &unix.Rlimit{}); err != nil {
		return fmt.Errorf("secmem: setrlimit(RLIMIT_CORE, 0): %w", err)
	}
	return nil
}

// Dumpable reports the process's PR_GET_DUMPABLE flag.
func Dumpable() (bool, error) {
	v, err := unix.PrctlRetInt(unix.PR_GET_DUMPABLE, 0, 0, 0, 0)
	if err != nil {
		return false, fmt.Errorf("secmem: prctl(PR_GET_DUMPABLE): %w", err)
	}
	return v != 0, nil
}
