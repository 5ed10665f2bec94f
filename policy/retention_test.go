package policy

import (
	"errors"
	"testing"
	"time"
)

func TestRetainUntil(t *testing.T) {
	created := time.Date(2026, 3, 1, 10, 0, 0, 0, time.FixedZone("x", 3600))
	cases := []struct {
		name   string
		p      *Policy
		orgDef int
		want   time.Time
	}{
		{"policy days win", &Policy{RetentionDays: 30}, 7, created.UTC().AddDate(0, 0, 30)},
		{"org default when policy 0", &Policy{}, 7, created.UTC().AddDate(0, 0, 7)},
		{"nil policy takes org default", nil, 7, created.UTC().AddDate(0, 0, 7)},
		{"none configured", &Policy{}, 0, time.Time{}},
		{"org default clamped", &Policy{}, MaxRetentionDays + 10, created.UTC().AddDate(0, 0, MaxRetentionDays)},
	}
	for _, c := range cases {
		if got := c.p.RetainUntil(created, c.orgDef); !got.Equal(c.want) {
			t.Errorf("%s: RetainUntil = %v, want %v", c.name, got, c.want)
		}
	}
}

func TestValidateRetentionDays(t *testing.T) {
	base := Policy{Name: "p", RecordingType: RecordingAudio, TargetType: TargetQueue, TargetIDs: []string{"q1"}, Status: StatusEnabled}
	base.Normalize()
	for _, days := range []int{-1, MaxRetentionDays + 1} {
		p := base
		p.RetentionDays = days
		var fe *FieldError
		if err := p.Validate(); !errors.As(err, &fe) || fe.Field != "retentionDays" {
			t.Errorf("retentionDays %d: Validate = %v, want a retentionDays field error", days, err)
		}
	}
	for _, days := range []int{0, 1, MaxRetentionDays} {
		p := base
		p.RetentionDays = days
		if err := p.Validate(); err != nil {
			t.Errorf("retentionDays %d: Validate = %v, want nil", days, err)
		}
	}
}
