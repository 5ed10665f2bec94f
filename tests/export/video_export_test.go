package export_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"

	"github.com/mediaseal/mediaseal/media/export"
	"github.com/mediaseal/mediaseal/playback"
	"github.com/mediaseal/mediaseal/tests/gatewaytest"
)

// ffmpegH264AccessUnits encodes seconds of a 320x240 test pattern at fps
// with libx264 as WebRTC sends H.264 (constrained baseline, no B-frames,
// an IDR every second with its parameter sets) and returns each access
// unit as Annex B bytes.
func ffmpegH264AccessUnits(t testing.TB, seconds, fps int) [][]byte {
	t.Helper()
	out, err := exec.Command("ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi",
		"-i", fmt.Sprintf("testsrc=size=320x240:rate=%d:duration=%d", fps, seconds),
		"-pix_fmt", "yuv420p", "-c:v", "libx264", "-profile:v", "baseline", "-bf", "0",
		"-g", fmt.Sprint(fps), "-keyint_min", fmt.Sprint(fps), "-sc_threshold", "0", "-b:v", "400k",
		"-bsf:v", "h264_mp4toannexb", "-f", "h264", "pipe:1").Output()
	if err != nil {
		t.Fatalf("ffmpeg h264: %v", err)
	}
	// Split at start codes; a new access unit begins at a parameter set,
	// SEI or AUD after a slice, or at a slice with first_mb_in_slice 0.
	var aus [][]byte
	var cur []byte
	slice := false
	for len(out) > 0 {
		i := bytes.Index(out, []byte{0, 0, 1})
		if i < 0 {
			break
		}
		out = out[i+3:]
		j := bytes.Index(out, []byte{0, 0, 1})
		if j < 0 {
			j = len(out)
		}
		nal := bytes.TrimRight(out[:j], "\x00")
		out = out[j:]
		typ := nal[0] & 0x1F
		isSlice := typ == 1 || typ == 5
		if slice && (typ == 6 || typ == 7 || typ == 8 || typ == 9 || isSlice && nal[1]&0x80 != 0) {
			aus, cur, slice = append(aus, cur), nil, false
		}
		cur = append(append(cur, 0, 0, 0, 1), nal...)
		slice = slice || isSlice
	}
	aus = append(aus, cur)
	if len(aus) != seconds*fps {
		t.Fatalf("ffmpeg made %d access units, want %d", len(aus), seconds*fps)
	}
	return aus
}

// sendVideoCall creates an RTP session with an Opus track and a video
// track of codec, and sends the frames (packetized by payloader) and the
// Opus packets paced in real time, 20 ms per audio packet.
func sendVideoCall(t *testing.T, tg *gatewaytest.Gateway, callID, codec string, pt uint8, payloader rtp.Payloader, frames, opus [][]byte, fps int) gatewaytest.Session {
	t.Helper()
	var s gatewaytest.Session
	code := tg.Do("POST", "/v1/sessions", map[string]any{"callId": callID, "queueId": "sales", "direction": "INBOUND",
		"tracks": []map[string]any{{"label": "caller", "kind": "audio", "codec": "opus", "source": "127.0.0.1"},
			{"label": "video", "kind": "video", "codec": codec, "source": "127.0.0.1"}}}, &s)
	if code != http.StatusCreated || !s.Recorded || len(s.Tracks) != 2 {
		t.Fatalf("create: %d %+v", code, s)
	}
	ac, vc := gatewaytest.DialUDP(t, s.Tracks[0].RTP), gatewaytest.DialUDP(t, s.Tracks[1].RTP)
	vpk := rtp.NewPacketizer(1200, pt, 0x5152, payloader, rtp.NewFixedSequencer(65400), 90000) // wraps
	apk := rtp.NewPacketizer(1200, 111, 0x6162, &codecs.OpusPayloader{}, rtp.NewRandomSequencer(), 48000)
	write := func(c *net.UDPConn, pkts []*rtp.Packet) {
		for _, p := range pkts {
			b, err := p.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			if _, err := c.Write(b); err != nil {
				t.Fatal(err)
			}
		}
	}
	start := time.Now()
	vi := 0
	for ai := range opus {
		write(ac, apk.Packetize(opus[ai], 960))
		for vi < len(frames) && time.Duration(vi)*time.Second/time.Duration(fps) <= time.Duration(ai)*20*time.Millisecond {
			write(vc, vpk.Packetize(frames[vi], uint32(90000/fps)))
			vi++
		}
		time.Sleep(time.Until(start.Add(time.Duration(ai+1) * 20 * time.Millisecond)))
	}
	for ; vi < len(frames); vi++ {
		write(vc, vpk.Packetize(frames[vi], uint32(90000/fps)))
	}
	time.Sleep(100 * time.Millisecond)
	if sum := tg.End(s); sum.Status != "COMPLETE" {
		t.Fatalf("summary %+v", sum)
	}
	tg.WaitStored(s.RecordingID)
	return s
}

// TestExportH264Session: an RTP session with H.264 video (PT 102,
// packetization-mode 1 through pion's payloader: STAP-A parameter sets,
// FU-A slices) and Opus audio exports as an Annex B stream and as
// Matroska that ffprobe reads with every frame and the call's duration,
// and that ffmpeg decodes without an error; WebM refuses H.264.
func TestExportH264Session(t *testing.T) {
	gatewaytest.NeedFFmpeg(t)
	const seconds, fps = 3, 30
	aus := ffmpegH264AccessUnits(t, seconds, fps)
	opus := gatewaytest.FFmpegOpusPackets(t, seconds)
	tg := gatewaytest.Start(t, nil)
	s := sendVideoCall(t, tg, "rtp-h264-1", "H264", 102, &codecs.H264Payloader{}, aus, opus, fps)

	b, _ := tg.ExportTrack(s.RecordingID, playback.FormatH264, "")
	path := gatewaytest.WriteTemp(t, "call.h264", b)
	v := gatewaytest.FFprobeStream(t, path, "v")
	if v.Codec != "h264" || v.Width != 320 || v.Frames != len(aus) {
		t.Fatalf("h264: %s %dpx %d frames; sent %d", v.Codec, v.Width, v.Frames, len(aus))
	}
	gatewaytest.FFmpegDecodes(t, path)

	b, res := tg.ExportTrack(s.RecordingID, playback.FormatMKV, "")
	path = gatewaytest.WriteTemp(t, "call.mkv", b)
	mv, ma := gatewaytest.FFprobeStream(t, path, "v"), gatewaytest.FFprobeStream(t, path, "a")
	wantV, wantA := float64(len(aus))/fps, float64(len(opus))*0.020
	if mv.Codec != "h264" || mv.Frames != len(aus) || mv.Width != 320 || ma.Codec != "opus" || ma.Frames != len(opus) ||
		mv.Duration < max(wantV, wantA)-0.2 || mv.Duration > max(wantV, wantA)+0.2 {
		t.Fatalf("mkv: %+v %+v; sent %d frames %.3fs, %d Opus packets %.3fs", mv, ma, len(aus), wantV, len(opus), wantA)
	}
	if end := gatewaytest.FFprobeMediaEnd(t, path, "v"); end < wantV-0.2 || end > wantV+0.2 {
		t.Fatalf("mkv video ends at %.3fs, sent %.3fs", end, wantV)
	}
	if len(res.Tracks) != 2 || res.Tracks[0].Label != "video" || res.Tracks[1].Label != "caller" {
		t.Fatalf("tracks %+v", res.Tracks)
	}
	gatewaytest.FFmpegDecodes(t, path)

	if _, err := tg.Export(context.Background(), s.RecordingID, playback.FormatWebM, "", &bytes.Buffer{}); !errors.Is(err, export.ErrCodec) {
		t.Fatalf("webm of H.264: %v", err)
	}
	t.Logf("H.264: annex B %d frames; mkv video %d frames audio %d frames, %.3fs (sent %.3fs video, %.3fs audio)",
		v.Frames, mv.Frames, ma.Frames, mv.Duration, wantV, wantA)
}

// TestExportWebMSession: VP8 video and Opus audio of one RTP session in
// one WebM file: both codecs, every frame, the call's duration, decodable.
func TestExportWebMSession(t *testing.T) {
	gatewaytest.NeedFFmpeg(t)
	const seconds, fps = 3, 30
	vp8 := gatewaytest.FFmpegVP8Frames(t, seconds, fps)
	opus := gatewaytest.FFmpegOpusPackets(t, seconds)
	tg := gatewaytest.Start(t, nil)
	s := sendVideoCall(t, tg, "rtp-webm-1", "VP8", 96, &codecs.VP8Payloader{EnablePictureID: true}, vp8, opus, fps)

	b, _ := tg.ExportTrack(s.RecordingID, playback.FormatWebM, "")
	path := gatewaytest.WriteTemp(t, "call.webm", b)
	v, a := gatewaytest.FFprobeStream(t, path, "v"), gatewaytest.FFprobeStream(t, path, "a")
	wantV, wantA := float64(len(vp8))/fps, float64(len(opus))*0.020
	if v.Codec != "vp8" || v.Width != 320 || v.Frames != len(vp8) || a.Codec != "opus" || a.Frames != len(opus) ||
		v.Duration < max(wantV, wantA)-0.2 || v.Duration > max(wantV, wantA)+0.2 {
		t.Fatalf("webm: %+v %+v; sent %d frames %.3fs, %d Opus packets %.3fs", v, a, len(vp8), wantV, len(opus), wantA)
	}
	if end := gatewaytest.FFprobeMediaEnd(t, path, "a"); end < wantA-0.2 || end > wantA+0.2 {
		t.Fatalf("webm audio ends at %.3fs, sent %.3fs", end, wantA)
	}
	gatewaytest.FFmpegDecodes(t, path)
	format := exec.Command("ffprobe", "-v", "error", "-show_entries", "format=format_name", "-of", "csv=p=0", path)
	if out, err := format.Output(); err != nil || !bytes.Contains(out, []byte("webm")) {
		t.Fatalf("format %q %v", out, err)
	}
	t.Logf("WebM: vp8 %d frames, opus %d frames, %.3fs (sent %.3fs video, %.3fs audio)", v.Frames, a.Frames, v.Duration, wantV, wantA)
}
