package audiohook

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// errDuration is a position or duration that is not "PT<seconds>S".
var errDuration = errors.New("audiohook: duration must be PT<seconds>S")

// maxDuration bounds positions and discarded spans: a day of audio.
const maxDuration = 24 * time.Hour

// ParseDuration reads the protocol's ISO 8601 durations: "PT" then
// optional hours and minutes and decimal seconds ("PT1.25S", "PT1M2S").
func ParseDuration(s string) (time.Duration, error) {
	rest, ok := strings.CutPrefix(s, "PT")
	if !ok || rest == "" {
		return 0, fmt.Errorf("%w: %q", errDuration, s)
	}
	var d time.Duration
	for _, u := range []struct {
		sep  string
		unit time.Duration
	}{{"H", time.Hour}, {"M", time.Minute}, {"S", time.Second}} {
		num, after, found := strings.Cut(rest, u.sep)
		if !found {
			continue
		}
		// Decimal, read exactly: through a float, "PT8.2S" came out a
		// nanosecond short and did not format back to itself.
		whole, frac, dot := strings.Cut(num, ".")
		if (whole == "" && frac == "") || (dot && u.sep != "S") || !digits(whole) || !digits(frac) {
			return 0, fmt.Errorf("%w: %q", errDuration, s)
		}
		n := uint64(0)
		if whole != "" {
			var err error
			if n, err = strconv.ParseUint(whole, 10, 64); err != nil || n > uint64(maxDuration/u.unit) {
				return 0, fmt.Errorf("%w: %q", errDuration, s)
			}
		}
		d += time.Duration(n) * u.unit
		if frac != "" {
			// Digits past the nanosecond are dropped.
			frac = (frac + "000000000")[:9]
			ns, _ := strconv.ParseUint(frac, 10, 64) // nine digits: cannot fail
			d += time.Duration(ns)
		}
		rest = after
	}
	if rest != "" || d > maxDuration {
		return 0, fmt.Errorf("%w: %q", errDuration, s)
	}
	return d, nil
}

// FormatDuration writes d as the protocol's "PT<seconds>S", exactly.
func FormatDuration(d time.Duration) string {
	sec, ns := int64(d/time.Second), int64(d%time.Second)
	if ns < 0 {
		sec, ns = sec-1, ns+int64(time.Second)
	}
	out := "PT" + strconv.FormatInt(sec, 10)
	if ns != 0 {
		out += "." + strings.TrimRight(fmt.Sprintf("%09d", ns), "0")
	}
	return out + "S"
}

// digits reports whether s is only ASCII digits (or empty).
func digits(s string) bool {
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
