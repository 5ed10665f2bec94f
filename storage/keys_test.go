package storage

import (
	"errors"
	"testing"
	"time"
)

func TestRecordingKey(t *testing.T) {
	paris := time.FixedZone("CET", 3600)
	tests := []struct {
		name    string
		org     string
		started time.Time
		id      string
		want    string
		wantErr error
	}{
		{"plain", "acme", time.Date(2026, 3, 7, 12, 0, 0, 0, time.UTC), "r1", "acme/2026/03/07/r1.seal", nil},
		{"local time is converted to UTC", "acme", time.Date(2026, 1, 1, 0, 30, 0, 0, paris), "r2", "acme/2025/12/31/r2.seal", nil},
		{"end of year", "org-2", time.Date(2025, 12, 31, 23, 59, 59, 0, time.UTC), "01HX", "org-2/2025/12/31/01HX.seal", nil},
		{"empty org is rejected by ValidateKey", "", time.Date(2026, 3, 7, 0, 0, 0, 0, time.UTC), "r", "/2026/03/07/r.seal", ErrInvalidKey},
		{"traversal in id is rejected", "acme", time.Date(2026, 3, 7, 0, 0, 0, 0, time.UTC), "../x", "acme/2026/03/07/../x.seal", ErrInvalidKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := RecordingKey(tt.org, tt.started, tt.id)
			if got != tt.want {
				t.Fatalf("RecordingKey = %q, want %q", got, tt.want)
			}
			if err := ValidateKey(got); !errors.Is(err, tt.wantErr) {
				t.Fatalf("ValidateKey(%q) = %v, want %v", got, err, tt.wantErr)
			}
		})
	}
}
