package gatewaytest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/mediaseal/mediaseal/ceremony/store"
)

// WaitApproval polls proposal id as p until its status is want, failing
// on any other final status or after within.
func WaitApproval(p *Principal, id, want string, within time.Duration) map[string]any {
	p.TG.T.Helper()
	deadline := time.Now().Add(within)
	for {
		m := p.Must(200, "GET", "/api/v2/approvals/"+id, nil)
		switch st := fmt.Sprint(m["status"]); {
		case st == want:
			return m
		case st != store.ApprovalScheduled && st != store.ApprovalExecuting && st != store.ApprovalPending:
			p.TG.T.Fatalf("approval %s is %s, want %s: %v", id, st, want, m)
		case time.Now().After(deadline):
			p.TG.T.Fatalf("approval %s still %s after %v, want %s: %v", id, st, within, want, m)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Lateness is how long after its approval's executableAt a scheduled
// operation was executed.
func Lateness(t *testing.T, m map[string]any) time.Duration {
	t.Helper()
	at, err1 := time.Parse(time.RFC3339Nano, fmt.Sprint(m["executableAt"]))
	done, err2 := time.Parse(time.RFC3339Nano, fmt.Sprint(m["executedAt"]))
	if err := errors.Join(err1, err2); err != nil {
		t.Fatalf("approval times: %v (%v)", err, m)
	}
	if done.Before(at) {
		t.Fatalf("executed at %s, before its delay ended at %s", done, at)
	}
	return done.Sub(at).Round(time.Millisecond)
}
