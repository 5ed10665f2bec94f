package storagetest

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mediaseal/mediaseal/storage"
)

func testRoundTrip(t *testing.T, ctx context.Context, s storage.Store, _ Options) {
	for _, n := range []int64{0, 1, 172, 4095, 4096, 4097, 1<<20 + 7} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			key := fmt.Sprintf("org/2026/03/07/rt-%d.seal", n)
			b := payload(1, n)
			before := time.Now().Add(-time.Minute)
			info := put(t, ctx, s, key, b)
			checkInfo(t, "Put", info, key, b)
			if info.SHA256 != sum(b) {
				t.Errorf("Put: SHA256 = %q, want the checksum sent", info.SHA256)
			}
			if got := get(t, ctx, s, key, 0, -1); !bytes.Equal(got, b) {
				t.Fatalf("Get: %d bytes differ from the %d put", len(got), len(b))
			}
			head, err := s.Head(ctx, key)
			if err != nil {
				t.Fatalf("Head: %v", err)
			}
			checkInfo(t, "Head", head, key, b)
			if head.SHA256 != sum(b) {
				t.Errorf("Head: SHA256 = %q, want the checksum sent with Put", head.SHA256)
			}
			if head.Modified.Before(before) || head.Modified.After(time.Now().Add(time.Minute)) {
				t.Errorf("Head: Modified = %v, want about now", head.Modified)
			}
		})
	}
}

func testPutReplaces(t *testing.T, ctx context.Context, s storage.Store, _ Options) {
	const key = "a/replace"
	put(t, ctx, s, key, payload(1, 5000))
	b := payload(2, 100)
	put(t, ctx, s, key, b)
	if got := get(t, ctx, s, key, 0, -1); !bytes.Equal(got, b) {
		t.Fatalf("Get after replace: %d bytes, want the second object's %d", len(got), len(b))
	}
	head, err := s.Head(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	checkInfo(t, "Head after replace", head, key, b)
}

func testPutWithoutChecksum(t *testing.T, ctx context.Context, s storage.Store, _ Options) {
	const key = "a/nosum"
	b := payload(3, 3000)
	info, err := s.Put(ctx, key, bytes.NewReader(b), storage.PutOptions{Size: -1})
	if err != nil {
		t.Fatalf("Put: %v", err)
	}
	checkInfo(t, "Put", info, key, b)
	if got := get(t, ctx, s, key, 0, -1); !bytes.Equal(got, b) {
		t.Fatal("Get: content differs")
	}
}

func testChecksumMismatch(t *testing.T, ctx context.Context, s storage.Store, _ Options) {
	b := payload(4, 2000)
	other := sum(payload(5, 2000))
	tests := []struct {
		name string
		opts storage.PutOptions
	}{
		{"wrong sha256", storage.PutOptions{SHA256: other, Size: int64(len(b))}},
		{"uppercase wrong sha256", storage.PutOptions{SHA256: strings.ToUpper(other)}},
		{"malformed sha256", storage.PutOptions{SHA256: "not-hex"}},
		{"short sha256", storage.PutOptions{SHA256: sum(b)[:62]}},
		{"size too small", storage.PutOptions{SHA256: sum(b), Size: int64(len(b)) - 1}},
		{"size too large", storage.PutOptions{SHA256: sum(b), Size: int64(len(b)) + 1}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fresh := fmt.Sprintf("cs/fresh-%d", i)
			_, err := s.Put(ctx, fresh, bytes.NewReader(b), tt.opts)
			wantErr(t, "Put", err, storage.ErrChecksum)
			_, err = s.Head(ctx, fresh)
			wantErr(t, "Head after a rejected Put", err, storage.ErrNotFound)

			// A rejected Put leaves the previous object untouched.
			kept := fmt.Sprintf("cs/kept-%d", i)
			old := payload(6, 777)
			put(t, ctx, s, kept, old)
			_, err = s.Put(ctx, kept, bytes.NewReader(b), tt.opts)
			wantErr(t, "Put over an object", err, storage.ErrChecksum)
			if got := get(t, ctx, s, kept, 0, -1); !bytes.Equal(got, old) {
				t.Fatal("a rejected Put changed the previous object")
			}
		})
	}
}

func testLarge(t *testing.T, ctx context.Context, s storage.Store, o Options) {
	b := payload(7, o.LargeSize)
	// Irregular chunk ends, as a sealed recording with flushes would have.
	var bounds []int64
	for off, i := int64(0), int64(0); off < o.LargeSize; i++ {
		off += 40000 + (i*7919)%30000
		bounds = append(bounds, min(off, o.LargeSize))
	}
	tests := []struct {
		name string
		opts storage.PutOptions
	}{
		{"fixed parts", storage.PutOptions{SHA256: sum(b), Size: int64(len(b))}},
		{"chunk-aligned parts", storage.PutOptions{SHA256: sum(b), PartBoundaries: bounds}},
		{"unknown size, no checksum", storage.PutOptions{Size: -1}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key := fmt.Sprintf("large/%d.seal", i)
			// onlyReader hides bytes.Reader's extra methods: a stream.
			info, err := s.Put(ctx, key, onlyReader{bytes.NewReader(b)}, tt.opts)
			if err != nil {
				t.Fatalf("Put: %v", err)
			}
			checkInfo(t, "Put", info, key, b)
			if got := get(t, ctx, s, key, 0, -1); !bytes.Equal(got, b) {
				t.Fatalf("Get: %d bytes differ from the %d put", len(got), len(b))
			}
			// Ranges across 5 MiB part edges and the tail.
			for _, r := range [][2]int64{{5<<20 - 10, 20}, {10<<20 - 1, 2}, {o.LargeSize - 3, 10}} {
				if r[0] < 0 || r[0] >= o.LargeSize {
					continue
				}
				want := b[r[0]:min(r[0]+r[1], o.LargeSize)]
				if got := get(t, ctx, s, key, r[0], r[1]); !bytes.Equal(got, want) {
					t.Errorf("Get(%d, %d) differs", r[0], r[1])
				}
			}
		})
	}
	t.Run("checksum mismatch", func(t *testing.T) {
		_, err := s.Put(ctx, "large/bad", onlyReader{bytes.NewReader(b)}, storage.PutOptions{SHA256: sum(b[1:])})
		wantErr(t, "Put", err, storage.ErrChecksum)
		_, err = s.Head(ctx, "large/bad")
		wantErr(t, "Head after a rejected Put", err, storage.ErrNotFound)
	})
}

type onlyReader struct{ r *bytes.Reader }

func (o onlyReader) Read(p []byte) (int, error) { return o.r.Read(p) }

func testConcurrentPuts(t *testing.T, ctx context.Context, s storage.Store, _ Options) {
	const distinct, same = 8, 4
	var wg sync.WaitGroup
	errs := make(chan error, distinct+same)
	for i := range distinct {
		wg.Go(func() {
			b := payload(uint64(100+i), 20000+int64(i))
			_, err := s.Put(ctx, fmt.Sprintf("conc/k%d", i), bytes.NewReader(b), storage.PutOptions{SHA256: sum(b)})
			errs <- err
		})
	}
	versions := make(map[string]bool)
	for i := range same {
		b := payload(uint64(200+i), 50000)
		versions[sum(b)] = true
		wg.Go(func() {
			_, err := s.Put(ctx, "conc/same", bytes.NewReader(b), storage.PutOptions{SHA256: sum(b)})
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("concurrent Put: %v", err)
		}
	}
	for i := range distinct {
		b := payload(uint64(100+i), 20000+int64(i))
		if got := get(t, ctx, s, fmt.Sprintf("conc/k%d", i), 0, -1); !bytes.Equal(got, b) {
			t.Errorf("conc/k%d differs", i)
		}
	}
	// Racing Puts to one key leave exactly one of them, whole.
	if got := get(t, ctx, s, "conc/same", 0, -1); !versions[sum(got)] {
		t.Errorf("conc/same holds %d bytes that match none of the Puts", len(got))
	}
	list, err := s.List(ctx, "conc/")
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != distinct+1 {
		t.Errorf("List(conc/) = %d objects, want %d", len(list), distinct+1)
	}
}
