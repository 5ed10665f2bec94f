package api

import (
	"bytes"
	"testing"
)

func TestParseRange(t *testing.T) {
	const size = 1000
	for _, c := range []struct {
		h          string
		ok         bool
		start, end int64
		satisfied  bool
	}{
		{"bytes=0-99", true, 0, 99, true},
		{"bytes=100-", true, 100, 999, true},
		{"bytes=-100", true, 900, 999, true},
		{"bytes=-5000", true, 0, 999, true},
		{"bytes=990-5000", true, 990, 999, true},
		{"BYTES = 5-5", true, 5, 5, true},
		{"bytes=1000-", true, 0, 0, false},
		{"bytes=2000-3000", true, 0, 0, false},
		{"bytes=0-1,5-9", false, 0, 0, false}, // several ranges: the whole export
		{"bytes=9-5", false, 0, 0, false},
		{"bytes=-0", false, 0, 0, false},
		{"bytes=-", false, 0, 0, false},
		{"bytes=+1-2", false, 0, 0, false},
		{"bytes=1 -2", false, 0, 0, false},
		{"bytes=99999999999999999999-", false, 0, 0, false},
		{"items=0-9", false, 0, 0, false},
		{"bytes", false, 0, 0, false},
		{"", false, 0, 0, false},
	} {
		rs, ok := parseRange(c.h)
		if ok != c.ok {
			t.Errorf("%q: ok %v, want %v", c.h, ok, c.ok)
			continue
		}
		if !ok {
			continue
		}
		start, end, sat := rs.resolve(size)
		if sat != c.satisfied || (sat && (start != c.start || end != c.end)) {
			t.Errorf("%q: %d-%d %v, want %d-%d %v", c.h, start, end, sat, c.start, c.end, c.satisfied)
		}
	}
}

// TestWindowWriter: the window passes exactly the range whatever the
// exporter's write sizes, and consumes everything so the export finishes.
func TestWindowWriter(t *testing.T) {
	src := make([]byte, 777)
	for i := range src {
		src[i] = byte(i * 7)
	}
	for _, step := range []int{1, 3, 64, 500, 777} {
		for _, w := range [][2]int64{{0, 776}, {0, 0}, {100, 199}, {700, 776}, {776, 776}} {
			var out bytes.Buffer
			ww := &windowWriter{w: &out, skip: w[0], remain: w[1] - w[0] + 1}
			for off := 0; off < len(src); off += step {
				b := src[off:min(off+step, len(src))]
				if n, err := ww.Write(b); n != len(b) || err != nil {
					t.Fatalf("write: %d %v", n, err)
				}
			}
			if !bytes.Equal(out.Bytes(), src[w[0]:w[1]+1]) {
				t.Fatalf("step %d window %v: got %d bytes", step, w, out.Len())
			}
		}
	}
}

// FuzzParseRange: any header either is refused or resolves inside the
// export, never panicking.
func FuzzParseRange(f *testing.F) {
	for _, s := range []string{"bytes=0-99", "bytes=-1", "bytes=5-", "bytes=0-1,2-3", "bytes=9-5"} {
		f.Add(s, int64(100))
	}
	f.Fuzz(func(t *testing.T, h string, size int64) {
		rs, ok := parseRange(h)
		if !ok {
			return
		}
		start, end, sat := rs.resolve(size)
		if sat && (start < 0 || end < start || end >= size) {
			t.Fatalf("%q over %d: %d-%d", h, size, start, end)
		}
	})
}
