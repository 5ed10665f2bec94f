package jobs

import (
	"bytes"
	"context"
	"errors"
	"maps"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/mediaseal/mediaseal/ceremony/store"
	"github.com/mediaseal/mediaseal/kms"
	"github.com/mediaseal/mediaseal/storage"
)

func start(t testing.TB, r *Runner, spec Spec) Job {
	t.Helper()
	j, err := r.Start(context.Background(), spec, "key-admin")
	if err != nil {
		t.Fatal(err)
	}
	return waitJob(t, r, j.ID)
}

// TestReencryptProviders runs the whole story on each real provider:
// rotate, record new calls, dry run (exact counts, nothing changed),
// rewrap (every old recording names the target version, decrypts to the
// same records, zero media bytes read), rerun (idempotent), reseal (new
// DEK and object, old object deleted, same records).
func TestReencryptProviders(t *testing.T) {
	for _, mk := range []func(testing.TB) kit{localKit, localKMSKit, softHSMKit} {
		k := mk(t)
		t.Run(k.name, func(t *testing.T) {
			ctx := context.Background()
			e := newEnv(t, k)
			var old []store.Recording
			for range 6 {
				old = append(old, e.record(store.RecordingComplete, 40))
			}
			e.record(store.RecordingActive, 5)
			if err := e.st.CreateRecording(ctx, store.Recording{ID: "failed-1", PolicyID: "pci", Status: store.RecordingFailed}); err != nil {
				t.Fatal(err)
			}
			oldVersion := old[0].KeyVersion
			k.rotate(t)
			fresh := []store.Recording{e.record(store.RecordingComplete, 40), e.record(store.RecordingComplete, 40)}
			if fresh[0].KeyVersion == oldVersion || fresh[0].KeyVersion != k.target {
				t.Fatalf("after rotation new calls use %q (old %q, want %q)", fresh[0].KeyVersion, oldVersion, k.target)
			}
			var oldBytes int64
			for _, r := range old {
				oldBytes += r.Bytes
			}
			aud := &events{}
			r := e.runner(Config{}, aud)

			dry := start(t, r, Spec{PolicyIDs: []string{"pci"}, TargetKeyVersion: k.target, DryRun: true})
			p := dry.Progress
			wantSkips := map[string]int64{SkipAtTarget: 2, SkipActive: 1, SkipNoEnvelope: 1}
			if dry.Status != store.JobCompleted || p.Processed != 10 || p.Changed != 6 || p.Bytes != oldBytes ||
				!maps.Equal(p.Skipped, wantSkips) || p.Errors != 0 {
				t.Fatalf("dry run: %s %+v", dry.Status, p)
			}
			for _, rec := range old {
				if got, _ := e.st.GetRecording(ctx, rec.ID); got.KeyVersion != oldVersion || !bytes.Equal(got.WrappedDEK, rec.WrappedDEK) {
					t.Fatalf("dry run changed %s", rec.ID)
				}
			}

			readBefore := e.objects.read.Load()
			rw := start(t, r, Spec{PolicyIDs: []string{"pci"}, TargetKeyVersion: k.target})
			if rw.Status != store.JobCompleted || rw.Progress.Changed != 6 || rw.Progress.Errors != 0 || rw.Progress.Skipped[SkipAtTarget] != 2 {
				t.Fatalf("rewrap: %s %+v %s", rw.Status, rw.Progress, rw.Error)
			}
			if n := e.objects.read.Load() - readBefore; n != 0 || rw.Progress.MediaBytesRead != 0 {
				t.Fatalf("rewrap read %d media bytes (job says %d)", n, rw.Progress.MediaBytesRead)
			}
			ids := []string{}
			for _, rec := range append(old, fresh...) {
				ids = append(ids, rec.ID)
			}
			after := e.checkReadable(ids...)
			for _, rec := range old {
				got := after[rec.ID]
				if got.KeyVersion != k.target || bytes.Equal(got.WrappedDEK, rec.WrappedDEK) || got.ObjectKey != rec.ObjectKey {
					t.Fatalf("%s after rewrap: version %q object %s", rec.ID, got.KeyVersion, got.ObjectKey)
				}
			}
			if a := aud.actions(); !slices.Contains(a, ActionJobStarted) || !slices.Contains(a, ActionJobCompleted) {
				t.Fatalf("audit events %v", a)
			}

			again := start(t, r, Spec{PolicyIDs: []string{"pci"}})
			if again.Progress.Changed != 0 || again.Progress.Skipped[SkipAtTarget] != 8 {
				t.Fatalf("second rewrap is not idempotent: %+v", again.Progress)
			}

			rs := start(t, r, Spec{PolicyIDs: []string{"pci"}, Mode: ModeReseal})
			if rs.Status != store.JobCompleted || rs.Progress.Changed != 8 || rs.Progress.Errors != 0 || rs.Progress.MediaBytesRead == 0 {
				t.Fatalf("reseal: %s %+v %s", rs.Status, rs.Progress, rs.Error)
			}
			resealed := e.checkReadable(ids...)
			for _, id := range ids {
				before, got := after[id], resealed[id]
				if got.ObjectKey == before.ObjectKey || !strings.Contains(got.ObjectKey, rs.ID) || bytes.Equal(got.WrappedDEK, before.WrappedDEK) {
					t.Fatalf("%s not resealed: %+v", id, got)
				}
				if _, err := e.objects.Store.Head(ctx, before.ObjectKey); !errors.Is(err, storage.ErrNotFound) {
					t.Fatalf("old object of %s still there: %v", id, err)
				}
			}
		})
	}
}

// TestResumeAfterKill stops a runner after 7 recordings (its context is
// cancelled, as a shutdown or a crash after the last checkpoint would),
// then a new runner on the same store finishes: every recording changed
// exactly once, none skipped as already done, none left behind.
func TestResumeAfterKill(t *testing.T) {
	for _, mode := range []Mode{ModeRewrap, ModeReseal} {
		t.Run(string(mode), func(t *testing.T) {
			k := localKit(t)
			e := newEnv(t, k)
			var ids []string
			for range 30 {
				ids = append(ids, e.record(store.RecordingComplete, 20).ID)
			}
			k.rotate(t)
			ctx, kill := context.WithCancel(context.Background())
			r1 := e.runner(Config{Concurrency: 4, PageSize: 8}, nil)
			r1.afterCommit = func(_ string, p Progress) {
				if p.Processed == 7 {
					kill()
				}
			}
			j, err := r1.Start(ctx, Spec{Mode: mode}, "key-admin")
			if err != nil {
				t.Fatal(err)
			}
			_ = r1.Run(ctx)
			mid, _ := r1.Get(context.Background(), j.ID)
			if mid.Status != store.JobRunning || mid.Progress.Processed != 7 || mid.Progress.Changed != 7 {
				t.Fatalf("after the kill: %s %+v", mid.Status, mid.Progress)
			}
			r2 := e.runner(Config{Concurrency: 4, PageSize: 8}, nil)
			done := waitJob(t, r2, j.ID)
			p := done.Progress
			if done.Status != store.JobCompleted || p.Processed != 30 || p.Changed != 30 || p.SkippedTotal() != 0 || p.Errors != 0 {
				t.Fatalf("resumed job: %s %+v", done.Status, p)
			}
			for id, rec := range e.checkReadable(ids...) {
				if rec.KeyVersion != "v2" {
					t.Fatalf("%s at %s", id, rec.KeyVersion)
				}
			}
			objs, err := e.objects.Store.List(context.Background(), testOrg+"/")
			if err != nil || len(objs) != 30 {
				t.Fatalf("%d objects in storage, want 30 (no orphans, no leftovers): %v", len(objs), err)
			}
		})
	}
}

// TestCancelLeavesEveryRecordingReadable cancels a reseal job half-way.
func TestCancelLeavesEveryRecordingReadable(t *testing.T) {
	k := localKit(t)
	e := newEnv(t, k)
	var ids []string
	for range 12 {
		ids = append(ids, e.record(store.RecordingComplete, 30).ID)
	}
	aud := &events{}
	r := e.runner(Config{Concurrency: 3, PageSize: 5}, aud)
	var jobID atomic.Value
	r.afterCommit = func(id string, p Progress) {
		if p.Processed == 5 {
			if _, err := r.Cancel(context.Background(), id, "auditor-veto"); err != nil {
				t.Error(err)
			}
		}
	}
	j, err := r.Start(context.Background(), Spec{Mode: ModeReseal}, "key-admin")
	if err != nil {
		t.Fatal(err)
	}
	jobID.Store(j.ID)
	done := waitJob(t, r, j.ID)
	if done.Status != store.JobCancelled || done.Progress.Processed != 5 || done.CancelledBy != "auditor-veto" {
		t.Fatalf("cancelled job: %s by %q %+v", done.Status, done.CancelledBy, done.Progress)
	}
	e.checkReadable(ids...)
	objs, _ := e.objects.Store.List(context.Background(), testOrg+"/")
	if len(objs) != 12 {
		t.Fatalf("%d objects after cancel, want 12", len(objs))
	}
	if a := aud.actions(); !slices.Contains(a, ActionJobCancelled) {
		t.Fatalf("audit %v", a)
	}
	if _, err := r.Cancel(context.Background(), j.ID, "x"); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("cancel of a finished job: %v", err)
	}
}

// throttling fails the first n Rewrap calls with kms.ErrThrottled: a
// fault the real providers cannot be made to show on demand.
type throttling struct {
	kms.Provider
	left atomic.Int64
}

func (p *throttling) Rewrap(ctx context.Context, ref kms.KeyRef, w []byte, ec kms.EncryptionContext) ([]byte, string, error) {
	if p.left.Add(-1) >= 0 {
		return nil, "", kms.ErrThrottled
	}
	return p.Provider.Rewrap(ctx, ref, w, ec)
}

func TestThrottledKMSBacksOff(t *testing.T) {
	k := localKit(t)
	e := newEnv(t, k)
	for range 5 {
		e.record(store.RecordingComplete, 5)
	}
	k.rotate(t)
	tp := &throttling{Provider: k.provider}
	tp.left.Store(3)
	e.kit.provider = tp
	j := start(t, e.runner(Config{Concurrency: 1}, nil), Spec{})
	if j.Status != store.JobCompleted || j.Progress.Changed != 5 || j.Progress.Throttled != 3 || j.Progress.Errors != 0 {
		t.Fatalf("%s %+v", j.Status, j.Progress)
	}
}

// TestTargetMustBeCurrent: a target version that is not the key's current
// one fails the job before anything changes.
func TestTargetMustBeCurrent(t *testing.T) {
	k := localKit(t)
	e := newEnv(t, k)
	rec := e.record(store.RecordingComplete, 5)
	k.rotate(t)
	aud := &events{}
	j := start(t, e.runner(Config{}, aud), Spec{TargetKeyVersion: "v9"})
	if j.Status != store.JobFailed || !strings.Contains(j.Error, "not \"v9\"") {
		t.Fatalf("%s %q", j.Status, j.Error)
	}
	if got, _ := e.st.GetRecording(context.Background(), rec.ID); got.KeyVersion != "v1" {
		t.Fatalf("changed to %s", got.KeyVersion)
	}
	if a := aud.actions(); !slices.Contains(a, ActionJobFailed) {
		t.Fatalf("audit %v", a)
	}
}

func TestSpecValidation(t *testing.T) {
	e := newEnv(t, localKit(t))
	r := e.runner(Config{}, nil)
	for _, tc := range []struct {
		spec  Spec
		field string
	}{
		{Spec{Mode: "shuffle"}, "mode"},
		{Spec{PolicyIDs: []string{"nope"}}, "policyIds[0]"},
		{Spec{PolicyIDs: []string{"pci", "pci"}}, "policyIds[1]"},
		{Spec{RatePerSecond: -1}, "ratePerSecond"},
	} {
		_, err := r.Start(context.Background(), tc.spec, "a")
		var se *SpecError
		if !errors.As(err, &se) || se.Field != tc.field || !errors.Is(err, ErrInvalidSpec) {
			t.Errorf("%+v: %v", tc.spec, err)
		}
	}
}
