package policy

import (
	"errors"
	"slices"
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

// Shortening a queue's retention, moving it to a shorter policy, or a new
// policy taking its calls with a shorter one is flagged; lengthening,
// platform edits that keep the retention, and queues that recorded
// nothing before are not.
func TestRetentionEffect(t *testing.T) {
	mk := func(id string, queues []string, days int) Policy {
		p := Policy{ID: id, Name: id, RecordingType: RecordingAudio, TargetType: TargetQueue, TargetIDs: queues,
			Status: StatusEnabled, RetentionDays: days, EncryptionKeyReference: &KeyReference{KeyID: "platform", ProviderType: ProviderPlatform}}
		p.Normalize()
		return p
	}
	set := func(ps ...Policy) *Set {
		s, err := LiveSet(ps, func(p Policy, err error) { t.Fatalf("%s: %v", p.ID, err) })
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	before := set(mk("pci", []string{"pci"}, 365), mk("rest", []string{"*"}, 0))
	for name, c := range map[string]struct {
		after *Set
		want  []string
	}{
		"shortened":        {set(mk("pci", []string{"pci"}, 30), mk("rest", []string{"*"}, 0)), []string{"pci"}},
		"lengthened":       {set(mk("pci", []string{"pci"}, 3650), mk("rest", []string{"*"}, 0)), nil},
		"org default kept": {set(mk("pci", []string{"pci"}, 365), mk("rest", []string{"*"}, 0), mk("sales", []string{"sales"}, 0)), nil},
		"new shorter":      {set(mk("pci", []string{"pci"}, 365), mk("rest", []string{"*"}, 0), mk("sales", []string{"sales"}, 7)), []string{"sales"}},
		"deleted":          {set(mk("rest", []string{"*"}, 0)), nil}, // falls to the org default, 400 > 365
	} {
		if got := RetentionEffect(before, c.after, 400); !slices.Equal(got, c.want) {
			t.Errorf("%s: %q, want %q", name, got, c.want)
		}
	}
	if got := RetentionEffect(before, set(mk("rest", []string{"*"}, 0)), 30); !slices.Equal(got, []string{"pci"}) {
		t.Errorf("deleted, org default 30 days: %q", got)
	}
}
