package recording

import "testing"

func TestNormalizeCaller(t *testing.T) {
	for _, c := range []struct{ raw, region, want string }{
		{"+44 1632 960001", "", "+441632960001"},
		{"tel:+441632960001", "", "+441632960001"},
		{"sip:+441632960001@pbx.example;user=phone", "", "+441632960001"},
		{"01632 960001", "GB", "+441632960001"},
		{"(202) 555-0143", "US", "+12025550143"},
		{"(202) 555-0143", "", "(202) 555-0143"}, // national without a region: kept as given
		{"  anonymous ", "GB", "anonymous"},
		{"", "GB", ""},
	} {
		if got := NormalizeCaller(c.raw, c.region); got != c.want {
			t.Errorf("NormalizeCaller(%q, %q) = %q, want %q", c.raw, c.region, got, c.want)
		}
	}
}

func FuzzNormalizeCaller(f *testing.F) {
	for _, s := range []string{"+441632960001", "tel:+1;ext=2", "sip:@", "0"} {
		f.Add(s, "GB")
	}
	f.Fuzz(func(t *testing.T, raw, region string) {
		// The index and the search normalise separately: a normalised
		// number must normalise to itself.
		a := NormalizeCaller(raw, region)
		if b := NormalizeCaller(a, region); b != a {
			t.Fatalf("NormalizeCaller(%q) = %q, then %q", raw, a, b)
		}
	})
}
