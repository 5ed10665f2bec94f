package deptest

import (
	"encoding/json"
	"io"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const mod = "github.com/mediaseal/mediaseal"

// layers is the architecture, bottom first: a package may import only
// packages of a lower layer, in its code and in its tests alike. A package
// that is not listed fails the test, so a new folder has to be placed
// here, which is where its reviewer sees where it stands.
var layers = [][]string{
	// Leaves: the recording format, the policy model, the receive loops,
	// the codecs, the strict JSON reader, locked memory and the test
	// servers, none of which import the project.
	{"storage/seal", "policy", "media/udprx", "media/srtp", "media/codec", "httpx/strictjson", "kms/secmem", "internal/testenv", "bench/peers/ng", "console"},
	// The one HTTP layer (errors, bearer tokens, status recording).
	{"httpx"},
	// Contracts.
	{"kms", "storage"},
	// Conformance suites of the contracts.
	{"kms/kmstest", "storage/storagetest"},
	// Adapters: each imports its contract and its SDK.
	{"kms/local", "kms/awskms", "kms/pkcs11", "storage/fs", "storage/s3", "storage/spool"},
	// Data keys without blocking media; uploads with retries.
	{"kms/broker", "storage/uploader"},
	// The one key module: contexts, envelopes, providers and capabilities.
	{"kms/recordingkey"},
	// Export writers, fed packets.
	{"media/export"},
	// A recording's life cycle: spool, seal, upload, index, recovery.
	{"recording"},
	// Sessions and their ingest protocols.
	{"media"},
	{"media/siprec", "media/whip", "media/sessionapi", "media/twilio", "media/audiohook"},
	// Opening, verifying and exporting sealed recordings.
	{"playback"},
	// The control plane of the ceremony, bottom first. The events outbox
	// is below the store so store transactions can append to it.
	{"ceremony/events"},
	{"ceremony/store"},
	{"ceremony/audit"},
	{"ceremony/auth", "ceremony/audit/s3anchor", "ceremony/retention"},
	{"ceremony/approvals"},
	{"ceremony/jobs"},
	{"ceremony/api"},
	{"ceremony/controlplane"},
	// Membership of a cluster of gateways sharing a store.
	{"cluster"},
	{"internal/config"},
	// Assembly, from here up: what the config names is opened here.
	// Opening the adapters a config names (gateway and operator tools).
	{"internal/adapters"},
	// Playback over a stopped gateway's stores (CLI, bench).
	{"playback/offline"},
	{"internal/gateway"},
	{"tests/gatewaytest"},
	{"bench"},
	{"bench/plot", "cmd/mediaseal"},
	{"cmd/mediaseal-bench"},
	// End-to-end tests of the assembled gateway.
	{"tests/ceremony", "tests/media", "tests/storage", "tests/cluster", "tests/keys", "tests/export", "tests/whip", "tests/console", "tests/twilio", "tests/audiohook", "tests/events", "tests/retention"},
	{"internal/deptest"},
}

type pkg struct {
	ImportPath   string
	Imports      []string
	TestImports  []string
	XTestImports []string
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

func layerOf(p string) int {
	for i, l := range layers {
		if slices.Contains(l, p) {
			return i
		}
	}
	return -1
}

func TestImportsPointDown(t *testing.T) {
	pkgs := listPackages(t)
	if len(pkgs) < 10 {
		t.Fatalf("only %d packages listed", len(pkgs))
	}
	for _, p := range pkgs {
		me := rel(p.ImportPath)
		mine := layerOf(me)
		if mine < 0 {
			t.Errorf("%s is in no layer: place it in deptest's layers", me)
			continue
		}
		check := func(imports []string, what string) {
			for _, imp := range imports {
				if !strings.HasPrefix(imp, mod) || imp == p.ImportPath {
					continue
				}
				dep := rel(imp)
				if l := layerOf(dep); l < 0 || l >= mine {
					t.Errorf("%s %s %s: it is not in a layer below", me, what, dep)
				}
			}
		}
		check(p.Imports, "imports")
		check(p.TestImports, "tests import")
		check(p.XTestImports, "tests import")
	}
}

// The recording format is read by customers' tools: it takes only the
// standard library and the compressor.
func TestSealImportsOnlyStdlibAndZstd(t *testing.T) {
	for _, p := range listPackages(t) {
		if rel(p.ImportPath) != "storage/seal" {
			continue
		}
		for _, imp := range p.Imports {
			if strings.Contains(strings.Split(imp, "/")[0], ".") && !strings.HasPrefix(imp, "github.com/klauspost/compress") {
				t.Errorf("storage/seal imports %s", imp)
			}
		}
		return
	}
	t.Fatal("storage/seal not listed")
}

// adapters are the packages that speak to one outside system. The S3
// audit anchor is one too: it sits with the audit log it anchors.
var adapters = append(slices.Clone(layers[4]), "ceremony/audit/s3anchor")

// assembly is where adapters are chosen: above the config.
func assembly(p string) bool { return layerOf(p) > layerOf("internal/config") }

// Adapters import their own contract and their SDK, never a sibling: a
// storage adapter that reached into a KMS adapter would couple two
// customer choices.
func TestAdaptersImportOnlyTheirContract(t *testing.T) {
	for _, p := range listPackages(t) {
		me := rel(p.ImportPath)
		if !slices.Contains(adapters, me) || me == "ceremony/audit/s3anchor" {
			continue
		}
		contract := strings.Split(me, "/")[0]
		for _, imp := range p.Imports {
			if !strings.HasPrefix(imp, mod) {
				continue
			}
			dep := rel(imp)
			if dep != contract && layerOf(dep) != 0 {
				t.Errorf("%s imports %s: an adapter takes only its contract and leaves", me, dep)
			}
		}
	}
}

// Only the assembly chooses adapters: media, the life cycle, keys,
// playback and the control plane see contracts, so a customer's choice of
// KMS or object store never reaches into them.
func TestOnlyAssemblyImportsAdapters(t *testing.T) {
	if !slices.Contains(layers[4], "kms/awskms") {
		t.Fatal("layers[4] is no longer the adapters")
	}
	for _, p := range listPackages(t) {
		me := rel(p.ImportPath)
		if assembly(me) || slices.Contains(adapters, me) {
			continue
		}
		for _, imp := range p.Imports {
			if dep := rel(imp); strings.HasPrefix(imp, mod) && slices.Contains(adapters, dep) {
				t.Errorf("%s imports the adapter %s: only the assembly chooses adapters", me, dep)
			}
		}
	}
}
