package media_test

import (
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/mediaseal/mediaseal/ceremony/store"
	"github.com/mediaseal/mediaseal/internal/config"
	"github.com/mediaseal/mediaseal/internal/gateway"
	"github.com/mediaseal/mediaseal/internal/testenv"
	"github.com/mediaseal/mediaseal/media"
	"github.com/mediaseal/mediaseal/media/codec"
	"github.com/mediaseal/mediaseal/playback"
	"github.com/mediaseal/mediaseal/tests/gatewaytest"
)

// tmpfsSpool is a spool directory on a 1 MiB tmpfs.
func tmpfsSpool(t *testing.T) string {
	return filepath.Join(testenv.Tmpfs(t, "1m"), "spool")
}

// checkAudio exports a recording and compares it with the tone sent,
// packet for packet: nothing lost, nothing added.
func checkAudio(t *testing.T, tg *gatewaytest.Gateway, id string, freq float64, packets int) {
	t.Helper()
	b, _ := tg.ExportTrack(id, playback.FormatWAV, "caller")
	got := gatewaytest.ParseWAV(t, b).Samples[0]
	if len(got) != packets*160 {
		t.Fatalf("%s: exported %d samples, sent %d", id, len(got), packets*160)
	}
	for i := 0; i < packets; i++ {
		want := codec.DecodeULaw(nil, gatewaytest.Tone(freq, i))
		for k, w := range want {
			if got[i*160+k] != w {
				t.Fatalf("%s: packet %d sample %d is %d, sent %d", id, i, k, got[i*160+k], w)
			}
		}
	}
}

func indexStatus(t *testing.T, tg *gatewaytest.Gateway, id string) string {
	t.Helper()
	rec, err := tg.Store().GetRecording(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	return rec.Status
}

// TestSpoolDiskFullHonest fills the spool's disk during two calls, ends
// one of them while it is full and frees it 4 s later: readiness and new
// sessions say the spool cannot be written while it is full, the call
// that ended meanwhile keeps every packet (its final chunk is retried
// until space returns), the summaries count what reached disk and no
// index row stays ACTIVE.
func TestSpoolDiskFullHonest(t *testing.T) {
	dir := tmpfsSpool(t)
	tg := gatewaytest.Start(t, func(c *config.Config) { c.Spool.Dir = dir })
	if code, spool := tg.Readyz(); code != http.StatusOK || spool != "ok" {
		t.Fatalf("readyz before: %d %q", code, spool)
	}
	a, b := tg.CreateCall("sales", "caller"), tg.CreateCall("sales", "caller")
	sa, sb := gatewaytest.NewSender(t, a.Tracks[0].RTP, 1, 440), gatewaytest.NewSender(t, b.Tracks[0].RTP, 2, 1000)
	sa.SendRange(0, 50, 2*time.Millisecond)
	sb.SendRange(0, 50, 2*time.Millisecond)
	time.Sleep(500 * time.Millisecond) // flushed

	filler := testenv.FillDisk(t, filepath.Dir(dir))
	full := time.Now()
	sa.SendRange(50, 100, 2*time.Millisecond)
	sb.SendRange(50, 100, 2*time.Millisecond)
	if spool := tg.WaitReadyz(http.StatusServiceUnavailable, 1500*time.Millisecond); spool != "unwritable: no space left on device" {
		t.Errorf("readyz spool check while full: %q", spool)
	}
	if code, s := tg.TryCreate(); code != http.StatusServiceUnavailable {
		t.Errorf("session created while the spool cannot be written: %d %+v", code, s)
	}
	if n := testutil.ToFloat64(tg.SessionsRefused("spool_unwritable")); n != 1 {
		t.Errorf("sessions refused as spool_unwritable: %v, want 1", n)
	}
	if tg.Spool().WriteFailures() == 0 {
		t.Error("no spool write failure counted while the disk is full")
	}
	// Call a ends while the disk is full: its end waits for the final chunk.
	endA := make(chan media.Summary, 1)
	go func() {
		var sum media.Summary
		tg.Do("DELETE", "/v1/sessions/"+a.SessionID, nil, &sum)
		endA <- sum
	}()
	sb.SendRange(100, 150, 2*time.Millisecond)
	time.Sleep(time.Until(full.Add(4 * time.Second)))
	select {
	case sum := <-endA:
		t.Errorf("call ended as %s while nothing could be written: %+v", sum.Status, sum)
		endA <- sum
	default:
	}
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}

	sumA := <-endA
	if sumA.Status != "COMPLETE" || sumA.Records != 100 || sumA.Dropped[media.DropWrite] != 0 || sumA.Chunks < 2 {
		t.Errorf("call a: %+v", sumA)
	}
	tg.WaitReadyz(http.StatusOK, 3*time.Second)
	if code, s := tg.TryCreate(); code != http.StatusCreated {
		t.Fatalf("session refused after the disk was freed: %d", code)
	} else {
		tg.End(s)
	}
	sumB := tg.End(b)
	if sumB.Status != "COMPLETE" || sumB.Records != 150 || sumB.Dropped[media.DropWrite] != 0 {
		t.Errorf("call b: %+v", sumB)
	}
	for _, c := range []struct {
		s       gatewaytest.Session
		sum     media.Summary
		freq    float64
		packets int
	}{{a, sumA, 440, 100}, {b, sumB, 1000, 150}} {
		checkAudio(t, tg, c.s.RecordingID, c.freq, c.packets)
		rec, err := tg.Store().GetRecording(t.Context(), c.s.RecordingID)
		if err != nil {
			t.Fatal(err)
		}
		if rec.Status != store.RecordingComplete || rec.Chunks != c.sum.Chunks || rec.Bytes != c.sum.SealedBytes {
			t.Fatalf("index row of %s: status %s, %d chunks %d bytes; summary %d chunks %d bytes", c.s.RecordingID,
				rec.Status, rec.Chunks, rec.Bytes, c.sum.Chunks, c.sum.SealedBytes)
		}
	}
}

// TestSpoolDiskFullPastRetry ends a call whose final chunk cannot be
// written within the retry bound: its summary says WRITE_FAILED and counts
// only what reached disk (the rest as dropped.write), and once the disk is
// freed the recording is recovered in place, without a restart, and
// stored as RECOVERED with the chunks that were durable: its index row
// does not stay ACTIVE.
func TestSpoolDiskFullPastRetry(t *testing.T) {
	dir := tmpfsSpool(t)
	tg := gatewaytest.Start(t, func(c *config.Config) { c.Spool.Dir = dir }, gateway.WithFinalWriteRetry(time.Second))
	s := tg.CreateCall("sales", "caller")
	snd := gatewaytest.NewSender(t, s.Tracks[0].RTP, 3, 440)
	snd.SendRange(0, 50, 2*time.Millisecond)
	time.Sleep(500 * time.Millisecond) // flushed
	filler := testenv.FillDisk(t, filepath.Dir(dir))
	snd.SendRange(50, 100, 2*time.Millisecond)
	time.Sleep(50 * time.Millisecond)

	sum := tg.End(s) // returns after the 1 s retry bound
	// Packets 0-49 were durable before the disk filled; a flush racing
	// the filler (a failed write frees its pages when rolled back) may
	// have written a few more. Whatever the split, the summary adds up.
	if sum.Status != media.StatusWriteFailed || sum.Records < 50 || sum.Records >= 100 ||
		sum.Records+sum.Dropped[media.DropWrite] != 100 || sum.Chunks < 1 {
		t.Fatalf("summary: %+v", sum)
	}
	if got := indexStatus(t, tg, s.RecordingID); got != store.RecordingActive {
		t.Fatalf("index row %s before the disk is freed", got)
	}
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	tg.WaitStored(s.RecordingID)
	if got := indexStatus(t, tg, s.RecordingID); got != store.RecordingRecovered {
		t.Fatalf("index row %s after recovery in place, want %s", got, store.RecordingRecovered)
	}
	checkAudio(t, tg, s.RecordingID, 440, int(sum.Records)) // exactly what the summary counted
}
