package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mediaseal/mediaseal/kms/secmem"
)

// TestServeNotDumpable runs `mediaseal serve` in a child process and
// checks, from inside it, that the process was dumpable before and is not
// while serving (PR_GET_DUMPABLE 0): no core file with keys in it.
func TestServeNotDumpable(t *testing.T) {
	if os.Getenv("MEDIASEAL_DUMPABLE_CHILD") == "1" {
		before, _ := secmem.Dumpable()
		go func() {
			root := newRoot()
			root.SetArgs([]string{"serve", "--data-dir", os.Getenv("MEDIASEAL_DUMPABLE_DIR"), "--api-addr", "127.0.0.1:0"})
			if err := root.Execute(); err != nil {
				fmt.Println("serve:", err)
				os.Exit(2)
			}
		}()
		for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
			if d, _ := secmem.Dumpable(); !d {
				fmt.Printf("before=%v serving=%v\n", before, d)
				os.Exit(0)
			}
		}
		fmt.Println("still dumpable after 20s of serve")
		os.Exit(1)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestServeNotDumpable$")
	cmd.Env = append(os.Environ(), "MEDIASEAL_DUMPABLE_CHILD=1", "MEDIASEAL_DUMPABLE_DIR="+filepath.Join(t.TempDir(), "data"))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "before=true serving=false") {
		t.Fatalf("child says %q", out)
	}
}
