package gatewaytest

import (
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/mediaseal/mediaseal/internal/testenv"
)

// Chromium installs Chromium if needed (scripts/install-chromium.sh) and
// returns its path.
func Chromium(t testing.TB) string {
	t.Helper()
	cmd := exec.Command("bash", filepath.Join(testenv.RepoRoot(t), "scripts", "install-chromium.sh"))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("install chromium (scripts/install-chromium.sh): %v\n%s", err, out)
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("chromium not on PATH after scripts/install-chromium.sh")
	return ""
}
