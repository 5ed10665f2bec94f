package cluster

import (
	"os"
	"path/filepath"
	"testing"
)

// TestGatewayIDStable: without gateway.id a gateway keeps the random id it
// generated on first start (not hostname-pid); a configured id wins; a bad
// id, configured or in the file, is refused.
func TestGatewayIDStable(t *testing.T) {
	dir := t.TempDir()
	first, err := ResolveID("", dir)
	if err != nil {
		t.Fatal(err)
	}
	host, _ := os.Hostname()
	if !ValidID(first) || first == host {
		t.Fatalf("generated id %q", first)
	}
	if again, err := ResolveID("", dir); err != nil || again != first {
		t.Fatalf("second start: %q, %v (first %q)", again, err, first)
	}
	if other, _ := ResolveID("", t.TempDir()); other == first {
		t.Fatalf("two data dirs share the id %q", other)
	}
	if id, err := ResolveID("gw-east-1", dir); err != nil || id != "gw-east-1" {
		t.Fatalf("configured id: %q, %v", id, err)
	}
	for _, bad := range []string{"GW1", "-a", "a b", "a/b", "../../etc", string(make([]byte, 64))} {
		if ValidID(bad) {
			t.Errorf("gateway id %q accepted", bad)
		}
	}
	bad := t.TempDir()
	if err := os.WriteFile(filepath.Join(bad, IDFile), []byte("../../etc\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ResolveID("", bad); err == nil {
		t.Fatal("a bad id in the data dir was accepted")
	}
}
