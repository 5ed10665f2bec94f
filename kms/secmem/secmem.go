package secmem

import (
	"fmt"
	"sync"
)

// unmap releases a mapping (a variable so that a test can see the bytes
// just before they are unmapped).
var unmap = unmapSecret

// Buffer is n bytes of key material in a mapping of its own (see the
// package comment). Not for concurrent Close; Bytes may be read by many.
type Buffer struct {
	mu     sync.Mutex
	mem    []byte // the whole page-aligned mapping
	n      int
	locked bool
}

// New maps a buffer of n bytes (n > 0), excluded from core dumps and, if
// the memlock limit allows, locked in RAM.
func New(n int) (*Buffer, error) {
	if n <= 0 {
		return nil, fmt.Errorf("secmem: size %d", n)
	}
	mem, locked, err := mapSecret(n)
	if err != nil {
		return nil, err
	}
	return &Buffer{mem: mem, n: n, locked: locked}, nil
}

// From copies src into a new Buffer and clears src.
func From(src []byte) (*Buffer, error) {
	b, err := New(len(src))
	if err != nil {
		clear(src)
		return nil, err
	}
	copy(b.mem, src)
	clear(src)
	return b, nil
}

// Bytes is the buffer's content (nil after Close). Do not keep copies of
// it in Go memory longer than needed.
func (b *Buffer) Bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.mem == nil {
		return nil
	}
	return b.mem[:b.n:b.n]
}

// Locked says whether the buffer is mlock'ed (kept off swap).
func (b *Buffer) Locked() bool { return b.locked }

// Close zeroes the buffer and unmaps it. Idempotent.
func (b *Buffer) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.mem == nil {
		return nil
	}
	clear(b.mem)
	err := unmap(b.mem, b.locked)
	b.mem = nil
	return err
}
