package jobs

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/mediaseal/mediaseal/ceremony/store"
	"github.com/mediaseal/mediaseal/kms"
	"github.com/mediaseal/mediaseal/kms/recordingkey"
)

// TestShredKeyProviders destroys the key in each real provider: nothing
// unwraps any more (index or header envelope, every version), the
// recordings are SHREDDED, jobs skip them, and a retry is harmless.
func TestShredKeyProviders(t *testing.T) {
	for _, mk := range []func(testing.TB) kit{localKit, localKMSKit, softHSMKit} {
		k := mk(t)
		t.Run(k.name, func(t *testing.T) {
			ctx := context.Background()
			e := newEnv(t, k)
			a := e.record(store.RecordingComplete, 5)
			k.rotate(t)
			b := e.record(store.RecordingComplete, 5)
			aud := &events{}
			r := e.runner(Config{}, aud)
			n, err := r.ShredKey(ctx, k.ref, "ceremony")
			if err != nil || n != 2 {
				t.Fatalf("shred: %d %v", n, err)
			}
			for _, rec := range []store.Recording{a, b} {
				got, _ := e.st.GetRecording(ctx, rec.ID)
				if got.Status != store.RecordingShredded {
					t.Fatalf("%s is %s", rec.ID, got.Status)
				}
				if dek, err := k.provider.Unwrap(ctx, k.ref, rec.WrappedDEK, recordingkey.ForRecording(testOrg, rec.ID, "pci")); err == nil {
					clear(dek)
					t.Fatalf("%s still unwraps after shredding", rec.ID)
				}
			}
			if n, err := r.ShredKey(ctx, k.ref, "ceremony"); err != nil || n != 0 {
				t.Fatalf("retry: %d %v", n, err)
			}
			j := start(t, r, Spec{})
			if j.Progress.Skipped[SkipShredded] != 2 || j.Progress.Changed != 0 {
				t.Fatalf("job over shredded recordings: %+v", j.Progress)
			}
			if !slices.Contains(aud.actions(), ActionKeyShredded) {
				t.Fatalf("audit %v", aud.actions())
			}
		})
	}
}

func TestShredRefusesPlatformKey(t *testing.T) {
	k := localKit(t)
	e := newEnv(t, k)
	r, err := New(Deps{Store: e.st, Objects: e.objects, PlatformKey: k.ref,
		Provider: func(string) (kms.Provider, bool) { return k.provider, true }}, Config{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.ShredKey(context.Background(), k.ref, "x"); !errors.Is(err, ErrShredRefused) {
		t.Fatalf("platform key shred: %v", err)
	}
}

// A key protecting a recording under legal hold is not destroyed: the
// shred refuses before the provider is asked, the recording still
// unwraps, and once the hold is released the same shred goes through.
func TestShredWaitsForLegalHold(t *testing.T) {
	k := localKMSKit(t)
	ctx := context.Background()
	e := newEnv(t, k)
	held := e.record(store.RecordingComplete, 5)
	aud := &events{}
	r := e.runner(Config{}, aud)
	h, err := e.st.CreateLegalHold(ctx, store.LegalHold{CallID: held.CallID, Reason: "litigation", CreatedBy: "legal-1"})
	if err != nil {
		t.Fatal(err)
	}
	if n, err := r.ShredKey(ctx, k.ref, "ceremony"); !errors.Is(err, ErrLegalHold) || n != 0 {
		t.Fatalf("shred under a hold: %d %v, want ErrLegalHold", n, err)
	}
	got, _ := e.st.GetRecording(ctx, held.ID)
	if got.Status == store.RecordingShredded {
		t.Fatal("a held recording was marked SHREDDED")
	}
	dek, err := k.provider.Unwrap(ctx, k.ref, held.WrappedDEK, recordingkey.ForRecording(testOrg, held.ID, "pci"))
	if err != nil {
		t.Fatalf("the key of a held recording was destroyed: %v", err)
	}
	clear(dek)
	if _, err := e.st.ReleaseLegalHold(ctx, h.ID, "approval-1"); err != nil {
		t.Fatal(err)
	}
	if n, err := r.ShredKey(ctx, k.ref, "ceremony"); err != nil || n != 1 {
		t.Fatalf("shred after the release: %d %v", n, err)
	}
}
