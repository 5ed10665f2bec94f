package gatewaytest

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// AssertNoPlaintext fails if any file under dir contains one of payloads.
func AssertNoPlaintext(t *testing.T, dir string, payloads ...[]byte) {
	t.Helper()
	files := 0
	err := filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		files++
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for _, pl := range payloads {
			for off := 0; off+16 <= len(pl); off += 160 {
				if bytes.Contains(data, pl[off:off+16]) {
					t.Errorf("%s contains plaintext media (payload offset %d)", p, off)
					return nil
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 3 {
		t.Fatalf("scanned only %d files", files)
	}
}

// EqualPCM reports whether two PCM sample runs are equal.
func EqualPCM(a, b []int16) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
