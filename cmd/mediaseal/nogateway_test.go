package main

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestOnlyServeBuildsAGateway: the operator commands (export, verify,
// audit, ...) work on the stores (playback/offline) and the control plane's
// pieces; only serve, in main.go, assembles a gateway. A tool that built
// one would seed, open and check all it needs to serve just to read a
// recording.
func TestOnlyServeBuildsAGateway(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") || name == "main.go" {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), name, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			if p, _ := strconv.Unquote(imp.Path.Value); p == "github.com/mediaseal/mediaseal/internal/gateway" {
				t.Errorf("%s imports %s: only serve (main.go) assembles a gateway", name, p)
			}
		}
	}
}
