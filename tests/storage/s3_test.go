package storage_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/mediaseal/mediaseal/ceremony/store"
	"github.com/mediaseal/mediaseal/internal/config"
	"github.com/mediaseal/mediaseal/internal/testenv"
	"github.com/mediaseal/mediaseal/playback"
	"github.com/mediaseal/mediaseal/storage"
	"github.com/mediaseal/mediaseal/tests/gatewaytest"
)

// s3YAML is the storage section for a gateway process using vg.
func s3YAML(vg *testenv.VersityGW) string {
	return fmt.Sprintf(`storage:
  type: s3
  s3: {bucket: %s, region: %s, endpoint: "%s", pathStyle: true, accessKeyId: %s, secretAccessKey: %s}
spool: {retryMax: 2s}
`, vg.Bucket, vg.Region, vg.Endpoint, vg.AccessKey, vg.SecretKey)
}

// assertNoPlaintextInBucket scans every object in the bucket for any
// 16-byte window of the sent payloads.
func assertNoPlaintextInBucket(t *testing.T, vg *testenv.VersityGW, min int, payloads ...[]byte) {
	t.Helper()
	objs := gatewaytest.BucketObjects(t, vg)
	if len(objs) < min {
		t.Fatalf("bucket holds %d objects, want at least %d", len(objs), min)
	}
	for key, data := range objs {
		for _, pl := range payloads {
			for off := 0; off+16 <= len(pl); off += 160 {
				if bytes.Contains(data, pl[off:off+16]) {
					t.Errorf("object %s contains plaintext media (payload offset %d)", key, off)
					break
				}
			}
		}
	}
}

// toneStream is what newSender(…, freq) sends as packets 0..n-1.
func toneStream(freq float64, n int) []byte {
	var b []byte
	for i := 0; i < n; i++ {
		b = append(b, gatewaytest.Tone(freq, i)...)
	}
	return b
}

// metricValue scrapes /metrics and returns the sample of name with the
// given label set (e.g. `reason="spool_full"`), 0 when absent.
func metricValue(t *testing.T, url, name, labels string) float64 {
	t.Helper()
	resp, err := gatewaytest.AuthGet(url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %s", resp.Status)
	}
	want := name
	if labels != "" {
		want += "{" + labels + "}"
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), want+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("metric %s: %v", want, err)
			}
			return f
		}
	}
	return 0
}

// TestS3ExportMatchesFS records the same packets on a gateway storing in
// versitygw and on one storing on the filesystem: each track exports to
// the same bytes, and the S3 object sits under org/date/id.
func TestS3ExportMatchesFS(t *testing.T) {
	vg := testenv.StartVersityGW(t)
	fsGW := gatewaytest.Start(t, nil)
	s3GW := gatewaytest.Start(t, gatewaytest.WithS3(vg))
	a, b := fsGW.CreateCall("q"), s3GW.CreateCall("q")
	senders := []*gatewaytest.Sender{
		gatewaytest.NewSender(t, a.Tracks[0].RTP, 0x1111, 440), gatewaytest.NewSender(t, a.Tracks[1].RTP, 0x2222, 1000),
		gatewaytest.NewSender(t, b.Tracks[0].RTP, 0x1111, 440), gatewaytest.NewSender(t, b.Tracks[1].RTP, 0x2222, 1000),
	}
	next := time.Now()
	for i := 0; i < 100; i++ { // 2 s, paced as a real call
		for _, s := range senders {
			s.Send(s.Packet(i))
		}
		next = next.Add(20 * time.Millisecond)
		time.Sleep(time.Until(next))
	}
	time.Sleep(150 * time.Millisecond)
	for _, c := range []struct {
		tg *gatewaytest.Gateway
		s  gatewaytest.Session
	}{{fsGW, a}, {s3GW, b}} {
		if sum := c.tg.End(c.s); sum.Status != "COMPLETE" || sum.Packets != 200 {
			t.Fatalf("summary %+v", sum)
		}
		c.tg.WaitStored(c.s.RecordingID)
	}
	rec := gatewaytest.WaitIndexStatus(t, s3GW.Gateway, b.RecordingID, store.RecordingComplete)
	if want := storage.RecordingKey("default", rec.StartedAt, b.RecordingID); rec.ObjectKey != want {
		t.Fatalf("object key %q, want %q", rec.ObjectKey, want)
	}
	objs := gatewaytest.BucketObjects(t, vg)
	if obj, ok := objs[rec.ObjectKey]; !ok || int64(len(obj)) != rec.Bytes {
		t.Fatalf("bucket has %d objects; %s: present %v, %d bytes (index says %d)", len(objs), rec.ObjectKey, ok, len(obj), rec.Bytes)
	}
	for _, track := range []string{"caller", "agent"} {
		fromFS, r1 := fsGW.ExportTrack(a.RecordingID, playback.FormatWAV, track)
		fromS3, r2 := s3GW.ExportTrack(b.RecordingID, playback.FormatWAV, track)
		if r1.Status.String() != "COMPLETE" || r2.Status.String() != "COMPLETE" {
			t.Fatalf("%s: status fs %s, s3 %s", track, r1.Status, r2.Status)
		}
		if len(fromFS) < 100*160*2 || !bytes.Equal(fromFS, fromS3) {
			t.Fatalf("%s: S3 export (%d bytes) differs from fs export (%d bytes)", track, len(fromS3), len(fromFS))
		}
	}
}

// TestS3OutageMidCall stops versitygw for 30 s in the middle of a call:
// the call completes into the spool, nothing reaches the bucket while it
// is down, and once it is back the recording uploads, is COMPLETE in the
// index and exports every packet. Neither the spool nor the bucket ever
// holds plaintext.
func TestS3OutageMidCall(t *testing.T) {
	if testing.Short() {
		t.Skip("30 s storage outage")
	}
	vg := testenv.StartVersityGW(t)
	tg := gatewaytest.Start(t, func(c *config.Config) {
		gatewaytest.WithS3(vg)(c)
		c.Spool.RetryMax = config.Duration(2 * time.Second)
	})
	s := tg.CreateCall("q")
	caller := gatewaytest.NewSender(t, s.Tracks[0].RTP, 0xA1, 440)
	agent := gatewaytest.NewSender(t, s.Tracks[1].RTP, 0xA2, 1000)
	const n = 250 // 5 s of call, 1 s before the outage
	next := time.Now()
	var down time.Time
	for i := 0; i < n; i++ {
		if i == 50 {
			vg.Stop()
			down = time.Now()
		}
		caller.Send(caller.Packet(i))
		agent.Send(agent.Packet(i))
		next = next.Add(20 * time.Millisecond)
		time.Sleep(time.Until(next))
	}
	time.Sleep(150 * time.Millisecond)
	if sum := tg.End(s); sum.Status != "COMPLETE" || sum.Packets != 2*n {
		t.Fatalf("call during the outage: %+v", sum)
	}
	// A call starting during the outage is still accepted.
	s2 := tg.CreateCall("q", "caller")
	gatewaytest.NewSender(t, s2.Tracks[0].RTP, 0xB1, 440).SendRange(0, 50, 5*time.Millisecond)
	time.Sleep(150 * time.Millisecond)
	tg.End(s2)

	// While storage is down the recordings wait in the spool, sealed.
	time.Sleep(2 * time.Second) // several upload attempts
	for _, id := range []string{s.RecordingID, s2.RecordingID} {
		e, ok := tg.Spool().Find(id)
		if !ok || e.State != "COMPLETE" {
			t.Fatalf("recording %s not waiting in the spool: %+v %v", id, e, ok)
		}
		if rec, err := tg.Store().GetRecording(t.Context(), id); err != nil || rec.Status == store.RecordingComplete {
			t.Fatalf("index says %+v (%v) before the upload", rec, err)
		}
	}
	plain := [][]byte{toneStream(440, n), toneStream(1000, n)}
	gatewaytest.AssertNoPlaintext(t, tg.Config().DataDir, plain...)
	time.Sleep(time.Until(down.Add(30 * time.Second)))
	vg.Start()
	back := time.Now()

	for _, id := range []string{s.RecordingID, s2.RecordingID} {
		tg.WaitStored(id)
		rec := gatewaytest.WaitIndexStatus(t, tg.Gateway, id, store.RecordingComplete)
		if rec.ObjectKey == "" || rec.SHA256 == "" {
			t.Fatalf("index after upload: %+v", rec)
		}
	}
	t.Logf("backlog uploaded %v after storage returned", time.Since(back).Round(time.Millisecond))
	for _, tc := range []struct {
		track string
		freq  float64
	}{{"caller", 440}, {"agent", 1000}} {
		b, res := tg.ExportTrack(s.RecordingID, playback.FormatWAV, tc.track)
		if res.Status.String() != "COMPLETE" || len(res.Tracks) != 2 {
			t.Fatalf("%s export: %s %+v", tc.track, res.Status, res.Tracks)
		}
		for _, tr := range res.Tracks {
			if tr.Media != n || tr.Lost != 0 {
				t.Fatalf("track after the outage: %+v, want %d packets, none lost", tr, n)
			}
		}
		if pcm := gatewaytest.ParseWAV(t, b).Samples[0]; len(pcm) != n*160 {
			t.Fatalf("%s: %d samples, want %d", tc.track, len(pcm), n*160)
		}
	}
	assertNoPlaintextInBucket(t, vg, 2, plain...)
}

// bigFrames sends 120 ms PCMU frames (960 bytes: six of newSender's
// packets back to back) so a test fills a spool quickly without a
// non-standard payload.
func bigFrames(t *testing.T, addr string, ssrc uint32, frames int, pace time.Duration) {
	t.Helper()
	s := gatewaytest.NewSender(t, addr, ssrc, 440)
	next := time.Now()
	for i := 0; i < frames; i++ {
		var pl []byte
		for k := 0; k < 6; k++ {
			pl = append(pl, gatewaytest.Tone(440, 6*i+k)...)
		}
		p := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 0, SequenceNumber: uint16(i),
			Timestamp: uint32(i) * 960, SSRC: ssrc}, Payload: pl}
		b, err := p.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		s.Send(b)
		next = next.Add(pace)
		time.Sleep(time.Until(next))
	}
}

// TestSpoolFullRefusesSessions fills a 1 MiB spool while versitygw is
// down: the next session is refused with 503 naming the spool and counted
// in mediaseal_sessions_refused_total{reason="spool_full"}; when storage
// returns, the backlog drains oldest first (the oldest recording is the
// first to leave the spool), every recording exports
// complete and sessions are accepted again.
func TestSpoolFullRefusesSessions(t *testing.T) {
	vg := testenv.StartVersityGW(t)
	tg := gatewaytest.Start(t, func(c *config.Config) {
		gatewaytest.WithS3(vg)(c)
		c.Spool.MaxBytes = 1 << 20
		c.Spool.RetryMax = config.Duration(2 * time.Second)
	})
	vg.Stop()
	const frames = 180 // 21.6 s of audio, about 180 KB sealed
	var ids []string
	var refused gatewaytest.ErrorBody
	for len(ids) < 20 {
		var s gatewaytest.Session
		body := map[string]any{"callId": fmt.Sprintf("fill-%d", len(ids)), "queueId": "q", "direction": "INBOUND",
			"tracks": []map[string]string{{"label": "caller", "kind": "audio", "source": "127.0.0.1"}}}
		code := tg.Do("POST", "/v1/sessions", body, &s)
		if code == http.StatusServiceUnavailable {
			b, _ := json.Marshal(body)
			tg.Do("POST", "/v1/sessions", string(b), &refused) // the body of a refusal
			break
		}
		if code != http.StatusCreated || !s.Recorded {
			t.Fatalf("session %d: %d %+v", len(ids), code, s)
		}
		bigFrames(t, s.Tracks[0].RTP, uint32(len(ids)+1), frames, 2*time.Millisecond)
		time.Sleep(100 * time.Millisecond)
		if sum := tg.End(s); sum.Status != "COMPLETE" || sum.Packets != frames {
			t.Fatalf("fill call %d: %+v", len(ids), sum)
		}
		ids = append(ids, s.RecordingID)
		time.Sleep(20 * time.Millisecond) // distinct spool mtimes: a clear oldest-first order
	}
	if len(ids) < 3 || len(ids) >= 20 {
		t.Fatalf("spool took %d calls before refusing", len(ids))
	}
	if refused.Code != "spool_full" || !strings.Contains(refused.Message, "spool full") {
		t.Fatalf("refusal body %+v does not name the spool", refused)
	}
	if v := metricValue(t, tg.URL, "mediaseal_sessions_refused_total", `reason="spool_full"`); v != 2 {
		t.Fatalf("refused sessions metric %v, want 2", v)
	}
	if resp, err := http.Get(tg.URL + "/readyz"); err != nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("readyz with a full spool: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	t.Logf("spool full after %d calls (%d bytes)", len(ids), tg.Spool().Used())

	vg.Start()
	var order []string
	gone := map[string]bool{}
	deadline := time.Now().Add(30 * time.Second)
	for len(order) < len(ids) {
		for _, id := range ids {
			if _, ok := tg.Spool().Find(id); !ok && !gone[id] {
				gone[id] = true
				order = append(order, id)
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("backlog not drained: %d of %d uploaded", len(order), len(ids))
		}
		time.Sleep(2 * time.Millisecond)
	}
	// Oldest first. While storage is down the uploader probes it with one
	// upload of the oldest recording and starts no other until that probe
	// is confirmed, so the oldest leaves the spool first, however slow its
	// attempt (the SDK retries inside it when it raced the restart). Then
	// two workers start the rest oldest first. They finish in that order
	// unless one upload stalls (a loaded machine, an SDK retry), when the
	// other worker overtakes it with the next few: so the order is judged
	// by its total displacement, which such a stall keeps within the
	// number of recordings, while newest first (n²/2) or a random order
	// (about n²/3) lies far above it.
	if order[0] != ids[0] {
		t.Fatalf("drain order %v, want %s (the oldest) first", order, ids[0])
	}
	ranks := make([]int, len(order))
	displaced := 0
	for pos, id := range order {
		rank := slices.Index(ids, id)
		ranks[pos] = rank
		displaced += max(pos-rank, rank-pos)
	}
	if displaced > len(ids) {
		t.Fatalf("drain order by age %v: total displacement %d, want at most %d (oldest first)", ranks, displaced, len(ids))
	}
	t.Logf("drain order by age (0 = oldest): %v", ranks)
	for _, id := range ids {
		gatewaytest.WaitIndexStatus(t, tg.Gateway, id, store.RecordingComplete)
		// Every frame is there (the timeline is shorter than 21.6 s: the
		// frames arrived 60 times faster than real time, and arrival wins).
		_, res := tg.ExportTrack(id, playback.FormatWAV, "caller")
		if tr := res.Tracks[0]; res.Status.String() != "COMPLETE" || tr.Media != frames || tr.Lost != 0 || tr.Duplicates != 0 {
			t.Fatalf("recording %s after drain: %s %+v", id, res.Status, res.Tracks)
		}
	}
	if s := tg.CreateCall("q", "caller"); !s.Recorded {
		t.Fatalf("session after the drain: %+v", s)
	}
}

// TestS3CrashRecovery kills `mediaseal serve` (S3 storage) with SIGKILL
// mid-call: the restarted process closes the spooled recording as
// RECOVERED and uploads it; it exports every packet flushed before the
// kill, from the bucket.
func TestS3CrashRecovery(t *testing.T) {
	vg := testenv.StartVersityGW(t)
	p := gatewaytest.NewGatewayProcess(t, s3YAML(vg))
	p.Start()
	s := p.TG.CreateCall("q", "caller")
	snd := gatewaytest.NewSender(t, s.Tracks[0].RTP, 77, 440)
	snd.SendRange(0, 100, 20*time.Millisecond) // 2 s
	time.Sleep(400 * time.Millisecond)         // two flush intervals: everything sent is durable
	if err := p.Signal(syscall.SIGKILL); err == nil {
		t.Fatal("SIGKILL did not kill")
	}
	if objs := gatewaytest.BucketObjects(t, vg); len(objs) != 0 {
		t.Fatalf("bucket has %d objects before recovery", len(objs))
	}
	p.Start() // recovery runs before the API listens; the upload follows
	if err := p.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM exit: %v\n%s", err, p.Log)
	}
	g := p.Offline()
	rec := gatewaytest.WaitIndexStatus(t, g, s.RecordingID, store.RecordingRecovered)
	if rec.Chunks < 2 || rec.ObjectKey == "" || rec.SHA256 == "" {
		t.Fatalf("index after recovery: %+v", rec)
	}
	if _, ok := g.Spool().Find(s.RecordingID); ok {
		t.Fatal("recovered recording still in the spool after a graceful shutdown")
	}
	obj, ok := gatewaytest.BucketObjects(t, vg)[rec.ObjectKey]
	if !ok || int64(len(obj)) != rec.Bytes {
		t.Fatalf("object %s: present %v, %d bytes (index says %d)", rec.ObjectKey, ok, len(obj), rec.Bytes)
	}
	var buf bytes.Buffer
	res, err := g.Playback().Export(context.Background(), s.RecordingID, playback.FormatWAV, "caller", playback.Options{}, &buf)
	if err != nil {
		t.Fatal(err)
	}
	if res.Status.String() != "RECOVERED" || len(res.Tracks) != 1 || res.Tracks[0].Media != 100 {
		t.Fatalf("export after crash: status %s, tracks %+v (want 100 packets)", res.Status, res.Tracks)
	}
	assertNoPlaintextInBucket(t, vg, 1, toneStream(440, 100))
	gatewaytest.AssertNoPlaintext(t, p.DataDir, toneStream(440, 100))
}
