package approvals_test

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/mediaseal/mediaseal/internal/approvals"
	"github.com/mediaseal/mediaseal/internal/auth"
	"github.com/mediaseal/mediaseal/internal/store"
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
	if a, err := q.Approve(ctx, ka2, del.ID, del.Digest); err != nil || !a.ExecutableAt.Equal(clk.now().Add(approvals.DefaultDeleteDelay)) {
		t.Fatalf("%+v %v", a, err)
	}
	ex := approvals.Execution{Operation: approvals.OpKeyDelete, Target: "cmk-1"}
	if _, err := q.Claim(ctx, ka1, del.ID, ex); !errors.Is(err, approvals.ErrNotYet) {
		t.Fatalf("deletion before its delay: %v", err)
	}
	if _, err := q.Veto(ctx, pr, del.ID, "no"); !errors.Is(err, approvals.ErrNotEligible) {
		t.Fatalf("playback requester vetoes: %v", err)
	}
	clk.add(24 * time.Hour)
	if _, err := q.Veto(ctx, aud, del.ID, "auditor objects: recordings under legal hold"); err != nil {
		t.Fatal(err)
	}
	clk.add(7 * 24 * time.Hour)
	if _, err := q.Claim(ctx, ka1, del.ID, ex); !errors.Is(err, approvals.ErrState) {
		t.Fatalf("vetoed deletion executed: %v", err)
	}
	// Without a veto it runs after the delay, and a veto then is too late.
	dis, _ := q.Propose(ctx, ka1, approvals.Proposal{Operation: approvals.OpKeyDisable, Target: "cmk-1", Reason: "suspected misuse"})
	q.Approve(ctx, ka3, dis.ID, dis.Digest)
	clk.add(approvals.DefaultDisableDelay + time.Minute)
	if _, err := q.Veto(ctx, aud, dis.ID, "late"); !errors.Is(err, approvals.ErrState) {
		t.Fatalf("veto after the delay: %v", err)
	}
	if _, err := q.Claim(ctx, ka1, dis.ID, approvals.Execution{Operation: approvals.OpKeyDisable, Target: "cmk-1"}); err != nil {
		t.Fatal(err)
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
