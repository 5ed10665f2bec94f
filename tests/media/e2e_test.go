package media_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/mediaseal/mediaseal/ceremony/store"
	"github.com/mediaseal/mediaseal/cluster"
	"github.com/mediaseal/mediaseal/internal/config"
	"github.com/mediaseal/mediaseal/internal/gateway"
	"github.com/mediaseal/mediaseal/media"
	"github.com/mediaseal/mediaseal/media/codec"
	"github.com/mediaseal/mediaseal/playback"
	"github.com/mediaseal/mediaseal/policy"
	"github.com/mediaseal/mediaseal/tests/gatewaytest"
)

// TestEndToEndFFmpeg records a two-track call sent by ffmpeg, exports it
// and checks the WAV with ffprobe and sample by sample against the tone.
func TestEndToEndFFmpeg(t *testing.T) {
	gatewaytest.NeedFFmpeg(t)
	tg := gatewaytest.Start(t, nil)
	s := tg.CreateCall("sales")
	if !s.Recorded || len(s.Tracks) != 2 || s.RecordingID == "" {
		t.Fatalf("session: %+v", s)
	}
	caller := gatewaytest.FFmpegTone(t, s.Tracks[0].RTP, 440, 5)
	agent := gatewaytest.FFmpegTone(t, s.Tracks[1].RTP, 1000, 5)
	if err := caller.Wait(); err != nil {
		t.Fatal(err)
	}
	if err := agent.Wait(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	sum := tg.End(s)
	if sum.Status != "COMPLETE" || sum.Packets != 500 || sum.Records != 500 || sum.Dropped[media.DropMalformed] != 0 {
		t.Fatalf("summary: %+v", sum)
	}
	tg.WaitStored(s.RecordingID)

	for _, tc := range []struct {
		track string
		freq  int
	}{{"caller", 440}, {"agent", 1000}} {
		b, res := tg.ExportTrack(s.RecordingID, playback.FormatWAV, tc.track)
		if res.Status.String() != "COMPLETE" {
			t.Fatalf("status %s", res.Status)
		}
		path := filepath.Join(t.TempDir(), tc.track+".wav")
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		rate, sf, dur := gatewaytest.FFprobeAudio(t, path)
		if rate != 8000 || sf != "s16" || dur < 4.9 || dur > 5.1 {
			t.Fatalf("%s: ffprobe says %d Hz %s %.3fs; want 8000 Hz s16 5.0±0.1s", tc.track, rate, sf, dur)
		}
		got := gatewaytest.ParseWAV(t, b).Samples[0]
		want := codec.DecodeULaw(nil, gatewaytest.FFmpegReference(t, tc.freq, 5))
		n := min(len(got), len(want))
		if n < 39000 {
			t.Fatalf("%s: only %d samples", tc.track, n)
		}
		for i := 0; i < n; i++ {
			if got[i] != want[i] {
				t.Fatalf("%s: sample %d is %d, the sent tone has %d", tc.track, i, got[i], want[i])
			}
		}
	}
	b, _ := tg.ExportTrack(s.RecordingID, playback.FormatWAVStereo, "")
	if w := gatewaytest.ParseWAV(t, b); w.Channels != 2 || w.Rate != 8000 || w.Bits != 16 {
		t.Fatalf("stereo: %d ch %d Hz %d bits", w.Channels, w.Rate, w.Bits)
	}

	// pcap rebuilds the received RTP: one record per packet, payloads intact.
	pc, pres := tg.ExportTrack(s.RecordingID, playback.FormatPCAP, "")
	if n := countPCAP(t, pc); n != 500 || pres.Packets != 500 {
		t.Fatalf("pcap has %d packets (writer says %d), want 500", n, pres.Packets)
	}
	if !bytes.Contains(pc, gatewaytest.FFmpegReference(t, 440, 5)[160:320]) {
		t.Fatal("pcap does not carry the sent payload")
	}

	// The index says where the recording is and that it is complete.
	rec, err := tg.Store().GetRecording(t.Context(), s.RecordingID)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Status != store.RecordingComplete || rec.Chunks < 5 || rec.KeyProvider != "local" || rec.KeyVersion != "v1" || rec.SHA256 == "" {
		t.Fatalf("index row: %+v", rec)
	}

	// No plaintext on disk: no 16-byte window of any sent payload appears
	// in any file the gateway wrote.
	gatewaytest.AssertNoPlaintext(t, tg.Config().DataDir, gatewaytest.FFmpegReference(t, 440, 5), gatewaytest.FFmpegReference(t, 1000, 5))
}

// countPCAP counts the packet records of a classic little-endian pcap.
func countPCAP(t *testing.T, b []byte) int {
	t.Helper()
	if len(b) < 24 || binary.LittleEndian.Uint32(b) != 0xa1b2c3d4 {
		t.Fatalf("not a pcap file")
	}
	n := 0
	for off := 24; off+16 <= len(b); n++ {
		off += 16 + int(binary.LittleEndian.Uint32(b[off+8:]))
	}
	return n
}

func TestNoMatchingPolicyIsNotRecorded(t *testing.T) {
	tg := gatewaytest.Start(t, func(c *config.Config) {
		c.Policies = []policy.Policy{{ID: "pci", Name: "PCI", RecordingType: policy.RecordingAudio, TargetIDs: []string{"pci-queue"}}}
		c.Policies[0].Normalize()
	})
	s := tg.CreateCall("sales")
	if s.Recorded || len(s.Tracks) != 0 || s.RecordingID != "" {
		t.Fatalf("recorded a call no policy covers: %+v", s)
	}
	if sum := tg.End(s); sum.Status != "NOT_RECORDED" {
		t.Fatalf("summary %+v", sum)
	}
	if s2 := tg.CreateCall("pci-queue"); !s2.Recorded || s2.PolicyID != "pci" {
		t.Fatalf("pci queue not recorded: %+v", s2)
	}
}

// exportTrack records packets sent by fn on one track and returns its PCM.
func recordOne(t *testing.T, tg *gatewaytest.Gateway, fn func(s *gatewaytest.Sender)) ([]int16, playback.Result, media.Summary) {
	t.Helper()
	s := tg.CreateCall("q", "caller")
	snd := gatewaytest.NewSender(t, s.Tracks[0].RTP, 0x1234, 440)
	fn(snd)
	time.Sleep(150 * time.Millisecond)
	sum := tg.End(s)
	b, res := tg.ExportTrack(s.RecordingID, playback.FormatWAV, "caller")
	return gatewaytest.ParseWAV(t, b).Samples[0], res, sum
}

func TestReorderAndDuplicatesExportExactly(t *testing.T) {
	tg := gatewaytest.Start(t, nil)
	inOrder, _, _ := recordOne(t, tg, func(s *gatewaytest.Sender) { s.SendRange(0, 100, time.Millisecond) })
	shuffled, res, _ := recordOne(t, tg, func(s *gatewaytest.Sender) {
		order := []int{}
		for i := 0; i < 100; i += 4 { // swap within windows of four, duplicate every seventh
			order = append(order, i+2, i, i+3, i+1)
		}
		for k, i := range order {
			s.Send(s.Packet(i))
			if k%7 == 0 {
				s.Send(s.Packet(i))
			}
			time.Sleep(time.Millisecond)
		}
	})
	if len(inOrder) != 16000 || !gatewaytest.EqualPCM(inOrder, shuffled) {
		t.Fatalf("reordered export differs: %d vs %d samples", len(inOrder), len(shuffled))
	}
	if tr := res.Tracks[0]; tr.Duplicates != 15 || tr.Reordered == 0 || tr.Lost != 0 {
		t.Fatalf("track summary %+v", tr)
	}
}

func TestLostSpanIsSilenceOfTheRightLength(t *testing.T) {
	tg := gatewaytest.Start(t, nil)
	pcm, res, _ := recordOne(t, tg, func(s *gatewaytest.Sender) {
		s.SendRange(0, 40, time.Millisecond)
		s.SendRange(50, 100, time.Millisecond) // packets 40-49 lost
	})
	if len(pcm) != 100*160 {
		t.Fatalf("duration %d samples, want %d", len(pcm), 100*160)
	}
	for i := 40 * 160; i < 50*160; i++ {
		if pcm[i] != 0 {
			t.Fatalf("sample %d in the lost span is %d, want silence", i, pcm[i])
		}
	}
	if pcm[39*160+40] == 0 && pcm[50*160+40] == 0 {
		t.Fatal("audio around the gap is missing")
	}
	if res.Tracks[0].Lost != 10 {
		t.Fatalf("lost %d, want 10", res.Tracks[0].Lost)
	}
}

func TestPauseDropsMediaAndKeepsDuration(t *testing.T) {
	tg := gatewaytest.Start(t, nil)
	s := tg.CreateCall("q", "caller")
	snd := gatewaytest.NewSender(t, s.Tracks[0].RTP, 7, 440)
	snd.SendRange(0, 50, 20*time.Millisecond) // 1 s
	if code := tg.Do("POST", "/v1/sessions/"+s.SessionID+"/pause", nil, nil); code != http.StatusOK {
		t.Fatalf("pause: %d", code)
	}
	snd.SendRange(50, 100, 20*time.Millisecond) // 1 s paused: must not be recorded
	if code := tg.Do("POST", "/v1/sessions/"+s.SessionID+"/resume", nil, nil); code != http.StatusOK {
		t.Fatalf("resume: %d", code)
	}
	snd.SendRange(100, 150, 20*time.Millisecond)
	time.Sleep(100 * time.Millisecond)
	sum := tg.End(s)
	if sum.Dropped[media.DropPaused] < 48 {
		t.Fatalf("paused packets dropped: %d", sum.Dropped[media.DropPaused])
	}
	b, res := tg.ExportTrack(s.RecordingID, playback.FormatWAV, "caller")
	pcm := gatewaytest.ParseWAV(t, b).Samples[0]
	if d := float64(len(pcm)) / 8000; d < 2.9 || d > 3.1 {
		t.Fatalf("duration %.2fs, want 3s", d)
	}
	// The middle of the paused second is silent, the audio on both sides is not.
	for i := 8000 + 1600; i < 16000-1600; i++ {
		if pcm[i] != 0 {
			t.Fatalf("paused audio at sample %d", i)
		}
	}
	if pcm[4000] == 0 && pcm[4001] == 0 || pcm[20000] == 0 && pcm[20001] == 0 {
		t.Fatal("audio outside the pause is missing")
	}
	if res.Tracks[0].Pauses != 1 {
		t.Fatalf("pauses %d", res.Tracks[0].Pauses)
	}
	// The paused payloads never reached disk, not even encrypted-and-dropped.
	paused := gatewaytest.Tone(440, 75)
	gatewaytest.AssertNoPlaintext(t, tg.Config().DataDir, paused)
}

func TestSSRCChangeStaysInTrack(t *testing.T) {
	tg := gatewaytest.Start(t, nil)
	pcm, res, _ := recordOne(t, tg, func(s *gatewaytest.Sender) {
		s.SendRange(0, 50, 20*time.Millisecond)
		s.SSRC, s.Seq, s.Ts = 0xBEEF, 40000, 99999 // transfer: new SSRC, sequence and clock
		s.SendRange(50, 100, 20*time.Millisecond)
	})
	if d := float64(len(pcm)) / 8000; d < 1.9 || d > 2.15 {
		t.Fatalf("duration %.2fs, want 2s", d)
	}
	if res.Tracks[0].SSRCs != 2 || res.Tracks[0].Media != 100 {
		t.Fatalf("track summary %+v", res.Tracks[0])
	}
}

func TestMalformedPacketsAreCountedNotFatal(t *testing.T) {
	tg := gatewaytest.Start(t, nil)
	_, res, sum := recordOne(t, tg, func(s *gatewaytest.Sender) {
		s.SendRange(0, 10, time.Millisecond)
		for _, junk := range [][]byte{{}, {0x80}, make([]byte, 11), {0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1},
			append([]byte{0x8F, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1}, 1, 2), // 15 CSRCs announced, none present
			append([]byte{0xA0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 1}, 9)} {  // padding longer than the packet
			s.Send(junk)
		}
		s.SendRange(10, 20, time.Millisecond)
	})
	// Six junk datagrams (an empty datagram is delivered too), all counted.
	if sum.Dropped[media.DropMalformed] != 6 || res.Tracks[0].Media != 20 {
		t.Fatalf("malformed %d, media %d", sum.Dropped[media.DropMalformed], res.Tracks[0].Media)
	}
}

func TestInactivityTimeoutEndsSession(t *testing.T) {
	tg := gatewaytest.Start(t, func(c *config.Config) { c.Media.InactivityTimeout = config.Duration(400 * time.Millisecond) })
	s := tg.CreateCall("q", "caller")
	gatewaytest.NewSender(t, s.Tracks[0].RTP, 1, 440).SendRange(0, 10, 5*time.Millisecond)
	deadline := time.Now().Add(5 * time.Second)
	for tg.Do("GET", "/v1/sessions/"+s.SessionID, nil, nil) == http.StatusOK {
		if time.Now().After(deadline) {
			t.Fatal("session still alive after the inactivity timeout")
		}
		time.Sleep(50 * time.Millisecond)
	}
	tg.WaitStored(s.RecordingID)
	rec, err := tg.Store().GetRecording(t.Context(), s.RecordingID)
	if err != nil || rec.Status != store.RecordingComplete {
		t.Fatalf("index %+v %v", rec, err)
	}
}

func TestRTCPByeEndsSession(t *testing.T) {
	tg := gatewaytest.Start(t, nil)
	s := tg.CreateCall("q", "caller")
	snd := gatewaytest.NewSender(t, s.Tracks[0].RTP, 0xABCD, 440)
	snd.SendRange(0, 10, time.Millisecond)
	// RTCP BYE multiplexed on the RTP port (RFC 5761): V=2, SC=1, PT=203, length 1.
	snd.Send([]byte{0x81, 203, 0, 1, 0, 0, 0xAB, 0xCD})
	deadline := time.Now().Add(5 * time.Second)
	for tg.Do("GET", "/v1/sessions/"+s.SessionID, nil, nil) == http.StatusOK {
		if time.Now().After(deadline) {
			t.Fatal("session still alive after RTCP BYE")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestSessionAPIRejectsBadRequests(t *testing.T) {
	tg := gatewaytest.Start(t, nil)
	cases := []struct {
		name, body string
		want       int
	}{
		{"bad json", `{"callId":`, http.StatusBadRequest},
		{"unknown field", `{"callId":"c","queueId":"q","direction":"INBOUND","tracks":[{"label":"a","kind":"audio","source":"127.0.0.1"}],"x":1}`, http.StatusBadRequest},
		{"wrong type", `{"callId":5}`, http.StatusBadRequest},
		{"bad direction", `{"callId":"c","queueId":"q","direction":"SIDEWAYS","tracks":[{"label":"a","kind":"audio","source":"127.0.0.1"}]}`, http.StatusBadRequest},
		{"no tracks", `{"callId":"c","queueId":"q","direction":"INBOUND","tracks":[]}`, http.StatusBadRequest},
		{"duplicate label", `{"callId":"c","queueId":"q","direction":"INBOUND","tracks":[{"label":"a","kind":"audio","source":"127.0.0.1"},{"label":"a","kind":"audio","source":"127.0.0.1"}]}`, http.StatusBadRequest},
		{"bad codec", `{"callId":"c","queueId":"q","direction":"INBOUND","tracks":[{"label":"a","kind":"audio","source":"127.0.0.1","codec":"MP3"}]}`, http.StatusBadRequest},
		{"trailing data", `{"callId":"c","queueId":"q","direction":"INBOUND","tracks":[{"label":"a","kind":"audio","source":"127.0.0.1"}]} {}`, http.StatusBadRequest},
		{"oversized", `{"callId":"` + string(bytes.Repeat([]byte("x"), 2<<20)) + `"}`, http.StatusRequestEntityTooLarge},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var e gatewaytest.ErrorBody
			if code := tg.Do("POST", "/v1/sessions", c.body, &e); code != c.want || e.Code == "" || e.Status != code {
				t.Fatalf("got %d %+v, want %d", code, e, c.want)
			}
		})
	}
	// Authentication: missing and wrong tokens.
	for _, tok := range []string{"", "Bearer nope", "Basic abc"} {
		req, _ := http.NewRequest("POST", tg.URL+"/v1/sessions", bytes.NewReader([]byte(`{}`)))
		if tok != "" {
			req.Header.Set("Authorization", tok)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("token %q: %d", tok, resp.StatusCode)
		}
	}
	if code := tg.Do("GET", "/v1/sessions/nope", nil, nil); code != http.StatusNotFound {
		t.Fatalf("unknown session: %d", code)
	}
	// Health is open; metrics need a token.
	resp, err := http.Get(tg.URL + "/healthz")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("healthz: %v %v", resp, err)
	}
	resp.Body.Close()
	if resp, err = http.Get(tg.URL + "/metrics"); err != nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("metrics without a token: %v %v", resp, err)
	}
	resp.Body.Close()
	if resp, err = gatewaytest.AuthGet(tg.URL + "/metrics"); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("metrics with the token: %v %v", resp, err)
	}
	resp.Body.Close()
}

func TestIngestTokenFileIsPrivate(t *testing.T) {
	tg := gatewaytest.Start(t, nil)
	st, err := os.Stat(tg.Config().IngestTokenPath())
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("ingest token: %v %v", st.Mode(), err)
	}
	kek, err := filepath.Glob(filepath.Join(tg.Config().KeyringDir(), "platform", "*.kek"))
	if err != nil || len(kek) != 1 {
		t.Fatalf("keyring: %v %v", kek, err)
	}
	if st, _ := os.Stat(kek[0]); st.Mode().Perm() != 0o600 {
		t.Fatalf("KEK mode %v", st.Mode())
	}
}

func TestDatabaseFileIsPrivate(t *testing.T) {
	tg := gatewaytest.Start(t, nil)
	for _, p := range []string{tg.Config().SQLitePath(), tg.Config().SQLitePath() + "-wal"} {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o600 {
			t.Fatalf("%s has mode %v, want 0600", p, st.Mode().Perm())
		}
	}
}

// TestSecondServeOnSameSpoolIsRefused: a second gateway on the same data
// directory must not run crash recovery over a live gateway's recordings.
func TestSecondServeOnSameSpoolIsRefused(t *testing.T) {
	tg := gatewaytest.Start(t, nil)
	s := tg.CreateCall("q", "caller")
	snd := gatewaytest.NewSender(t, s.Tracks[0].RTP, 77, 440)
	snd.SendRange(0, 20, 5*time.Millisecond)
	time.Sleep(300 * time.Millisecond) // a flushed, still open spool file

	cfg := *tg.Config()
	cfg.API.Addr = "127.0.0.1:0"
	g2, err := gateway.New(t.Context(), &cfg, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	defer g2.Close()
	if err := g2.Run(t.Context()); !errors.Is(err, cluster.ErrSpoolInUse) {
		t.Fatalf("second serve on the same spool: %v, want ErrSpoolInUse", err)
	}
	snd.SendRange(20, 40, 5*time.Millisecond)
	time.Sleep(100 * time.Millisecond)
	if sum := tg.End(s); sum.Status != "COMPLETE" {
		t.Fatalf("first gateway's recording after the refused second start: %+v", sum)
	}
	tg.WaitStored(s.RecordingID) // the index says COMPLETE once it is stored
	if sum, err := tg.Verify(t.Context(), s.RecordingID); err != nil || sum.Status.String() != "COMPLETE" || sum.Records != 40 {
		t.Fatalf("verify: %+v %v", sum, err)
	}
}
