package audiohook

import (
	"testing"
	"time"
)

func TestParseDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{"PT0S": 0, "PT1.25S": 1250 * time.Millisecond, "PT1M2S": 62 * time.Second,
		"PT2H": 2 * time.Hour, "PT0.000125S": 125 * time.Microsecond} {
		if got, err := ParseDuration(in); err != nil || got != want {
			t.Errorf("%s = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "PT", "P1D", "PT-1S", "PT1", "PTS", "PT1e3S", "PT1.5M", "PT25H", "PT1S2M", "1S", "PT+1S"} {
		if d, err := ParseDuration(in); err == nil {
			t.Errorf("%q parsed as %v", in, d)
		}
	}
}

// FuzzParseDuration: any text parses to a duration within a day that
// formats back to the same value, or is refused; never a panic.
func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{"PT0S", "PT1.25S", "PT1H2M3.5S", "PT99999999999999999999S"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDuration(s)
		if err != nil {
			return
		}
		if d < 0 || d > maxDuration {
			t.Fatalf("%q = %v out of range", s, d)
		}
		if back, err := ParseDuration(FormatDuration(d)); err != nil || back != d {
			t.Fatalf("%q = %v formats as %q, reads back %v %v", s, d, FormatDuration(d), back, err)
		}
	})
}

func TestChooseMedia(t *testing.T) {
	stereo := Media{Type: "audio", Format: "PCMU", Channels: []string{"internal", "external"}, Rate: 8000}
	mono := Media{Type: "audio", Format: "PCMU", Channels: []string{"external"}, Rate: 8000}
	l16 := Media{Type: "audio", Format: "L16", Channels: []string{"external", "internal"}, Rate: 8000}
	if m, ok := choose([]Media{l16, mono, stereo}); !ok || len(m.Channels) != 2 || m.Channels[0] != "internal" {
		t.Fatalf("stereo not preferred: %+v", m)
	}
	if m, ok := choose([]Media{l16, mono}); !ok || len(m.Channels) != 1 {
		t.Fatalf("mono fallback: %+v %v", m, ok)
	}
	dup := Media{Type: "audio", Format: "PCMU", Channels: []string{"external", "external"}, Rate: 8000}
	wide := Media{Type: "audio", Format: "PCMU", Channels: []string{"external", "internal"}, Rate: 16000}
	if m, ok := choose([]Media{l16, dup, wide}); ok {
		t.Fatalf("chose %+v from nothing recordable", m)
	}
}
