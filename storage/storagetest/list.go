package storagetest

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/mediaseal/mediaseal/storage"
)

// listKeys are chosen so that a directory walk does not give key order:
// "-" (0x2d) sorts before "/" (0x2f), and digits do not sort numerically.
var listKeys = []string{
	"acme/2026/03/07/b.seal",
	"acme/2026/03/07/a.seal",
	"acme/2026/03/10/c.seal",
	"acme/2026/03/1/x",
	"acme/2026/03-07/odd",
	"acme/2025/12/31/z.seal",
	"acme-two/2026/01/01/q.seal",
	"acme/a b/with space",
	"acme/ünïcode",
	"acmf",
	"zz/top",
}

func testList(t *testing.T, ctx context.Context, s storage.Store, _ Options) {
	for i, key := range listKeys {
		put(t, ctx, s, key, payload(uint64(i), int64(10+i)))
	}
	tests := []struct {
		prefix string
		want   []string
	}{
		{"", listKeys},
		{"acme/", filter("acme/")},
		{"acme", filter("acme")},
		{"acme/2026/03/", filter("acme/2026/03/")},
		{"acme/2026/03/1", filter("acme/2026/03/1")},
		{"acme/2026/03", filter("acme/2026/03")},
		{"acme/2026/03/07/a.seal", []string{"acme/2026/03/07/a.seal"}},
		{"acme/2026/03/07/a.seal/", nil},
		{"nothing/", nil},
		{"nothing", nil},
		{"a", filter("a")},
	}
	for _, tt := range tests {
		t.Run("prefix="+tt.prefix, func(t *testing.T) {
			got, err := s.List(ctx, tt.prefix)
			if err != nil {
				t.Fatalf("List: %v", err)
			}
			keys := make([]string, len(got))
			for i, o := range got {
				keys[i] = o.Key
				j := slices.Index(listKeys, o.Key)
				if j < 0 {
					t.Fatalf("List returned unknown key %q", o.Key)
				}
				if o.Size != int64(10+j) {
					t.Errorf("List: %q Size = %d, want %d", o.Key, o.Size, 10+j)
				}
			}
			if !slices.Equal(keys, tt.want) && len(keys)+len(tt.want) > 0 {
				t.Fatalf("List(%q) =\n  %q\nwant (key order)\n  %q", tt.prefix, keys, tt.want)
			}
		})
	}
}

// filter returns the sorted listKeys with prefix.
func filter(prefix string) []string {
	var out []string
	for _, k := range listKeys {
		if strings.HasPrefix(k, prefix) {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

func init() { slices.Sort(listKeys) }

func testDelete(t *testing.T, ctx context.Context, s storage.Store, _ Options) {
	put(t, ctx, s, "d/1", payload(11, 10))
	put(t, ctx, s, "d/10", payload(12, 10))
	put(t, ctx, s, "d/sub/x", payload(13, 10))
	for _, key := range []string{"d/1", "d/1", "d/never", "d/sub/x", "e/never/deeper"} {
		if err := s.Delete(ctx, key); err != nil {
			t.Fatalf("Delete(%q): %v", key, err)
		}
	}
	_, err := s.Head(ctx, "d/1")
	wantErr(t, "Head after Delete", err, storage.ErrNotFound)
	got, err := s.List(ctx, "d/")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Key != "d/10" {
		t.Fatalf("List(d/) after deletes = %v, want only d/10", got)
	}
	// A key can be reused after Delete, including where a "directory" was.
	put(t, ctx, s, "d/sub", payload(14, 3))
	if _, err := s.Head(ctx, "d/sub"); err != nil {
		t.Fatalf("Head(d/sub) after reuse: %v", err)
	}
}
