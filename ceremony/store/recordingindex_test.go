package store_test

import (
	"context"
	"errors"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/mediaseal/mediaseal/ceremony/store"
	"github.com/mediaseal/mediaseal/recording"
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
func (x *switchedIndex) SetKey(ctx context.Context, id string, env seal.Envelope) error {
	return x.ix().SetKey(ctx, id, env)
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
	r.KeyReady(seal.Envelope{Key: seal.KeyRef{Provider: "local", KeyID: "k", KeyVersion: "1"}, WrappedDEK: []byte("wrapped")})
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
	if rec.Status != store.RecordingActive || rec.ObjectKey != r.ObjectKey() || rec.KeyID != "k" || rec.GatewayID != "gw" || rec.CallID != "c" {
		t.Fatalf("row %+v", rec)
	}
	if err := svc.Admit(); err != nil {
		t.Fatalf("still refused once the index caught up: %v", err)
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
