package broker

import (
	"testing"
	"time"
)

func TestBreakerStateMachine(t *testing.T) {
	t0 := time.Unix(1000, 0)
	type step struct {
		op        string // allow, ok, fail
		at        time.Duration
		wantAllow bool
		wantProbe bool
		wantState State
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"opens after N consecutive failures", []step{
			{"allow", 0, true, false, Closed},
			{"fail", 0, false, false, Closed},
			{"fail", 0, false, false, Closed},
			{"fail", 0, false, false, Open},
			{"allow", time.Second, false, false, Open},
		}},
		{"a success resets the count", []step{
			{"fail", 0, false, false, Closed},
			{"fail", 0, false, false, Closed},
			{"ok", 0, false, false, Closed},
			{"fail", 0, false, false, Closed},
			{"fail", 0, false, false, Closed},
			{"allow", 0, true, false, Closed},
		}},
		{"one probe after cool-down, success closes", []step{
			{"fail", 0, false, false, Closed}, {"fail", 0, false, false, Closed}, {"fail", 0, false, false, Open},
			{"allow", 9 * time.Second, false, false, Open},
			{"allow", 10 * time.Second, true, true, HalfOpen},
			{"allow", 10 * time.Second, false, false, HalfOpen}, // second caller does not probe
			{"ok", 11 * time.Second, false, false, Closed},
			{"allow", 11 * time.Second, true, false, Closed},
		}},
		{"failed probe reopens for a full cool-down", []step{
			{"fail", 0, false, false, Closed}, {"fail", 0, false, false, Closed}, {"fail", 0, false, false, Open},
			{"allow", 10 * time.Second, true, true, HalfOpen},
			{"fail", 12 * time.Second, false, false, Open},
			{"allow", 21 * time.Second, false, false, Open},
			{"allow", 22 * time.Second, true, true, HalfOpen},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := &breaker{failures: 3, cooldown: 10 * time.Second}
			for i, s := range tc.steps {
				now := t0.Add(s.at)
				switch s.op {
				case "allow":
					ok, probe := b.allow(now)
					if ok != s.wantAllow || probe != s.wantProbe {
						t.Fatalf("step %d: allow = %v, %v; want %v, %v", i, ok, probe, s.wantAllow, s.wantProbe)
					}
				case "ok":
					b.success()
				case "fail":
					b.failure(now)
				}
				if got := b.current(); got != s.wantState {
					t.Fatalf("step %d (%s): state %v, want %v", i, s.op, got, s.wantState)
				}
			}
		})
	}
}

func TestBreakerReleaseProbe(t *testing.T) {
	b := &breaker{failures: 1, cooldown: time.Second}
	t0 := time.Unix(0, 0)
	b.failure(t0)
	if ok, probe := b.allow(t0.Add(time.Second)); !ok || !probe {
		t.Fatal("no probe after cool-down")
	}
	b.release(true) // the prober's session ended: let another caller probe
	if ok, probe := b.allow(t0.Add(time.Second)); !ok || !probe {
		t.Fatal("probe slot not released")
	}
}
