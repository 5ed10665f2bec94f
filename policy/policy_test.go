package policy

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func ptr(s string) *string { return &s }

func valid() Policy {
	p := Policy{ID: "p1", Name: "PCI", RecordingType: RecordingAudio, TargetIDs: []string{"q1"},
		EncryptionKeyReference: &KeyReference{KeyID: "cmk-1", ProviderType: "AWS_KMS"}}
	p.Normalize()
	return p
}

func TestValidateNamesTheField(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(*Policy)
		field string
	}{
		{"bad id", func(p *Policy) { p.ID = "../x" }, "id"},
		{"no name", func(p *Policy) { p.Name = " " }, "name"},
		{"recording type", func(p *Policy) { p.RecordingType = "LOUD" }, "recordingType"},
		{"target type", func(p *Policy) { p.TargetType = "AGENT" }, "targetType"},
		{"target id", func(p *Policy) { p.TargetIDs = []string{"ok", "bad id"} }, "targetIds[1]"},
		{"status", func(p *Policy) { p.Status = "ON" }, "status"},
		{"on key unavailable", func(p *Policy) { p.OnKeyUnavailable = "PANIC" }, "onKeyUnavailable"},
		{"key id", func(p *Policy) { p.EncryptionKeyReference.KeyID = "" }, "encryptionKeyReference.keyId"},
		{"provider type", func(p *Policy) { p.EncryptionKeyReference.ProviderType = "GCP" }, "encryptionKeyReference.providerType"},
		{"direction", func(p *Policy) { p.Conditions.Direction = "SIDEWAYS" }, "conditions.direction"},
		{"caller pattern", func(p *Policy) { p.Conditions.CallerIDPattern = ptr("(") }, "conditions.callerIdPattern"},
		{"window start", func(p *Policy) { p.Conditions.TimeWindow = &TimeWindow{Start: "25:00", End: "10:00"} }, "conditions.timeWindow.start"},
		{"window zone", func(p *Policy) {
			p.Conditions.TimeWindow = &TimeWindow{Start: "08:00", End: "10:00", Timezone: "Mars/Base"}
		}, "conditions.timeWindow.timezone"},
		{"window day", func(p *Policy) {
			p.Conditions.TimeWindow = &TimeWindow{Start: "08:00", End: "10:00", Days: []string{"MON", "FUNDAY"}}
		}, "conditions.timeWindow.days[1]"},
		{"global customer key (empty targets)", func(p *Policy) { p.TargetIDs = nil }, "targetIds"},
		{"global customer key (wildcard)", func(p *Policy) { p.TargetIDs = []string{"q1", "*"} }, "targetIds"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := valid()
			tt.edit(&p)
			var fe *FieldError
			if err := p.Validate(); !errors.As(err, &fe) || fe.Field != tt.field {
				t.Fatalf("Validate() = %v, want a FieldError on %s", err, tt.field)
			}
		})
	}
	p := valid()
	if err := p.Validate(); err != nil {
		t.Fatalf("valid policy refused: %v", err)
	}
	// The trap is lifted only by an explicit declaration, and never applies
	// to platform keys.
	p.TargetIDs, p.AllowGlobalCustomerKey = []string{"*"}, true
	if err := p.Validate(); err != nil {
		t.Fatalf("declared global customer key refused: %v", err)
	}
	p = valid()
	p.TargetIDs, p.EncryptionKeyReference = nil, &KeyReference{KeyID: "platform", ProviderType: ProviderPlatform}
	if err := p.Validate(); err != nil {
		t.Fatalf("global platform-key policy refused: %v", err)
	}
}

func mustSet(t *testing.T, ps ...Policy) *Set {
	t.Helper()
	for i := range ps {
		ps[i].Normalize()
	}
	s, err := NewSet(ps)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestMatchPicksTheMostSpecific(t *testing.T) {
	monday10 := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC) // a Monday
	s := mustSet(t,
		Policy{ID: "all", Name: "all", RecordingType: RecordingAudio, TargetIDs: []string{"*"}},
		Policy{ID: "sales", Name: "sales", RecordingType: RecordingAudio, TargetIDs: []string{"sales"}},
		Policy{ID: "sales-in", Name: "sales inbound", RecordingType: RecordingAudioAndVideo, TargetIDs: []string{"sales"},
			Conditions: Conditions{Direction: DirectionInbound}},
		Policy{ID: "vip", Name: "vip", RecordingType: RecordingNone, TargetIDs: []string{"sales"},
			Conditions: Conditions{Direction: DirectionInbound, CallerIDPattern: ptr(`^\+4420`)}},
		Policy{ID: "night", Name: "night", RecordingType: RecordingAudio, TargetIDs: []string{"support"},
			Conditions: Conditions{TimeWindow: &TimeWindow{Start: "22:00", End: "06:00"}}},
		Policy{ID: "weekday", Name: "weekday", RecordingType: RecordingAudio, TargetIDs: []string{"billing"},
			Conditions: Conditions{TimeWindow: &TimeWindow{Start: "09:00", End: "17:00", Timezone: "Europe/London", Days: []string{"MON"}}}},
		Policy{ID: "off", Name: "off", RecordingType: RecordingAudio, TargetIDs: []string{"closed"}, Status: StatusDisabled},
	)
	tests := []struct {
		name   string
		call   Call
		record bool
		policy string
	}{
		{"wildcard", Call{QueueID: "other", Direction: DirectionInbound, At: monday10}, true, "all"},
		{"queue beats wildcard", Call{QueueID: "sales", Direction: DirectionOutbound, At: monday10}, true, "sales"},
		{"direction narrows", Call{QueueID: "sales", Direction: DirectionInbound, CallerID: "+1555", At: monday10}, true, "sales-in"},
		{"NONE wins when most specific", Call{QueueID: "sales", Direction: DirectionInbound, CallerID: "+442071", At: monday10}, false, "vip"},
		{"window outside falls back", Call{QueueID: "support", At: monday10}, true, "all"},
		{"window across midnight", Call{QueueID: "support", At: time.Date(2026, 11, 23, 23, 30, 0, 0, time.UTC)}, true, "night"},
		{"window early morning", Call{QueueID: "support", At: time.Date(2026, 11, 24, 5, 59, 0, 0, time.UTC)}, true, "night"},
		{"day and zone", Call{QueueID: "billing", At: monday10}, true, "weekday"},
		{"wrong day", Call{QueueID: "billing", At: monday10.Add(24 * time.Hour)}, true, "all"},
		{"disabled ignored", Call{QueueID: "closed", At: monday10}, true, "all"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := s.Match(tt.call)
			if d.Record != tt.record || d.Policy == nil || d.Policy.ID != tt.policy {
				t.Fatalf("Match = record %v policy %+v (%s), want record %v policy %s", d.Record, d.Policy, d.Reason, tt.record, tt.policy)
			}
		})
	}
}

func TestMatchWithoutPolicyDoesNotRecord(t *testing.T) {
	s := mustSet(t, Policy{ID: "only", Name: "only", RecordingType: RecordingAudio, TargetIDs: []string{"q1"}})
	if d := s.Match(Call{QueueID: "q2"}); d.Record || d.Policy != nil || d.Reason == "" {
		t.Fatalf("unmatched call: %+v", d)
	}
}

func TestDecisionIsACopy(t *testing.T) {
	s := mustSet(t, valid())
	d := s.Match(Call{QueueID: "q1"})
	d.Policy.TargetIDs[0] = "changed"
	d.Policy.EncryptionKeyReference.KeyID = "changed"
	again := s.Match(Call{QueueID: "q1"})
	if again.Policy.TargetIDs[0] != "q1" || again.Policy.EncryptionKeyReference.KeyID != "cmk-1" {
		t.Fatal("a decision shares memory with the policy set")
	}
}

func TestNewSetRejectsDuplicatesAndNamesIndex(t *testing.T) {
	a, b := valid(), valid()
	if _, err := NewSet([]Policy{a, b}); err == nil {
		t.Fatal("duplicate ids accepted")
	}
	b.ID, b.RecordingType = "p2", "BAD"
	if _, err := NewSet([]Policy{a, b}); err == nil || !strings.Contains(err.Error(), "policies[1]") {
		t.Fatalf("error %v does not name the index", err)
	}
}
