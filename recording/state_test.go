package recording

import (
	"errors"
	"slices"
	"testing"
)

var allStates = []State{Active, Sealed, WriteFailed, Recovered, Truncated, Uploaded, Indexed, Failed}

// Every pair of states: the legal moves are exactly the life cycle's,
// every other is refused with ErrTransition and leaves the state as it was.
func TestTransitions(t *testing.T) {
	legal := map[[2]State]bool{
		{Active, Sealed}: true, {Active, WriteFailed}: true, {Active, Recovered}: true, {Active, Truncated}: true, {Active, Failed}: true,
		{WriteFailed, Recovered}: true, {WriteFailed, Truncated}: true,
		{Sealed, Uploaded}: true, {Recovered, Uploaded}: true, {Truncated, Uploaded}: true,
		{Uploaded, Indexed}: true,
	}
	for _, from := range allStates {
		for _, to := range allStates {
			got, err := move(from, to)
			want := legal[[2]State{from, to}]
			if CanMove(from, to) != want || (err == nil) != want {
				t.Errorf("%s → %s: legal %v, want %v (err %v)", from, to, err == nil, want, err)
			}
			if !want && (got != from || !errors.Is(err, ErrTransition)) {
				t.Errorf("%s → %s refused as %v, state %s", from, to, err, got)
			}
		}
	}
	for _, end := range []State{Indexed, Failed} {
		if len(next[end]) != 0 {
			t.Errorf("%s is final but moves on to %v", end, next[end])
		}
	}
}

// A recording cannot skip a step: not indexed before it is uploaded, not
// uploaded before it is closed, not sealed twice.
func TestRecordingRefusesSkippedSteps(t *testing.T) {
	svc := newTestService(t, nil)
	r, err := svc.Begin(Start{CallID: "c"})
	if err != nil {
		t.Fatal(err)
	}
	for _, skip := range []State{Indexed, Uploaded} {
		if err := r.to(skip); !errors.Is(err, ErrTransition) || r.State() != Active {
			t.Fatalf("ACTIVE → %s: %v, now %s", skip, err, r.State())
		}
	}
	if err := r.to(Sealed); err != nil {
		t.Fatal(err)
	}
	if err := r.to(Sealed); !errors.Is(err, ErrTransition) {
		t.Fatalf("sealed twice: %v", err)
	}
	if _, err := indexStatus(Active); !errors.Is(err, ErrTransition) {
		t.Fatalf("an open recording has a final index status: %v", err)
	}
	if !slices.Contains(allStates, r.State()) {
		t.Fatal(r.State())
	}
}
