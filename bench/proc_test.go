package bench

import (
	"os"
	"testing"
)

// readMem splits the resident set: the anonymous part (heap, stacks) is
// non-zero and never more than the whole.
func TestReadMemOwnProcess(t *testing.T) {
	m, err := readMem(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if m.rss <= 0 || m.anon <= 0 || m.anon > m.rss || m.threads < 1 {
		t.Fatalf("readMem = %+v", m)
	}
	if _, err := readMem(-1); err == nil {
		t.Fatal("readMem of no process: no error")
	}
}
