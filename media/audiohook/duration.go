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
		if num == "" || strings.ContainsAny(num, "+-eE") || (u.sep != "S" && strings.Contains(num, ".")) {
			return 0, fmt.Errorf("%w: %q", errDuration, s)
		}
		f, err := strconv.ParseFloat(num, 64)
		if err != nil || f < 0 || f > float64(maxDuration/u.unit) {
			return 0, fmt.Errorf("%w: %q", errDuration, s)
		}
		d += time.Duration(f * float64(u.unit))
		rest = after
	}
	if rest != "" || d > maxDuration {
		return 0, fmt.Errorf("%w: %q", errDuration, s)
	}
	return d, nil
}

// FormatDuration writes d as the protocol's "PT<seconds>S".
func FormatDuration(d time.Duration) string {
	return "PT" + strconv.FormatFloat(d.Seconds(), 'f', -1, 64) + "S"
}
