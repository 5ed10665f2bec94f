package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// SoftHSMModule is where Debian's softhsm2 package puts the PKCS#11 module.
const SoftHSMModule = "/usr/lib/softhsm/libsofthsm2.so"

// SoftHSM is a SoftHSM2 token initialised for one test in its own
// directory, with SOFTHSM2_CONF pointing at its own config file.
type SoftHSM struct {
	Module     string
	ConfPath   string
	TokenLabel string
	PIN        string
	SOPIN      string
}

// StartSoftHSM installs SoftHSM2 if missing (scripts/install-softhsm.sh),
// writes a config under t.TempDir, sets SOFTHSM2_CONF for the test (so the
// test cannot be parallel) and initialises a token.
func StartSoftHSM(t testing.TB, tokenLabel string) *SoftHSM {
	t.Helper()
	if _, err := os.Stat(SoftHSMModule); err != nil {
		runScript(t, "install-softhsm.sh")
	}
	if _, err := os.Stat(SoftHSMModule); err != nil {
		t.Fatalf("testenv: %s missing after scripts/install-softhsm.sh", SoftHSMModule)
	}
	util, err := exec.LookPath("softhsm2-util")
	if err != nil {
		t.Fatalf("testenv: softhsm2-util not found; run scripts/install-softhsm.sh")
	}
	dir := t.TempDir()
	tokens := filepath.Join(dir, "tokens")
	if err := os.Mkdir(tokens, 0o700); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "softhsm2.conf")
	body := fmt.Sprintf("directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n", tokens)
	if err := os.WriteFile(conf, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	if s, ok := t.(interface{ Setenv(string, string) }); ok {
		s.Setenv("SOFTHSM2_CONF", conf)
	} else {
		t.Fatal("testenv: StartSoftHSM needs *testing.T or *testing.B")
	}
	h := &SoftHSM{Module: SoftHSMModule, ConfPath: conf, TokenLabel: tokenLabel, PIN: "1234", SOPIN: "5678"}
	cmd := exec.Command(util, "--init-token", "--free", "--label", tokenLabel, "--pin", h.PIN, "--so-pin", h.SOPIN)
	cmd.Env = append(os.Environ(), "SOFTHSM2_CONF="+conf)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("testenv: softhsm2-util --init-token: %v\n%s", err, out)
	}
	return h
}
