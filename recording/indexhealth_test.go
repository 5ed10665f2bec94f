package recording

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/mediaseal/mediaseal/storage/seal"
	"github.com/mediaseal/mediaseal/storage/spool"
)

// hungIndex is a store that hangs (answers nothing) until released, then
// takes every write: the fault a real store shows only with a broken
// network, which ceremony/store's outage test covers with a closed handle.
type hungIndex struct {
	released chan struct{}
	once     *sync.Once
}

func (x hungIndex) release() { x.once.Do(func() { close(x.released) }) }

func (x hungIndex) wait(ctx context.Context) error {
	select {
	case <-x.released:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
func (x hungIndex) Create(ctx context.Context, _ Row) error { return x.wait(ctx) }
func (x hungIndex) SetKey(ctx context.Context, _ string, _ seal.Envelope, _ []byte) error {
	return x.wait(ctx)
}
func (x hungIndex) Progress(ctx context.Context, _ Progress) error        { return x.wait(ctx) }
func (x hungIndex) ProgressBatch(ctx context.Context, _ []Progress) error { return x.wait(ctx) }
func (x hungIndex) Finish(ctx context.Context, _, _ string, _, _ int64, _, _ string) error {
	return x.wait(ctx)
}
func (x hungIndex) Get(ctx context.Context, _ string) (Row, error) { return Row{}, x.wait(ctx) }

// TestIndexCheckReportsBehind: while the store hangs, the index writer's
// readiness check says "ok" until the queue is too full to take a new
// recording, then names how many writes wait — exactly when Admit refuses
// with ErrIndexBehind — and says "ok" again once the store answers and the
// queue drains.
func TestIndexCheckReportsBehind(t *testing.T) {
	sp, err := spool.Open(t.TempDir(), 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	ix := hungIndex{released: make(chan struct{}), once: &sync.Once{}}
	svc := runService(t, Deps{OrgID: "org", GatewayID: "gw", Spool: sp, Index: ix})
	defer ix.release() // before the test's end stops Run, which waits for the writer

	if msg, ok := svc.IndexCheck(); !ok || msg != "ok" {
		t.Fatalf("IndexCheck of an idle writer = %q, %v", msg, ok)
	}
	started := time.Now()
	var admitErr error
	for i := 0; i < indexQueue && admitErr == nil; i++ {
		msg, ok := svc.IndexCheck()
		if admitErr = svc.Admit(); ok != (admitErr == nil) {
			t.Fatalf("with %d recordings started IndexCheck says %q, Admit %v", i, msg, admitErr)
		}
		if admitErr == nil {
			r, err := svc.Begin(Start{CallID: fmt.Sprint("c", i), StartedAt: started})
			if err != nil {
				t.Fatal(err)
			}
			admitErr = r.Started()
		}
	}
	if !errors.Is(admitErr, ErrIndexBehind) {
		t.Fatalf("Admit past the queue's bound: %v", admitErr)
	}
	msg, ok := svc.IndexCheck()
	if want := fmt.Sprintf("behind (%d queued)", len(svc.ix.q)); ok || msg != want {
		t.Fatalf("IndexCheck while behind = %q, %v; want %q, false", msg, ok, want)
	}

	ix.release() // the store answers again
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if msg, ok = svc.IndexCheck(); ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("IndexCheck once the store answers: %q", msg)
		}
	}
	if msg != "ok" || svc.Admit() != nil {
		t.Fatalf("after the drain: IndexCheck %q, Admit %v", msg, svc.Admit())
	}
}
