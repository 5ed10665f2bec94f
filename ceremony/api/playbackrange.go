package api

import (
	"fmt"
	"strconv"
	"strings"
)

// CodeRangeNotSatisfiable: a playback's Range starts past the export's end.
const CodeRangeNotSatisfiable = "range_not_satisfiable"

// rangeSpec is one byte range of a Range header (RFC 9110 §14.1.2), not
// yet resolved against the export's length: first-last, first- (last
// -1), or the last n bytes (suffix).
type rangeSpec struct {
	first, last int64
	suffix      bool
}

// parseRange reads a Range header holding one byte range. ok is false
// for anything else (another unit, several ranges, bad syntax): the RFC
// lets a server ignore such a header and send the whole export, which is
// what the playback does rather than guess.
func parseRange(h string) (rangeSpec, bool) {
	unit, set, found := strings.Cut(h, "=")
	if !found || !strings.EqualFold(strings.TrimSpace(unit), "bytes") || strings.Contains(set, ",") {
		return rangeSpec{}, false
	}
	first, last, found := strings.Cut(strings.TrimSpace(set), "-")
	if !found {
		return rangeSpec{}, false
	}
	num := func(s string) (int64, bool) {
		if s == "" || strings.TrimLeft(s, "0123456789") != "" {
			return 0, false
		}
		n, err := strconv.ParseInt(s, 10, 64)
		return n, err == nil
	}
	if first == "" { // suffix: the last n bytes
		n, ok := num(last)
		return rangeSpec{first: n, suffix: true}, ok && n > 0
	}
	f, ok := num(first)
	if !ok {
		return rangeSpec{}, false
	}
	if last == "" {
		return rangeSpec{first: f, last: -1}, true
	}
	l, ok := num(last)
	if !ok || l < f {
		return rangeSpec{}, false
	}
	return rangeSpec{first: f, last: l}, true
}

// resolve returns the inclusive byte positions of rs in an export of size
// bytes; ok is false when no byte of it exists (416).
func (rs rangeSpec) resolve(size int64) (start, end int64, ok bool) {
	switch {
	case size <= 0:
		return 0, 0, false
	case rs.suffix:
		return max(size-rs.first, 0), size - 1, true
	case rs.first >= size:
		return 0, 0, false
	case rs.last < 0 || rs.last >= size:
		return rs.first, size - 1, true
	}
	return rs.first, rs.last, true
}

// contentRange is the Content-Range of a partial answer.
func contentRange(start, end, size int64) string {
	return fmt.Sprintf("bytes %d-%d/%d", start, end, size)
}

// countWriter counts what an export would send.
type countWriter struct{ n int64 }

func (c *countWriter) Write(b []byte) (int, error) { c.n += int64(len(b)); return len(b), nil }

// windowWriter passes on the bytes of positions [skip, skip+remain) of
// what is written to it and drops the rest, so an export runs whole (its
// verification included) while the answer carries only the range.
type windowWriter struct {
	w            interface{ Write([]byte) (int, error) }
	skip, remain int64
}

func (ww *windowWriter) Write(b []byte) (int, error) {
	n := len(b)
	if ww.skip >= int64(len(b)) {
		ww.skip -= int64(len(b))
		return n, nil
	}
	b = b[ww.skip:]
	ww.skip = 0
	if int64(len(b)) > ww.remain {
		b = b[:ww.remain]
	}
	if len(b) == 0 {
		return n, nil
	}
	if _, err := ww.w.Write(b); err != nil {
		return 0, err
	}
	ww.remain -= int64(len(b))
	return n, nil
}
