package media

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/mediaseal/mediaseal/internal/testenv"
	"github.com/mediaseal/mediaseal/policy"
	"github.com/mediaseal/mediaseal/storage/spool"
)

// TestUnwrittenMediaBoundedAndCounted fills the spool's disk (a real
// tmpfs) under a call: the sealed media that cannot be written waits in
// memory only up to MaxPendingBytes (and the chunk being built), packets beyond are dropped as
// "write", new sessions are refused, and the summary of the call, ended
// while the disk is still full, counts exactly what is on disk: every
// packet is either a durable record or a write drop.
func TestUnwrittenMediaBoundedAndCounted(t *testing.T) {
	mnt := testenv.Tmpfs(t, "1m")
	sp, err := spool.Open(filepath.Join(mnt, "spool"), 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	tm := newTestManager(t, recordPolicy(false), func(c *Config, d *Deps) {
		d.Recordings = lifecycle(t, sp)
		c.MaxPendingBytes = 8 << 10
		c.FlushInterval = 50 * time.Millisecond
		c.FinalWriteRetry = 300 * time.Millisecond
	})
	ctx := context.Background()
	req := Request{CallID: "c1", Direction: policy.DirectionInbound, External: true, Tracks: []TrackSpec{{Label: "caller", Kind: "audio"}}}
	s, err := tm.Create(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Now()
	push := func(from, to uint16) {
		for seq := from; seq < to; seq++ {
			s.Push(0, at.Add(time.Duration(seq)*20*time.Millisecond), pkt(t, 0, seq+1, uint32(seq)*160, make([]byte, 160)))
		}
	}
	push(0, 20)
	time.Sleep(300 * time.Millisecond) // durable
	filler := testenv.FillDisk(t, mnt)
	defer os.Remove(filler)
	push(20, 40)
	// The flush of those fails; the spool knows, the sealed bytes wait.
	unwritten := func() bool {
		s.rec.mu.Lock()
		defer s.rec.mu.Unlock()
		return s.rec.unsent != nil
	}
	for deadline := time.Now().Add(2 * time.Second); sp.WriteErr() == nil || !unwritten(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no failed flush seen (spool: %v)", sp.WriteErr())
		}
	}
	for from := uint16(40); from < 240; from += 20 { // 32 kB more, four times the bound, over failing flushes
		push(from, from+20)
		time.Sleep(60 * time.Millisecond)
	}
	if _, err := tm.Create(ctx, req); !IsCapacity(err) {
		t.Fatalf("session created while the spool cannot be written: %v", err)
	}
	sum, err := tm.End(ctx, s.ID, "test")
	if err != nil {
		t.Fatal(err)
	}
	if sum.Status != StatusWriteFailed || sum.Records < 20 || sum.Records+sum.Dropped[DropWrite] != 240 {
		t.Fatalf("summary: %+v", sum)
	}
	if sum.Counters.Write == 0 {
		t.Fatalf("no packet refused past the %d-byte bound: %+v", 8<<10, sum.Counters)
	}
	e, ok := sp.Find(s.RecordingID)
	if !ok || e.State != spool.StateOpen || e.Size != sum.SealedBytes {
		t.Fatalf("spool entry %+v (found %v); summary says %d bytes on disk", e, ok, sum.SealedBytes)
	}
}
