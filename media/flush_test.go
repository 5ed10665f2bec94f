package media

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mediaseal/mediaseal/policy"
	"github.com/mediaseal/mediaseal/storage/spool"
)

// flushTimes records every flush's start and end.
type flushTimes struct {
	nopObserver
	mu    sync.Mutex
	spans []FlushTiming
}

func (o *flushTimes) Flushed(_ *Session, t FlushTiming) {
	o.mu.Lock()
	o.spans = append(o.spans, t)
	o.mu.Unlock()
}

// inFlight is the largest number of scheduled flushes (not the one right
// after a DEK arrives, which runs on the key's goroutine) running at once.
func (o *flushTimes) inFlight() (most, flushes int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	type edge struct {
		at    time.Time
		delta int
	}
	var edges []edge
	for _, t := range o.spans {
		if t.Due.IsZero() {
			continue
		}
		flushes++
		edges = append(edges, edge{t.Start, 1}, edge{t.Done, -1})
	}
	slices.SortFunc(edges, func(a, b edge) int {
		if c := a.at.Compare(b.at); c != 0 {
			return c
		}
		return a.delta - b.delta // an end before a start at the same instant
	})
	n := 0
	for _, e := range edges {
		n += e.delta
		most = max(most, n)
	}
	return most, flushes
}

// With a group commit a flush mostly waits for the shared syncfs;
// flushes waiting for it must not hold back the others (a pool as small as
// the fsync bound lets too few run at once, and the flush queue of a large
// gateway grows without end). Many recordings falling due together all
// join the commits in flight. A commit is held open on purpose, so what
// runs meanwhile does not depend on how fast the machine's syncfs is.
func TestFlushesWaitingForAGroupCommitDoNotHoldBackOthers(t *testing.T) {
	const sessions = 400
	var (
		holding atomic.Bool
		release = make(chan struct{})
	)
	sp, err := spool.Open(t.TempDir(), 1<<30, spool.CommitWrapper(func(commit func() error) error {
		if holding.Load() {
			<-release
		}
		return commit()
	}))
	if err != nil {
		t.Fatal(err)
	}
	if !sp.GroupCommit() {
		t.Skip("no syncfs on this system: each flush syncs its own file") // Linux always has it
	}
	obs := &flushTimes{}
	tm := newTestManager(t, recordPolicy(false), func(c *Config, d *Deps) {
		c.MaxSessions = sessions
		c.FlushInterval = 300 * time.Millisecond
		c.GroupCommit = true
		d.Observer = obs
		d.Recordings = lifecycle(t, sp)
	})
	ctx := context.Background()
	var all []*Session
	for i := range sessions {
		s, err := tm.Create(ctx, Request{CallID: fmt.Sprintf("c%d", i), Direction: policy.DirectionInbound, External: true,
			Tracks: []TrackSpec{{Label: "caller", Kind: "audio"}}})
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, s)
	}
	at := time.Now()
	for _, s := range all {
		for seq := range uint16(10) {
			s.Push(0, at.Add(time.Duration(seq)*20*time.Millisecond), pkt(t, 0, seq+1, uint32(seq)*160, make([]byte, 160)))
		}
	}
	// Hold the next commit: every flush that falls due meanwhile waits on
	// it, and more workers than the fsync bound must be running them.
	holding.Store(true)
	deadline := time.Now().Add(10 * time.Second)
	// A clear margin above the bound: the spans counted below must show
	// more than flushWorkers at once even if a few live workers run
	// flushes that are not scheduled ones.
	for tm.flushLive.Load() <= flushWorkers+16 {
		if time.Now().After(deadline) {
			t.Fatalf("%d flush workers while a group commit is held, want more than %d: flushes waiting for it hold back the others",
				tm.flushLive.Load(), flushWorkers+16)
		}
		time.Sleep(5 * time.Millisecond)
	}
	holding.Store(false)
	close(release)
	// Every session falls due at least twice more.
	time.Sleep(700 * time.Millisecond)
	for _, s := range all {
		if _, err := tm.End(ctx, s.ID, "test"); err != nil {
			t.Fatal(err)
		}
	}
	most, flushes := obs.inFlight()
	t.Logf("%d scheduled flushes, at most %d at once, %d spool commits", flushes, most, sp.Commits())
	if flushes < sessions {
		t.Fatalf("%d scheduled flushes of %d sessions due at least twice", flushes, sessions)
	}
	// How many of the spans overlap depends on when each worker took its
	// flush relative to the held commit, so it is logged, not asserted:
	// the workers counted while the commit was held are the proof.
	// Workers do not outlive the flushes: with nothing due none is left
	// holding a stack.
	deadline = time.Now().Add(2 * time.Second)
	for tm.flushLive.Load() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d flush workers still live with nothing to flush", tm.flushLive.Load())
		}
		time.Sleep(10 * time.Millisecond)
	}
}
