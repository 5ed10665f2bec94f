package media

import (
	"testing"
	"time"
)

// The schedule hands out only the sessions whose flush is due, each once
// per interval, counting the next interval from the tick that took it;
// a session that has ended leaves it.
func TestFlushScheduleTakesOnlyDueSessions(t *testing.T) {
	var f flushSchedule
	t0 := time.Unix(1000, 0)
	ss := make([]*Session, 5)
	for i := range ss {
		ss[i] = &Session{ID: string(rune('a' + i)), ended: make(chan struct{})}
		f.add(ss[i], t0.Add(time.Duration(i)*100*time.Millisecond))
	}
	take := func(now time.Time) (got []string) {
		f.take(now, time.Second, func(s *Session, due time.Time) {
			if due.After(now) {
				t.Errorf("%s handed out at %v before it fell due at %v", s.ID, now, due)
			}
			got = append(got, s.ID)
		})
		return got
	}
	if got := take(t0.Add(-time.Millisecond)); len(got) != 0 {
		t.Fatalf("before any is due: %v", got)
	}
	if got := take(t0.Add(250 * time.Millisecond)); len(got) != 3 || got[0] != "a" || got[1] != "b" || got[2] != "c" {
		t.Fatalf("at 250 ms: %v, want a b c", got)
	}
	if got := take(t0.Add(260 * time.Millisecond)); len(got) != 0 {
		t.Fatalf("a tick later: %v, want none (taken once per interval)", got)
	}
	close(ss[3].ended)
	if got := take(t0.Add(450 * time.Millisecond)); len(got) != 1 || got[0] != "e" {
		t.Fatalf("at 450 ms: %v, want e (d has ended)", got)
	}
	// a, b and c fall due again one interval after the tick that took them.
	if got := take(t0.Add(1249 * time.Millisecond)); len(got) != 0 {
		t.Fatalf("at 1249 ms: %v", got)
	}
	if got := take(t0.Add(1250 * time.Millisecond)); len(got) != 3 {
		t.Fatalf("at 1250 ms: %v, want a b c", got)
	}
	if len(f.due) != 4 {
		t.Fatalf("%d sessions scheduled, want 4 (d left)", len(f.due))
	}
}
