package kms_test

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestDependenciesPointDown keeps the kms tree layered: the contract
// imports no sibling, adapters and the broker import only the contract
// (never each other), and nothing here imports the recorder or media.
func TestDependenciesPointDown(t *testing.T) {
	const mod = "github.com/mediaseal/mediaseal/"
	allowed := map[string][]string{
		".":       {},
		"local":   {"kms", "kms/secmem"},
		"secmem":  {},
		"awskms":  {"kms"},
		"pkcs11":  {"kms"},
		"broker":  {"kms", "kms/secmem"},
		"kmstest": {"kms"},
	}
	for dir, ok := range allowed {
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		for _, file := range files {
			if strings.HasSuffix(file, "_test.go") {
				continue
			}
			f, err := parser.ParseFile(token.NewFileSet(), file, nil, parser.ImportsOnly)
			if err != nil {
				t.Fatal(err)
			}
			for _, imp := range f.Imports {
				path, _ := strconv.Unquote(imp.Path.Value)
				if !strings.HasPrefix(path, mod) {
					continue
				}
				rel := strings.TrimPrefix(path, mod)
				if !contains(ok, rel) {
					t.Errorf("%s imports %s; allowed: %v", file, path, ok)
				}
			}
		}
	}
	if _, err := os.Stat("broker"); err != nil {
		t.Fatal("run from the kms directory")
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
