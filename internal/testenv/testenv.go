// Package testenv starts the real servers that tests run against (local-kms,
// a SoftHSM2 token, and the storage and database servers of the other
// files here). Every helper installs what is missing through the scripts
// under scripts/,
// isolates its state in t.TempDir and stops what it started in t.Cleanup.
package testenv

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// RepoRoot returns the root of the repository (the directory holding go.mod).
func RepoRoot(t testing.TB) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("testenv: cannot locate source file")
	}
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// runScript runs scripts/<name> from the repository root and fails the test
// with its output when it fails.
func runScript(t testing.TB, name string) {
	t.Helper()
	root := RepoRoot(t)
	script := filepath.Join(root, "scripts", name)
	cmd := exec.Command("bash", script)
	cmd.Dir = root
	cmd.Env = os.Environ()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("testenv: %s failed: %v\n%s\n(run it by hand: bash %s)", name, err, out, script)
	}
}
