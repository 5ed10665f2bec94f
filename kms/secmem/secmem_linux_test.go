package secmem

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestBufferNotDumpedAndWiped: the mapping carries the kernel's "dd"
// (MADV_DONTDUMP) flag — and "lo" when mlock succeeded — and Close zeroes
// the bytes before unmapping them.
func TestBufferNotDumpedAndWiped(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	b, err := From(append([]byte(nil), key...))
	if err != nil {
		t.Fatal(err)
	}
	if string(b.Bytes()) != string(key) {
		t.Fatal("content differs")
	}
	dd, lo, err := Flags(b.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if !dd {
		t.Fatal("mapping has no dd (MADV_DONTDUMP) VmFlag")
	}
	if b.Locked() != lo {
		t.Fatalf("Locked() = %v but VmFlags lo = %v", b.Locked(), lo)
	}
	// A Go heap slice is neither: the check can tell them apart.
	if dd, _, err := Flags(make([]byte, 64)); err != nil || dd {
		t.Fatalf("heap slice: dd %v, err %v", dd, err)
	}

	var atUnmap []byte
	real := unmap
	unmap = func(mem []byte, locked bool) error {
		atUnmap = append([]byte(nil), mem...)
		return real(mem, locked)
	}
	defer func() { unmap = real }()
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if len(atUnmap) == 0 {
		t.Fatal("Close did not unmap")
	}
	for i, c := range atUnmap {
		if c != 0 {
			t.Fatalf("byte %d is %#x at unmap: not wiped", i, c)
		}
	}
	if b.Bytes() != nil || b.Close() != nil {
		t.Fatal("closed buffer still usable, or second Close failed")
	}
}

// TestFromClearsSource: the heap copy handed to From is zeroed.
func TestFromClearsSource(t *testing.T) {
	src := []byte("secret-kek-material-32-bytes-xx!")
	b, err := From(src)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	for _, c := range src {
		if c != 0 {
			t.Fatalf("source not cleared: %q", src)
		}
	}
}

// TestDisableCoreDumps runs in a child process (the flag is one-way):
// dumpable before, not after, and RLIMIT_CORE 0.
func TestDisableCoreDumps(t *testing.T) {
	if os.Getenv("SECMEM_CHILD") == "1" {
		before, _ := Dumpable()
		if err := DisableCoreDumps(); err != nil {
			fmt.Println("ERR", err)
			os.Exit(1)
		}
		after, _ := Dumpable()
		fmt.Printf("before=%v after=%v\n", before, after)
		os.Exit(0)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestDisableCoreDumps$")
	cmd.Env = append(os.Environ(), "SECMEM_CHILD=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "before=true after=false") {
		t.Fatalf("child says %q", out)
	}
}
