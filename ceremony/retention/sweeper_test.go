package retention

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mediaseal/mediaseal/ceremony/audit"
	"github.com/mediaseal/mediaseal/ceremony/store"
	"github.com/mediaseal/mediaseal/storage"
	"github.com/mediaseal/mediaseal/storage/fs"
)

// failingObjects injects what the real stores cannot be made to do on
// cue: a Delete that fails while armed.
type failingObjects struct {
	storage.Store
	armed atomic.Bool
}

func (f *failingObjects) Delete(ctx context.Context, key string) error {
	if f.armed.Load() {
		return storage.ErrUnavailable
	}
	return f.Store.Delete(ctx, key)
}

type audits struct{ n atomic.Int64 }

func (a *audits) Record(context.Context, audit.Event) (store.AuditEntry, error) {
	a.n.Add(1)
	return store.AuditEntry{}, nil
}

// A deletion that fails midway (the object store down after the claim)
// loses nothing: the row keeps its key envelope and stays claimed, the
// failure is counted, and the next pass deletes the object and writes
// the tombstone once.
func TestFailedDeletionIsFinishedNextPass(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, store.Config{SQLitePath: filepath.Join(t.TempDir(), "index.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	base, err := fs.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	objs := &failingObjects{Store: base}
	started := time.Now().Add(-48 * time.Hour)
	rec := store.Recording{ID: "rec-1", SessionID: "s", OrgID: "org", CallID: "call-1", QueueID: "q", PolicyID: "p",
		PolicyVersion: 1, KeyProvider: "local", KeyID: "k", WrappedDEK: []byte{1, 2, 3}, StartedAt: started,
		RetainUntil: started.Add(24 * time.Hour)}
	rec.ObjectKey = storage.RecordingKey(rec.OrgID, started, rec.ID)
	if err := st.CreateRecording(ctx, rec); err != nil {
		t.Fatal(err)
	}
	if _, err := objs.Put(ctx, rec.ObjectKey, bytes.NewReader([]byte("sealed")), storage.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := st.FinishRecording(ctx, rec.ID, store.RecordingComplete, 1, 6, "ab", rec.ObjectKey); err != nil {
		t.Fatal(err)
	}
	aud := &audits{}
	sw := New(Config{Store: st, Objects: objs, Audit: aud, Gateway: "gw-1"})

	objs.armed.Store(true)
	res, err := sw.Sweep(ctx)
	if err != nil || len(res.Failed) != 1 || len(res.Deleted) != 0 {
		t.Fatalf("pass with the store down: %+v, %v", res, err)
	}
	got, _ := st.GetRecording(ctx, rec.ID)
	if got.Status == store.RecordingDeleted || !bytes.Equal(got.WrappedDEK, rec.WrappedDEK) {
		t.Fatalf("after a failed deletion: status %s, dek %x", got.Status, got.WrappedDEK)
	}
	if _, err := objs.Head(ctx, rec.ObjectKey); err != nil {
		t.Fatalf("object gone after a failed deletion: %v", err)
	}
	due, err := sw.Due(ctx, 0)
	if err != nil || len(due) != 1 {
		t.Fatalf("dry run after a failed deletion: %d, %v", len(due), err)
	}

	objs.armed.Store(false)
	if res, err := sw.Sweep(ctx); err != nil || len(res.Deleted) != 1 {
		t.Fatalf("next pass: %+v, %v", res, err)
	}
	if _, err := objs.Head(ctx, rec.ObjectKey); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("object after deletion: %v", err)
	}
	got, _ = st.GetRecording(ctx, rec.ID)
	if got.Status != store.RecordingDeleted || len(got.WrappedDEK) != 0 || got.DeletionProof == "" {
		t.Fatalf("tombstone: %+v", got)
	}
	if res, err := sw.Sweep(ctx); err != nil || len(res.Deleted)+len(res.Failed) != 0 {
		t.Fatalf("a pass over a tombstone: %+v, %v", res, err)
	}
	if aud.n.Load() != 2 { // the failure, then the deletion
		t.Fatalf("%d audit events, want 2", aud.n.Load())
	}
}
