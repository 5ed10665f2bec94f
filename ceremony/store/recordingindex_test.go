package store_test

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/mediaseal/mediaseal/ceremony/store"
	"github.com/mediaseal/mediaseal/recording"
	"github.com/mediaseal/mediaseal/storage/fs"
	"github.com/mediaseal/mediaseal/storage/seal"
	"github.com/mediaseal/mediaseal/storage/spool"
)

// switchedIndex is the real index on whichever handle is current: a
// closed one (the store down) or an open one on the same database.
type switchedIndex struct{ cur atomic.Pointer[store.SQL] }

func (x *switchedIndex) ix() store.RecordingIndex { return store.RecordingIndex{SQL: x.cur.Load()} }
func (x *switchedIndex) Create(ctx context.Context, r recording.Row) error {
	return x.ix().Create(ctx, r)
}
func (x *switchedIndex) SetKey(ctx context.Context, id string, env seal.Envelope, kmsContext []byte) error {
	return x.ix().SetKey(ctx, id, env, kmsContext)
}
func (x *switchedIndex) Progress(ctx context.Context, p recording.Progress) error {
	return x.ix().Progress(ctx, p)
}
func (x *switchedIndex) ProgressBatch(ctx context.Context, ps []recording.Progress) error {
	return x.ix().ProgressBatch(ctx, ps)
}
func (x *switchedIndex) Finish(ctx context.Context, id, status string, chunks, bytes int64, sha, key string) error {
	return x.ix().Finish(ctx, id, status, chunks, bytes, sha, key)
}
func (x *switchedIndex) Get(ctx context.Context, id string) (recording.Row, error) {
	return x.ix().Get(ctx, id)
}

// With the store down (its handle closed), starting a recording does not
// wait for it; every failed write is counted and retried in order, a
// queue too far behind refuses new recordings, and once the store is back
// the rows land — created before their key is set — and new recordings
// are admitted again.
func TestRecordingIndexLandsAfterStoreOutage(t *testing.T) {
	cfg := store.Config{SQLitePath: filepath.Join(t.TempDir(), "control.db")}
	up := openStore(t, cfg)
	down, err := store.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	down.Close()
	ix := &switchedIndex{}
	ix.cur.Store(down)
	sp, err := spool.Open(t.TempDir(), 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	svc, err := recording.New(recording.Deps{OrgID: "org", GatewayID: "gw", Spool: sp, Index: ix, Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx) }()
	defer func() { cancel(); <-done }()

	started := time.Now().UTC().Truncate(time.Millisecond)
	r, err := svc.Begin(recording.Start{SessionID: "s", CallID: "c", QueueID: "q", Direction: "INBOUND", PolicyID: "p", StartedAt: started})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	if err := r.Started(); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(t0); took > 50*time.Millisecond {
		t.Fatalf("Started waited %v for a store that is down", took)
	}
	r.KeyReady(seal.Envelope{Key: seal.KeyRef{Provider: "local", KeyID: "k", KeyVersion: "1"}, WrappedDEK: []byte("wrapped")}, []byte("kms-context"))
	r.Durable(4096) // one flush's progress, batched
	failures := func() float64 {
		mfs, _ := reg.Gather()
		for _, mf := range mfs {
			if mf.GetName() == "mediaseal_index_write_failures_total" {
				return mf.GetMetric()[0].GetCounter().GetValue()
			}
		}
		return -1
	}
	for deadline := time.Now().Add(5 * time.Second); failures() < 2; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("failed index writes not counted: %v", failures())
		}
	}
	if _, err := up.GetRecording(ctx, r.ID()); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("row while the store is down: %v", err)
	}
	// Bounded: past three quarters of the queue, new recordings are refused.
	var admitErr error
	for i := 0; i < 4096 && admitErr == nil; i++ {
		if admitErr = svc.Admit(); admitErr == nil {
			more, _ := svc.Begin(recording.Start{CallID: "more", StartedAt: started})
			if err := more.Started(); err != nil {
				admitErr = err
			}
		}
	}
	if !errors.Is(admitErr, recording.ErrIndexBehind) {
		t.Fatalf("admitted past the index queue's bound: %v", admitErr)
	}
	if msg, ok := svc.IndexCheck(); ok || !strings.HasPrefix(msg, "behind (") { // what /readyz says
		t.Fatalf("readiness of an index writer that refuses recordings: %q, %v", msg, ok)
	}

	ix.cur.Store(up) // the store is back
	dctx, dcancel := context.WithTimeout(ctx, 60*time.Second)
	defer dcancel()
	if err := svc.Drain(dctx); err != nil {
		t.Fatalf("index writes not drained: %v", err)
	}
	rec, err := up.GetRecording(ctx, r.ID())
	if err != nil {
		t.Fatalf("row did not land: %v", err)
	}
	if rec.Status != store.RecordingActive || rec.ObjectKey != r.ObjectKey() || rec.KeyID != "k" || string(rec.KMSContext) != "kms-context" || rec.GatewayID != "gw" || rec.CallID != "c" {
		t.Fatalf("row %+v", rec)
	}
	if err := svc.Admit(); err != nil {
		t.Fatalf("still refused once the index caught up: %v", err)
	}
	if msg, ok := svc.IndexCheck(); !ok || msg != "ok" {
		t.Fatalf("readiness once the index caught up: %q", msg)
	}
	// The progress noted while the store was down is kept and written
	// after the rows it counts.
	for deadline := time.Now().Add(10 * time.Second); rec.Bytes != 4096; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("progress not written after the outage: %+v", rec)
		}
		if rec, err = up.GetRecording(ctx, r.ID()); err != nil {
			t.Fatal(err)
		}
	}
}

// A recording's object key is the one its row was created with, also
// after a restart: the next process takes it from the index, not from the
// file's name or header (here the header's start time says otherwise), and
// finishes the row with the chunks counted when the call ended.
func TestRestartStoresUnderIndexedKey(t *testing.T) {
	ctx := context.Background()
	st := openStore(t, store.Config{SQLitePath: filepath.Join(t.TempDir(), "control.db")})
	ix := store.RecordingIndex{SQL: st}
	dir := t.TempDir()
	sp, err := spool.Open(dir, 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	first, err := recording.New(recording.Deps{OrgID: "org", Spool: sp, Index: ix})
	if err != nil {
		t.Fatal(err)
	}
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- first.Run(rctx) }()
	started := time.Date(2026, 12, 4, 8, 0, 0, 0, time.UTC)
	r, _ := first.Begin(recording.Start{CallID: "c", StartedAt: started})
	if err := r.Started(); err != nil {
		t.Fatal(err)
	}
	f, err := r.Open()
	if err != nil {
		t.Fatal(err)
	}
	dek := make([]byte, 32)
	var buf bytes.Buffer
	w, err := seal.NewWriter(&buf, dek, seal.Header{RecordingID: r.SealID(),
		Context:  seal.Context{OrgID: "org", CallID: "c", StartedAt: started.Add(time.Hour).UnixNano(), Tracks: []seal.Track{{Label: "a", Kind: "audio", Codec: "PCMU", ClockRate: 8000}}},
		Envelope: seal.Envelope{Key: seal.KeyRef{Provider: "local", KeyID: "k"}, WrappedDEK: []byte("w")}})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.WriteRecord(seal.Record{Type: seal.RecordPacket, Data: make([]byte, 160)}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Append(buf.Bytes()); err != nil {
		t.Fatal(err)
	}
	if err := f.Seal(); err != nil {
		t.Fatal(err)
	}
	r.Ended(1, int64(buf.Len())) // no object store in this process: it stays spooled
	if err := first.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	cancel()
	<-done

	objects, err := fs.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	sp2, err := spool.Open(dir, 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	next, err := recording.New(recording.Deps{OrgID: "org", Spool: sp2, Index: ix, Objects: objects, UploadRetryMax: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	rctx, cancel = context.WithCancel(ctx)
	go func() { done <- next.Run(rctx) }()
	defer func() { cancel(); <-done }()
	if err := next.Resume(ctx); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		rec, err := st.GetRecording(ctx, r.ID())
		if err != nil {
			t.Fatal(err)
		}
		if rec.Status == store.RecordingComplete {
			if rec.ObjectKey != r.ObjectKey() || rec.Chunks != 1 || rec.Bytes != int64(buf.Len()) {
				t.Fatalf("row %+v, want key %s", rec, r.ObjectKey())
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not finished after restart: %+v", rec)
		}
	}
	if _, err := objects.Head(ctx, r.ObjectKey()); err != nil {
		t.Fatalf("not stored under its indexed key %s: %v", r.ObjectKey(), err)
	}
}
