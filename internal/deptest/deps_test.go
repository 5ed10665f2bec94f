// Package deptest keeps the import graph pointing one way, as DESIGN.md
// draws it: cmd → service wiring → media → (policy, kms, storage)
// contracts; adapters import only their own contract and SDK; the
// recording format imports only the standard library and the compressor;
// the datagram receiver media uses (internal/udprx) is a leaf.
package deptest

import (
	"encoding/json"
	"io"
	"os/exec"
	"strings"
	"testing"
)

const mod = "github.com/mediaseal/mediaseal"

type pkg struct {
	ImportPath string
	Imports    []string
}

func listPackages(t *testing.T) []pkg {
	t.Helper()
	cmd := exec.Command("go", "list", "-json", mod+"/...")
	cmd.Dir = "../.."
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var pkgs []pkg
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var p pkg
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	return pkgs
}

func rel(path string) string { return strings.TrimPrefix(strings.TrimPrefix(path, mod), "/") }

func under(path string, prefixes ...string) bool {
	for _, p := range prefixes {
		if path == p || strings.HasPrefix(path, p+"/") {
			return true
		}
	}
	return false
}

func TestImportsPointDown(t *testing.T) {
	pkgs := listPackages(t)
	if len(pkgs) < 10 {
		t.Fatalf("only %d packages listed", len(pkgs))
	}
	for _, p := range pkgs {
		me := rel(p.ImportPath)
		for _, imp := range p.Imports {
			own := strings.HasPrefix(imp, mod)
			dep := rel(imp)
			switch {
			case me == "storage/seal":
				if own || (strings.Contains(imp, ".") && !strings.HasPrefix(imp, "github.com/klauspost/compress")) {
					t.Errorf("storage/seal imports %s: the format package takes only the standard library and zstd", imp)
				}
			case (me == "policy" || me == "internal/udprx") && own:
				t.Errorf("%s imports %s: it is a leaf", me, imp)
			case under(me, "kms", "storage", "policy") && own && under(dep, "media", "internal", "cmd", "bench"):
				t.Errorf("%s imports %s: contracts and adapters never import the recorder or wiring", me, dep)
			case under(me, "storage/fs", "storage/s3", "storage/uploader", "storage/spool") && own && under(dep, "kms", "storage/fs", "storage/s3", "storage/uploader") && dep != me:
				t.Errorf("%s imports %s: storage adapters import only the storage contract", me, dep)
			case under(me, "media") && own && dep != "internal/udprx" && (under(dep, "internal", "cmd", "bench") || under(dep, "kms/awskms", "kms/pkcs11", "kms/local", "kms/broker", "storage/s3", "storage/fs")):
				t.Errorf("%s imports %s: media sees contracts, never adapters or wiring", me, dep)
			case !under(me, "cmd") && own && under(dep, "cmd"):
				t.Errorf("%s imports %s: nothing imports a command", me, dep)
			}
		}
	}
}
