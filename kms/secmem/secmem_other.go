//go:build !linux

package secmem

// Off Linux the buffer is ordinary Go memory: neither locked nor excluded
// from dumps (the gateway is supported on Linux only).
func mapSecret(n int) ([]byte, bool, error) { return make([]byte, n), false, nil }

func unmapSecret([]byte, bool) error { return nil }

// DisableCoreDumps does nothing off Linux.
func DisableCoreDumps() error { return nil }

// Dumpable is always true off Linux.
func Dumpable() (bool, error) { return true, nil }

// Flags reports nothing off Linux.
func Flags([]byte) (dontDump, locked bool, err error) { return false, false, nil }
