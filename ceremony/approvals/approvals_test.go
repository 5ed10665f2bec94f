package approvals_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/mediaseal/mediaseal/ceremony/approvals"
	"github.com/mediaseal/mediaseal/ceremony/auth"
	"github.com/mediaseal/mediaseal/ceremony/store"
	"github.com/mediaseal/mediaseal/internal/testenv"
)

func TestMain(m *testing.M) { testenv.PostgresMain(m) }

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func setup(t *testing.T, cfg store.Config) (*approvals.Service, *clock) {
	st, err := store.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	for id, role := range map[string]string{"ka1": auth.RoleKeyAdmin, "ka2": auth.RoleKeyAdmin, "ka3": auth.RoleKeyAdmin,
		"pa": auth.RolePolicyAdmin, "aud": auth.RoleAuditor, "pr": auth.RolePlaybackRequester} {
		if _, err := st.CreatePrincipal(context.Background(), store.Principal{ID: id, Kind: store.PrincipalService, Roles: []string{role}, SecretHash: "x"}); err != nil {
			t.Fatal(err)
		}
	}
	c := &clock{t: time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)}
	return approvals.New(st, approvals.Config{Now: c.now}, nil), c
}

func scopes(role string) approvals.Actor {
	s, _ := auth.ScopesOf([]string{role})
	return approvals.Actor{Scopes: s}
}

func as(id, role string) approvals.Actor { a := scopes(role); a.ID = id; return a }

var (
	ka1 = as("ka1", auth.RoleKeyAdmin)
	ka2 = as("ka2", auth.RoleKeyAdmin)
	ka3 = as("ka3", auth.RoleKeyAdmin)
	aud = as("aud", auth.RoleAuditor)
	pr  = as("pr", auth.RolePlaybackRequester)
	pa  = as("pa", auth.RolePolicyAdmin)
)

var backends = []struct {
	name string
	cfg  func(t *testing.T) store.Config
}{
	{"sqlite", func(t *testing.T) store.Config { return store.Config{SQLitePath: filepath.Join(t.TempDir(), "c.db")} }},
	{"postgres", func(t *testing.T) store.Config { return store.Config{PostgresDSN: testenv.PostgresDSN(t)} }},
}

func TestQuorum(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			q, clk := setup(t, b.cfg(t))
			bind := approvals.Proposal{Operation: approvals.OpKeyBind, Target: "cmk-1", Parameters: json.RawMessage(`{"status":"ACTIVE","name":"K"}`), Reason: "PCI"}
			if _, err := q.Propose(ctx, pr, bind); !errors.Is(err, approvals.ErrNotEligible) {
				t.Fatalf("playback requester proposes a bind: %v", err)
			}
			a, err := q.Propose(ctx, ka1, bind)
			if err != nil {
				t.Fatal(err)
			}
			ex := approvals.Execution{Operation: approvals.OpKeyBind, Target: "cmk-1", Parameters: []byte(`{"name":"K", "status":"ACTIVE"}`)}
			checks := []struct {
				name string
				err  error
				do   func() error
			}{
				{"execute before quorum", approvals.ErrState, func() error { _, err := q.Claim(ctx, ka1, a.ID, ex); return err }},
				{"self approval", approvals.ErrSelfApproval, func() error { _, err := q.Approve(ctx, ka1, a.ID, a.Digest); return err }},
				{"ineligible approver", approvals.ErrNotEligible, func() error { _, err := q.Approve(ctx, pa, a.ID, a.Digest); return err }},
				{"wrong digest", approvals.ErrDigestMismatch, func() error { _, err := q.Approve(ctx, ka2, a.ID, "00"+a.Digest[2:]); return err }},
				{"approve", nil, func() error { _, err := q.Approve(ctx, ka2, a.ID, a.Digest); return err }},
				{"duplicate approval", approvals.ErrState, func() error { _, err := q.Approve(ctx, ka2, a.ID, a.Digest); return err }},
				{"late approval", approvals.ErrState, func() error { _, err := q.Approve(ctx, ka3, a.ID, a.Digest); return err }},
				{"other principal executes", approvals.ErrNotEligible, func() error { _, err := q.Claim(ctx, ka2, a.ID, ex); return err }},
				{"other target", approvals.ErrMismatch, func() error {
					_, err := q.Claim(ctx, ka1, a.ID, approvals.Execution{Operation: approvals.OpKeyBind, Target: "cmk-2"})
					return err
				}},
				{"other parameters", approvals.ErrMismatch, func() error {
					_, err := q.Claim(ctx, ka1, a.ID, approvals.Execution{Operation: approvals.OpKeyBind, Target: "cmk-1", Parameters: []byte(`{"name":"K2","status":"ACTIVE"}`)})
					return err
				}},
				{"execute", nil, func() error { _, err := q.Claim(ctx, ka1, a.ID, ex); return err }},
				{"replay", approvals.ErrState, func() error { _, err := q.Claim(ctx, ka1, a.ID, ex); return err }},
			}
			for _, c := range checks {
				if err := c.do(); !errors.Is(err, c.err) || (c.err == nil) != (err == nil) {
					t.Fatalf("%s: %v, want %v", c.name, err, c.err)
				}
			}
			// A failed execution is released and can run again, once.
			if err := q.Release(ctx, ka1, a.ID, "kms down"); err != nil {
				t.Fatal(err)
			}
			if _, err := q.Claim(ctx, ka1, a.ID, ex); err != nil {
				t.Fatal(err)
			}

			// Playback needs two distinct approvers.
			p, err := q.Propose(ctx, pr, approvals.Proposal{Operation: approvals.OpPlayback, Target: "rec-1", Reason: "dispute 42"})
			if err != nil {
				t.Fatal(err)
			}
			if a, _ := q.Approve(ctx, ka1, p.ID, p.Digest); a.Status != store.ApprovalPending {
				t.Fatalf("after one approval: %s", a.Status)
			}
			if _, err := q.Approve(ctx, ka1, p.ID, p.Digest); !errors.Is(err, approvals.ErrDuplicateVote) {
				t.Fatalf("same approver twice: %v", err)
			}
			if a, _ := q.Approve(ctx, pa, p.ID, p.Digest); a.Status != store.ApprovalApproved {
				t.Fatalf("after two approvals: %s", a.Status)
			}
			// The execution window closes.
			clk.add(approvals.DefaultWindow + time.Second)
			if _, err := q.Claim(ctx, pr, p.ID, approvals.Execution{Operation: approvals.OpPlayback, Target: "rec-1"}); !errors.Is(err, approvals.ErrExpired) {
				t.Fatalf("after the window: %v", err)
			}

			// Proposals expire without quorum.
			e, _ := q.Propose(ctx, ka1, approvals.Proposal{Operation: approvals.OpKeyBind, Target: "cmk-3", Reason: "r"})
			clk.add(approvals.DefaultExpiry + time.Second)
			if _, err := q.Approve(ctx, ka2, e.ID, e.Digest); !errors.Is(err, approvals.ErrExpired) {
				t.Fatalf("expired proposal approved: %v", err)
			}
			if got, _, _ := q.Get(ctx, e.ID); got.Status != store.ApprovalExpired {
				t.Fatalf("status %s", got.Status)
			}
		})
	}
}

func TestVetoDuringDelay(t *testing.T) {
	ctx := context.Background()
	q, clk := setup(t, backends[0].cfg(t))
	del, _ := q.Propose(ctx, ka1, approvals.Proposal{Operation: approvals.OpKeyDelete, Target: "cmk-1", Reason: "retire"})
	a, err := q.Approve(ctx, ka2, del.ID, del.Digest)
	if err != nil || a.Status != store.ApprovalScheduled || !a.ExecutableAt.Equal(clk.now().Add(approvals.DefaultDeleteDelay)) {
		t.Fatalf("%+v %v", a, err)
	}
	// Scheduled: the gateway executes it, never its proposer.
	ex := approvals.Execution{Operation: approvals.OpKeyDelete, Target: "cmk-1"}
	if _, err := q.Claim(ctx, ka1, del.ID, ex); !errors.Is(err, approvals.ErrState) {
		t.Fatalf("proposer executes a scheduled deletion: %v", err)
	}
	if _, err := q.Veto(ctx, pr, del.ID, "no"); !errors.Is(err, approvals.ErrNotEligible) {
		t.Fatalf("playback requester vetoes: %v", err)
	}
	clk.add(24 * time.Hour)
	if _, err := q.Veto(ctx, aud, del.ID, "auditor objects: recordings under legal hold"); err != nil {
		t.Fatal(err)
	}
	clk.add(7 * 24 * time.Hour)
	ran := 0
	exec := func(context.Context, store.Approval, []string) error { ran++; return nil }
	if n, err := q.RunDue(ctx, "gw", exec); n != 0 || err != nil || ran != 0 {
		t.Fatalf("vetoed deletion executed: %d %v", n, err)
	}
	if _, err := q.Claim(ctx, ka1, del.ID, ex); !errors.Is(err, approvals.ErrState) {
		t.Fatalf("vetoed deletion executed: %v", err)
	}
}

// TestScheduled: operations with a delay run themselves once it is over,
// exactly once among several gateways, on behalf of their approvers; a
// veto before the run stops them, a veto after is refused; transient
// failures are retried with a backoff until ExecuteBy, others are final;
// a claim whose gateway died lapses and another gateway takes over.
// Operations without a delay keep the proposer's execution window.
func TestScheduled(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			cfg := b.cfg(t)
			q, clk := setup(t, cfg)
			st2, err := store.Open(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st2.Close() })
			q2 := approvals.New(st2, approvals.Config{Now: clk.now}, nil) // a second gateway
			schedule := func(op string, approver approvals.Actor) store.Approval {
				t.Helper()
				p, err := q.Propose(ctx, ka1, approvals.Proposal{Operation: op, Target: "cmk-1", Reason: "r"})
				if err != nil {
					t.Fatal(err)
				}
				a, err := q.Approve(ctx, approver, p.ID, p.Digest)
				if err != nil || a.Status != store.ApprovalScheduled {
					t.Fatalf("%+v %v", a, err)
				}
				return a
			}
			var mu sync.Mutex
			runs := map[string][]string{} // approval id → approvers, per run
			fail := map[string]error{}
			exec := func(_ context.Context, a store.Approval, approvers []string) error {
				mu.Lock()
				defer mu.Unlock()
				runs[a.ID] = append(runs[a.ID], approvers...)
				return fail[a.ID]
			}
			sweep := func() {
				t.Helper()
				var wg sync.WaitGroup
				for i, s := range []*approvals.Service{q, q, q2, q2} {
					wg.Add(1)
					go func() {
						defer wg.Done()
						if _, err := s.RunDue(ctx, []string{"gw-a", "gw-a", "gw-b", "gw-b"}[i], exec); err != nil {
							t.Error(err)
						}
					}()
				}
				wg.Wait()
			}

			disable := schedule(approvals.OpKeyDisable, ka2)
			del := schedule(approvals.OpKeyDelete, ka3)
			vetoed := schedule(approvals.OpKeyDelete, ka2)
			flaky := schedule(approvals.OpKeyDisable, ka3)
			broken := schedule(approvals.OpKeyDisable, ka2)
			fail[flaky.ID] = fmt.Errorf("%w: kms down", approvals.ErrTransient)
			fail[broken.ID] = errors.New("no such key in its provider")

			sweep() // nothing is due yet
			if len(runs) != 0 {
				t.Fatalf("ran before the delay: %v", runs)
			}
			clk.add(approvals.DefaultDisableDelay - time.Minute)
			if _, err := q.Veto(ctx, aud, vetoed.ID, "legal hold"); err != nil {
				t.Fatal(err)
			}
			clk.add(2 * time.Minute)
			sweep()
			if got := runs[disable.ID]; len(got) != 1 || got[0] != "ka2" {
				t.Fatalf("disable runs (approvers): %v", got)
			}
			if len(runs[del.ID]) != 0 {
				t.Fatal("deletion ran before its 7-day delay")
			}
			a, _, _ := q.Get(ctx, disable.ID)
			if a.Status != store.ApprovalExecuted || a.Attempts != 1 || (a.ExecutedBy != "gw-a" && a.ExecutedBy != "gw-b") || a.Owner != "" {
				t.Fatalf("executed disable: %+v", a)
			}
			if _, err := q.Veto(ctx, aud, disable.ID, "too late"); !errors.Is(err, approvals.ErrState) {
				t.Fatalf("veto after the run: %v", err)
			}
			if a, _, _ := q.Get(ctx, broken.ID); a.Status != store.ApprovalFailed || a.LastError != "no such key in its provider" {
				t.Fatalf("permanent failure: %+v", a)
			}
			a, _, _ = q.Get(ctx, flaky.ID)
			if a.Status != store.ApprovalScheduled || a.Attempts != 1 || !a.ExecutableAt.Equal(clk.now().Add(approvals.DefaultRetryBackoff)) {
				t.Fatalf("transient failure: %+v", a)
			}
			// Still vetoable between retries; retried after the backoff.
			clk.add(approvals.DefaultRetryBackoff)
			fail[flaky.ID] = nil
			sweep()
			if a, _, _ := q.Get(ctx, flaky.ID); a.Status != store.ApprovalExecuted || a.Attempts != 2 || len(runs[flaky.ID]) != 2 {
				t.Fatalf("retried disable: %+v (runs %v)", a, runs[flaky.ID])
			}

			// The deletion's gateway dies after claiming it: its lease
			// lapses and another gateway executes it.
			clk.add(approvals.DefaultDeleteDelay)
			stuck, err := st2.ClaimApproval(ctx, del.ID, "gw-dead", clk.now(), clk.now().Add(approvals.DefaultLease))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := q.Veto(ctx, aud, del.ID, "executing"); !errors.Is(err, approvals.ErrState) {
				t.Fatalf("veto of an executing deletion: %v", err)
			}
			sweep()
			if len(runs[del.ID]) != 0 {
				t.Fatal("ran under another gateway's live claim")
			}
			clk.add(approvals.DefaultLease + time.Second)
			sweep()
			if a, _, _ := q.Get(ctx, del.ID); a.Status != store.ApprovalExecuted || a.Attempts != stuck.Attempts+1 || len(runs[del.ID]) != 1 {
				t.Fatalf("taken-over deletion: %+v (runs %v)", a, runs[del.ID])
			}
			if len(runs[vetoed.ID]) != 0 {
				t.Fatal("vetoed deletion ran")
			}

			// Transient failures past ExecuteBy are final.
			late := schedule(approvals.OpKeyDisable, ka2)
			fail[late.ID] = fmt.Errorf("%w: kms down", approvals.ErrTransient)
			clk.add(approvals.DefaultDisableDelay + approvals.DefaultRetryFor)
			sweep()
			if a, _, _ := q.Get(ctx, late.ID); a.Status != store.ApprovalFailed {
				t.Fatalf("transient failure after ExecuteBy: %+v", a)
			}

			// Without a delay: APPROVED, the proposer's window, never swept.
			p, _ := q.Propose(ctx, ka1, approvals.Proposal{Operation: approvals.OpKeyBind, Target: "cmk-2", Reason: "r"})
			if a, err := q.Approve(ctx, ka2, p.ID, p.Digest); err != nil || a.Status != store.ApprovalApproved ||
				!a.ExecuteBy.Equal(clk.now().Add(approvals.DefaultWindow)) {
				t.Fatalf("bind: %+v %v", a, err)
			}
			sweep()
			if len(runs[p.ID]) != 0 {
				t.Fatal("an operation without a delay was swept")
			}
			if _, err := q.Claim(ctx, ka1, p.ID, approvals.Execution{Operation: approvals.OpKeyBind, Target: "cmk-2"}); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestBackoffDoubles(t *testing.T) {
	ctx := context.Background()
	q, clk := setup(t, backends[0].cfg(t))
	p, _ := q.Propose(ctx, ka1, approvals.Proposal{Operation: approvals.OpKeyDelete, Target: "k", Reason: "r"})
	q.Approve(ctx, ka2, p.ID, p.Digest)
	clk.add(approvals.DefaultDeleteDelay)
	exec := func(context.Context, store.Approval, []string) error {
		return fmt.Errorf("%w: kms down", approvals.ErrTransient)
	}
	for _, want := range []time.Duration{30 * time.Second, time.Minute, 2 * time.Minute, 4 * time.Minute} {
		q.RunDue(ctx, "gw", exec)
		a, _, _ := q.Get(ctx, p.ID)
		if got := a.ExecutableAt.Sub(clk.now()); got != want || a.Status != store.ApprovalScheduled {
			t.Fatalf("attempt %d: retry in %v (%s), want %v", a.Attempts, got, a.Status, want)
		}
		clk.add(want)
	}
}

func TestQuorumImpossible(t *testing.T) {
	st, err := store.Open(context.Background(), store.Config{SQLitePath: filepath.Join(t.TempDir(), "c.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	st.CreatePrincipal(context.Background(), store.Principal{ID: "ka1", Kind: store.PrincipalService, Roles: []string{auth.RoleKeyAdmin}, SecretHash: "x"})
	q := approvals.New(st, approvals.Config{}, nil)
	if _, err := q.Propose(context.Background(), ka1, approvals.Proposal{Operation: approvals.OpKeyBind, Target: "k", Reason: "r"}); !errors.Is(err, approvals.ErrQuorumImpossible) {
		t.Fatalf("a lone key admin: %v", err)
	}
}
