package whip_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mediaseal/mediaseal/internal/testenv"
	mmedia "github.com/mediaseal/mediaseal/media"
	"github.com/mediaseal/mediaseal/playback"
	"github.com/mediaseal/mediaseal/tests/gatewaytest"
)

// chromiumBinary installs Chromium if needed and returns its path.
func chromiumBinary(t testing.TB) string { return gatewaytest.Chromium(t) }

// pageReport is one step the publisher page reports.
type pageReport struct {
	Step string          `json:"step"`
	Data json.RawMessage `json:"data"`
}

// TestWHIPChromium publishes getUserMedia audio and video (Chromium's fake
// devices) from headless Chromium to the WHIP endpoint, then checks that
// the recording exports to decodable Opus and VP8 of the length sent.
func TestWHIPChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser")
	}
	gatewaytest.NeedFFmpeg(t)
	chromium := chromiumBinary(t)
	tg := gatewaytest.Start(t, nil)
	const seconds = 5

	// The page is served from another origin than the gateway: CORS is real.
	reports := make(chan pageReport, 16)
	mux := http.NewServeMux()
	mux.Handle("GET /", http.FileServer(http.Dir(filepath.Join(testenv.RepoRoot(t), "testdata", "whip"))))
	mux.HandleFunc("POST /report", func(w http.ResponseWriter, r *http.Request) {
		var rep pageReport
		if err := json.NewDecoder(r.Body).Decode(&rep); err == nil {
			reports <- rep
		}
		w.WriteHeader(http.StatusNoContent)
	})
	page := httptest.NewServer(mux)
	defer page.Close()
	whipURL := tg.URL + "/whip?" + url.Values{"callId": {"chromium-1"}, "queueId": {"sales"}, "direction": {"INBOUND"},
		"callerId": {"+441234"}}.Encode()
	frag := url.Values{"whip": {whipURL}, "token": {tg.Token}, "seconds": {"5"}}.Encode()

	var stderr bytes.Buffer
	cmd := exec.Command(chromium, "--headless=new", "--no-sandbox", "--use-fake-ui-for-media-stream",
		"--use-fake-device-for-media-stream", "--disable-background-networking", "--disable-component-update",
		"--disable-sync", "--no-first-run", "--disable-gpu", "--disable-quic", "--mute-audio",
		"--disable-dev-shm-usage", "--user-data-dir="+t.TempDir(), page.URL+"/publish.html#"+frag)
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var stopOnce sync.Once
	stop := func() {
		stopOnce.Do(func() {
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // the browser and its children: our process group
			_ = cmd.Wait()
		})
	}
	defer stop()

	var done struct {
		SentMs  float64         `json:"sentMs"`
		Stats   json.RawMessage `json:"stats"`
		Summary mmedia.Summary  `json:"summary"`
	}
	deadline := time.After(150 * time.Second) // a cold browser start on two busy cores is slow
wait:
	for {
		select {
		case rep := <-reports:
			t.Logf("page: %s %s", rep.Step, rep.Data)
			switch rep.Step {
			case "error":
				stop()
				t.Fatalf("page failed: %s\nchromium:\n%s", rep.Data, tail(stderr.Bytes(), 4000))
			case "done":
				if err := json.Unmarshal(rep.Data, &done); err != nil {
					t.Fatal(err)
				}
				break wait
			}
		case <-deadline:
			stop()
			t.Fatalf("no result from the page\nchromium:\n%s", tail(stderr.Bytes(), 4000))
		}
	}
	stop()
	sum := done.Summary
	if sum.Status != "COMPLETE" || !sum.Recorded || sum.Packets < 200 {
		t.Fatalf("summary: %+v", sum)
	}
	tg.WaitStored(sum.RecordingID)
	sent := done.SentMs / 1000

	b, res := tg.ExportTrack(sum.RecordingID, playback.FormatOgg, "caller")
	if res.Status.String() != "COMPLETE" {
		t.Fatalf("status %s", res.Status)
	}
	path := gatewaytest.WriteTemp(t, "chromium.ogg", b)
	a := gatewaytest.FFprobeStream(t, path, "a")
	gatewaytest.FFmpegDecodes(t, path)
	b, _ = tg.ExportTrack(sum.RecordingID, playback.FormatIVF, "video")
	vpath := gatewaytest.WriteTemp(t, "chromium.ivf", b)
	v := gatewaytest.FFprobeStream(t, vpath, "v")
	vEnd := gatewaytest.FFprobeMediaEnd(t, vpath, "v")
	gatewaytest.FFmpegDecodes(t, vpath)
	t.Logf("published %.2fs; ogg %s %.3fs; ivf %s %dpx %.3fs, %d frames decoded; %d packets",
		sent, a.Codec, a.Duration, v.Codec, v.Width, vEnd, v.Frames, sum.Packets)
	// Media starts flowing a little before the page sees "connected" and
	// stops at DELETE: allow half a second either way.
	if a.Codec != "opus" || a.Duration < sent-0.5 || a.Duration > sent+0.5 {
		t.Fatalf("audio: %s %.3fs, published %.3fs", a.Codec, a.Duration, sent)
	}
	if os.Getenv("WHIP_DEBUG") != "" {
		rec, _ := tg.OpenRecording(t.Context(), sum.RecordingID)
		tl, _ := rec.Timeline()
		rec.Close()
		vt, _ := tl.Track("video")
		for i, f := range vt.Frames {
			if i < 60 {
				t.Logf("frame pos=%d seq=%d ts=%d m=%v len=%d head=%x", f.Pos, f.Seq, f.Timestamp, f.Marker, len(f.Payload), f.Payload[:min(6, len(f.Payload))])
			}
		}
		t.Logf("video summary %+v", vt.Summary)
	}
	if v.Codec != "vp8" || v.Width != 320 || vEnd < sent-0.5 || vEnd > sent+0.5 || v.Duration < sent-0.5 || v.Duration > sent+0.5 || v.Frames < int(sent*10) {
		t.Fatalf("video: %s %dpx %.3fs %d frames, published %.3fs", v.Codec, v.Width, vEnd, v.Frames, sent)
	}
	_ = os.Remove(path)
}

// tail returns the last n bytes of b.
func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}
