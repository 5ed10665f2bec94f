package config

import (
	"testing"
)

// FuzzParse: arbitrary YAML never panics the config loader, and whatever
// it accepts validates again (defaults applied are themselves valid).
func FuzzParse(f *testing.F) {
	f.Add(string(Default))
	f.Add("kms:\n  timeout: 5s\nrecording: {maxChunkSize: 64KiB}\n")
	f.Add("policies:\n  - {name: p, recordingType: AUDIO, targetIds: ['*']}\n")
	f.Add("org: [1, 2]\n")
	f.Fuzz(func(t *testing.T, doc string) {
		c, err := Parse([]byte(doc))
		if err != nil {
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("accepted config fails validation: %v", err)
		}
	})
}
