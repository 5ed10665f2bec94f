// Package secmem keeps key material off swap and out of core dumps, as far
// as a Go process can.
//
// [New] returns a [Buffer] in its own anonymous mapping, outside the Go
// heap: the garbage collector never moves or copies it, it is marked
// MADV_DONTDUMP (left out of core dumps) and MADV_WIPEONFORK, and mlock'ed
// (kept off swap) when RLIMIT_MEMLOCK allows — when it does not, the
// buffer is still excluded from dumps and [Buffer.Locked] says so.
// [Buffer.Close] zeroes it before unmapping. [DisableCoreDumps] turns the
// whole process undumpable (PR_SET_DUMPABLE 0: no core file, no ptrace or
// /proc/<pid>/mem by the same user).
//
// What this cannot cover, honestly: a key copied out of a Buffer into Go
// memory (an AES key schedule inside crypto/aes, an Ed25519 key's
// intermediate hashes, a []byte a provider SDK returned, a stack frame the
// runtime grew and copied) lives on the Go heap or stack, which can be
// swapped and, without PR_SET_DUMPABLE, dumped; the GC frees such memory
// without zeroing it. Callers copy into a Buffer as early as they can and
// clear the heap copy at once; process-wide undumpability and encrypted
// swap (or none) cover the rest.
//
// Ed25519 signing keys cannot be kept in a Buffer at all: since Go 1.24
// ed25519.PrivateKey.Sign caches the expanded key under a weak pointer to
// the key's memory, and the runtime aborts ("getWeakHandle on invalid
// pointer") when that memory is not on the Go heap. The JWT and audit
// signing keys therefore stay on the heap, covered only by
// [DisableCoreDumps].
package secmem
