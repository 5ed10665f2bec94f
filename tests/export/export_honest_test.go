package export_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/mediaseal/mediaseal/ceremony/approvals"
	"github.com/mediaseal/mediaseal/internal/testenv"
	"github.com/mediaseal/mediaseal/tests/gatewaytest"
)

// The tests of this file play the holder of the object store: they cut,
// extend, swap, roll back and flip bits of a stored recording, then play
// it back through the API of the running gateway under an executed
// approval. Header names and error codes are spelled out, not taken from
// the api package, so that the tests also run (and fail) on a gateway
// without honest exports.

// honestRecording records a platform-key call of about a second (several
// chunks at the harness's 200 ms flush) and returns its id, the spool file
// as it was mid-call (an older version of the object), and the stored
// object with its chunk boundaries.
func honestRecording(t *testing.T, tg *gatewaytest.Gateway, ssrc uint32) (id string, older []byte) {
	t.Helper()
	s := tg.CreateCall("sales", "caller")
	snd := gatewaytest.NewSender(t, s.Tracks[0].RTP, ssrc, 440)
	snd.SendRange(0, 30, 20*time.Millisecond)
	time.Sleep(450 * time.Millisecond) // two flushes: the first chunks are on disk
	e, ok := tg.Spool().Find(s.RecordingID)
	if !ok {
		t.Fatalf("recording %s not in the spool mid-call", s.RecordingID)
	}
	older, err := os.ReadFile(e.Path)
	if err != nil {
		t.Fatal(err)
	}
	snd.SendRange(30, 60, 20*time.Millisecond)
	time.Sleep(100 * time.Millisecond)
	if sum := tg.End(s); sum.Status != "COMPLETE" {
		t.Fatalf("call: %+v", sum)
	}
	tg.WaitStored(s.RecordingID)
	return s.RecordingID, older
}

// chunkBounds returns the offset of every chunk in a sealed object and its
// length at the end: header, then 32-byte clear prefixes whose bytes
// 20..24 give the sealed length that follows (docs/format.md).
func chunkBounds(t *testing.T, tg *gatewaytest.Gateway, id string, obj []byte) []int64 {
	t.Helper()
	rec, err := tg.OpenRecording(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	off := int64(rec.HeaderLen())
	rec.Close()
	var b []int64
	for off < int64(len(obj)) {
		b = append(b, off)
		off += 32 + int64(binary.BigEndian.Uint32(obj[off+20:]))
	}
	if off != int64(len(obj)) || len(b) < 4 {
		t.Fatalf("object of %d bytes: chunks at %v, walk ends at %d (want at least 4 chunks)", len(obj), b, off)
	}
	return append(b, off)
}

// playbackAnswer is one playback's answer.
type playbackAnswer struct {
	code     int
	status   string // X-Recording-Status
	verified string // X-Recording-Verified
	ctype    string
	body     []byte
	errCode  string
}

// playbackWith plays id back as WAV with the approval pid and the extra
// query (e.g. "&salvage=true").
func playbackWith(t *testing.T, requester *gatewaytest.Principal, pid, id, query string) playbackAnswer {
	t.Helper()
	req, _ := http.NewRequest("GET", requester.TG.URL+"/api/v2/recordings/"+id+"/media?format=wav"+query, nil)
	req.Header.Set("Authorization", "Bearer "+requester.Token)
	req.Header.Set("X-Approval-Id", pid)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("playback of %s: body: %v", id, err)
	}
	a := playbackAnswer{code: resp.StatusCode, status: resp.Header.Get("X-Recording-Status"),
		verified: resp.Header.Get("X-Recording-Verified"), ctype: resp.Header.Get("Content-Type"), body: body}
	var e struct{ Code string }
	if json.Unmarshal(body, &e) == nil {
		a.errCode = e.Code
	}
	return a
}

// playbackEvents returns the recording.playback audit entries of id, oldest first.
func playbackEvents(t *testing.T, auditor *gatewaytest.Principal, id string) []map[string]any {
	t.Helper()
	var out []map[string]any
	after := "0"
	for {
		m := auditor.Must(200, "GET", "/api/v2/audit/events?limit=100&after="+after, nil)
		for _, e := range m["entities"].([]any) {
			ev := e.(map[string]any)
			if ev["action"] == "recording.playback" && ev["target"] == id {
				out = append(out, ev)
			}
		}
		if m["nextAfter"] == nil {
			return out
		}
		after = fmt.Sprint(m["nextAfter"])
	}
}

// tamperCase is one thing the object-store holder does to a stored object.
type tamperCase struct {
	name   string
	object func(orig []byte, b []int64) []byte
	// salvage is what a salvage playback of the result gives: 200 with the
	// verified prefix, or a refusal when nothing of it is this recording.
	salvage int
}

func tamperCases(older, other []byte) []tamperCase {
	return []tamperCase{
		{"first chunk only", func(o []byte, b []int64) []byte { return o[:b[1]] }, 200},
		{"cut mid-chunk", func(o []byte, b []int64) []byte { return o[:b[2]+(b[3]-b[2])/2] }, 200},
		{"final chunk dropped", func(o []byte, b []int64) []byte { return o[:b[len(b)-2]] }, 200},
		{"chunk appended", func(o []byte, b []int64) []byte { return append(append([]byte(nil), o...), o[b[1]:b[2]]...) }, 200},
		{"older version of itself", func([]byte, []int64) []byte { return older }, 200},
		{"another recording's object", func([]byte, []int64) []byte { return other }, http.StatusConflict},
		{"bit flipped", func(o []byte, b []int64) []byte {
			x := append([]byte(nil), o...)
			x[b[2]+40] ^= 0x10 // in chunk 2's ciphertext
			return x
		}, 200},
	}
}

// checkTampered plays a tampered recording back: without salvage it is
// refused before a byte of audio, with salvage (same approval, released
// by the refusal) it is the verified prefix, marked as such.
func checkTampered(t *testing.T, tg *gatewaytest.Gateway, id string, tc tamperCase, whole []byte) {
	t.Helper()
	requester := tg.Principal("playback-requester-1")
	pid := gatewaytest.PlaybackApproved(tg, id)
	a := playbackWith(t, requester, pid, id, "")
	if a.code != http.StatusConflict || a.errCode != "recording_integrity" || bytes.HasPrefix(a.body, []byte("RIFF")) ||
		!strings.HasPrefix(a.ctype, "application/json") || a.status != "" {
		t.Fatalf("%s: playback answered %d %q (%s, status %q): %.200s", tc.name, a.code, a.errCode, a.ctype, a.status, a.body)
	}
	s := playbackWith(t, requester, pid, id, "&salvage=true")
	if s.code != tc.salvage {
		t.Fatalf("%s: salvage playback answered %d, want %d: %.200s", tc.name, s.code, tc.salvage, s.body)
	}
	if s.code != 200 {
		return
	}
	// (The final chunk may hold no media: without it the audio can be as
	// long as the whole, never longer.)
	if s.status != "TRUNCATED" || s.verified != "false" || !bytes.HasPrefix(s.body, []byte("RIFF")) || len(s.body) > len(whole) {
		t.Fatalf("%s: salvage gave %d bytes (whole: %d), status %q verified %q", tc.name, len(s.body), len(whole), s.status, s.verified)
	}
	// The prefix is the whole recording's audio, cut short.
	got, want := gatewaytest.ParseWAV(t, s.body).Samples[0], gatewaytest.ParseWAV(t, whole).Samples[0]
	if len(got) == 0 || !gatewaytest.EqualPCM(got, want[:len(got)]) {
		t.Fatalf("%s: salvaged %d samples, not a prefix of the recording's %d", tc.name, len(got), len(want))
	}
}

// checkPlaybackAudit: every refusal is a failure entry, every salvage a
// success entry that says salvage, TRUNCATED and not verified.
func checkPlaybackAudit(t *testing.T, tg *gatewaytest.Gateway, id string, refusals, salvaged int) {
	t.Helper()
	var fail, salv int
	for _, ev := range playbackEvents(t, tg.Principal("auditor-1"), id) {
		d, _ := ev["details"].(map[string]any)
		switch {
		case ev["outcome"] == "failure" && d["salvage"] == false:
			if !strings.Contains(fmt.Sprint(d["reason"]), "does not match its index") {
				t.Errorf("refusal audited with reason %v", d["reason"])
			}
			fail++
		case ev["outcome"] == "success" && d["salvage"] == true && d["readStatus"] == "TRUNCATED" && d["verified"] == false:
			salv++
		}
	}
	if fail != refusals || salv != salvaged {
		t.Fatalf("audit of %s: %d refusals, %d salvages; want %d and %d", id, fail, salv, refusals, salvaged)
	}
}

// TestHonestExportFS: every way the object-store holder can cut, extend,
// swap, roll back or alter a stored object is refused before any audio is
// released, audited as a failure; a salvage playback returns the verified
// prefix, says TRUNCATED and unverified, and is audited as a salvage.
func TestHonestExportFS(t *testing.T) {
	tg := gatewaytest.Start(t, nil)
	id, older := honestRecording(t, tg, 51)
	other, _ := honestRecording(t, tg, 52)
	rec, err := tg.Store().GetRecording(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	otherRec, err := tg.Store().GetRecording(t.Context(), other)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(tg.Config().RecordingsDir(), filepath.FromSlash(rec.ObjectKey))
	orig, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	otherObj, err := os.ReadFile(filepath.Join(tg.Config().RecordingsDir(), filepath.FromSlash(otherRec.ObjectKey)))
	if err != nil {
		t.Fatal(err)
	}
	bounds := chunkBounds(t, tg, id, orig)
	requester := tg.Principal("playback-requester-1")
	whole := playbackWith(t, requester, gatewaytest.PlaybackApproved(tg, id), id, "")
	if whole.code != 200 || whole.status != "COMPLETE" || whole.verified != "true" {
		t.Fatalf("untampered playback: %d status %q verified %q: %.200s", whole.code, whole.status, whole.verified, whole.body)
	}

	cases := tamperCases(older, otherObj)
	salvaged := 0
	for _, tc := range cases {
		if err := os.WriteFile(path, tc.object(orig, bounds), 0o600); err != nil {
			t.Fatal(err)
		}
		checkTampered(t, tg, id, tc, whole.body)
		if tc.salvage == 200 {
			salvaged++
		}
	}
	if err := os.WriteFile(path, orig, 0o600); err != nil {
		t.Fatal(err)
	}
	if again := playbackWith(t, requester, gatewaytest.PlaybackApproved(tg, id), id, ""); again.code != 200 || !bytes.Equal(again.body, whole.body) {
		t.Fatalf("restored object: %d, %d bytes", again.code, len(again.body))
	}
	checkPlaybackAudit(t, tg, id, len(cases), salvaged)
}

// TestHonestExportActive: a recording the index does not call COMPLETE
// (here: still being recorded) is refused as incomplete; a salvage gives
// what is sealed so far, TRUNCATED.
func TestHonestExportActive(t *testing.T) {
	tg := gatewaytest.Start(t, nil)
	s := tg.CreateCall("sales", "caller")
	gatewaytest.NewSender(t, s.Tracks[0].RTP, 53, 440).SendRange(0, 25, 20*time.Millisecond)
	time.Sleep(450 * time.Millisecond)
	requester := tg.Principal("playback-requester-1")
	pid := gatewaytest.PlaybackApproved(tg, s.RecordingID)
	if a := playbackWith(t, requester, pid, s.RecordingID, ""); a.code != http.StatusConflict || a.errCode != "recording_incomplete" {
		t.Fatalf("playback of an ACTIVE recording: %d %q: %.200s", a.code, a.errCode, a.body)
	}
	a := playbackWith(t, requester, pid, s.RecordingID, "&salvage=true")
	if a.code != 200 || a.status != "TRUNCATED" || a.verified != "false" || len(gatewaytest.ParseWAV(t, a.body).Samples[0]) == 0 {
		t.Fatalf("salvage of an ACTIVE recording: %d status %q verified %q, %d bytes", a.code, a.status, a.verified, len(a.body))
	}
	if a := playbackWith(t, requester, gatewaytest.PlaybackApproved(tg, s.RecordingID), s.RecordingID, "&salvage=maybe"); a.code != http.StatusBadRequest {
		t.Fatalf("salvage=maybe: %d", a.code)
	}
	tg.End(s)
}

// TestHonestExportS3 tampers through the S3 API of versitygw, as the
// bucket's holder would: the object cut to its first chunk, then an older
// version of itself put back, then another recording's object.
func TestHonestExportS3(t *testing.T) {
	vg := testenv.StartVersityGW(t)
	tg := gatewaytest.Start(t, gatewaytest.WithS3(vg))
	id, older := honestRecording(t, tg, 54)
	other, _ := honestRecording(t, tg, 55)
	objs := gatewaytest.BucketObjects(t, vg)
	rec, _ := tg.Store().GetRecording(t.Context(), id)
	otherRec, _ := tg.Store().GetRecording(t.Context(), other)
	orig, otherObj := objs[rec.ObjectKey], objs[otherRec.ObjectKey]
	if len(orig) == 0 || len(otherObj) == 0 {
		t.Fatalf("objects %q and %q not in the bucket", rec.ObjectKey, otherRec.ObjectKey)
	}
	bounds := chunkBounds(t, tg, id, orig)
	requester := tg.Principal("playback-requester-1")
	whole := playbackWith(t, requester, gatewaytest.PlaybackApproved(tg, id), id, "")
	if whole.code != 200 || whole.verified != "true" {
		t.Fatalf("untampered playback: %d: %.200s", whole.code, whole.body)
	}
	put := func(b []byte) {
		_, err := vg.Client().PutObject(t.Context(), &s3.PutObjectInput{Bucket: aws.String(vg.Bucket), Key: aws.String(rec.ObjectKey), Body: bytes.NewReader(b)})
		if err != nil {
			t.Fatal(err)
		}
	}
	cases := tamperCases(older, otherObj)
	var picked []tamperCase
	for _, tc := range cases {
		switch tc.name {
		case "first chunk only", "older version of itself", "another recording's object", "bit flipped":
			picked = append(picked, tc)
		}
	}
	salvaged := 0
	for _, tc := range picked {
		put(tc.object(orig, bounds))
		checkTampered(t, tg, id, tc, whole.body)
		if tc.salvage == 200 {
			salvaged++
		}
	}
	checkPlaybackAudit(t, tg, id, len(picked), salvaged)
}

// TestHonestExportCLI: `mediaseal export` of a recording cut to its first
// chunk fails, online (through the playback API) and offline, and leaves
// no file; with --salvage it writes the prefix and says SALVAGED, never
// "verified"; `mediaseal verify` fails on it.
func TestHonestExportCLI(t *testing.T) {
	tg := gatewaytest.Start(t, nil)
	id, _ := honestRecording(t, tg, 56)
	rec, _ := tg.Store().GetRecording(t.Context(), id)
	path := filepath.Join(tg.Config().RecordingsDir(), filepath.FromSlash(rec.ObjectKey))
	orig, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	bounds := chunkBounds(t, tg, id, orig)
	if err := os.WriteFile(path, orig[:bounds[1]], 0o600); err != nil {
		t.Fatal(err)
	}
	// A binary of this tree: the shared one under .tools may be another
	// checkout's.
	dir := t.TempDir()
	bin := filepath.Join(dir, "mediaseal")
	build := exec.Command("go", "build", "-o", bin, "./cmd/mediaseal")
	build.Dir = testenv.RepoRoot(t)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	tokFile := filepath.Join(dir, "playback.token")
	if err := os.WriteFile(tokFile, []byte(tg.Principal("playback-requester-1").Token), 0o600); err != nil {
		t.Fatal(err)
	}
	// The offline export of a platform-key recording needs no approval
	// once the quorum has changed the stored rule (a config file cannot).
	gatewaytest.ChangeQuorumRule(t, tg, tg, approvals.OpPlayback, gatewaytest.PlaybackRule(2, false))
	cfgPath := filepath.Join(dir, "open.yaml")
	os.WriteFile(cfgPath, []byte(fmt.Sprintf("dataDir: %s\n", tg.Config().DataDir)), 0o600)
	run := func(args ...string) (string, error) {
		out, err := exec.Command(bin, args...).CombinedOutput()
		return string(out), err
	}
	out := filepath.Join(dir, "out.wav")
	pid := gatewaytest.PlaybackApproved(tg, id)
	online := []string{"--data-dir", tg.Config().DataDir, "export", "--recording", id, "--format", "wav", "--out", out,
		"--approval-id", pid, "--token-file", tokFile, "--api", tg.URL}
	offline := []string{"-c", cfgPath, "export", "--recording", id, "--format", "wav", "--out", out}
	for name, args := range map[string][]string{"online": online, "offline": offline} {
		msg, err := run(args...)
		if err == nil || strings.Contains(msg, "verified") || !strings.Contains(msg, "does not match its index") {
			t.Fatalf("%s export of a cut recording: %v\n%s", name, err, msg)
		}
		if _, err := os.Stat(out); !os.IsNotExist(err) {
			t.Fatalf("%s: a refused export left %s", name, out)
		}
		msg, err = run(append(args, "--salvage")...)
		if err != nil || strings.Contains(msg, "verified") || !strings.Contains(msg, "SALVAGED") || !strings.Contains(msg, "TRUNCATED") {
			t.Fatalf("%s salvage export: %v\n%s", name, err, msg)
		}
		if b, err := os.ReadFile(out); err != nil || len(gatewaytest.ParseWAV(t, b).Samples[0]) == 0 {
			t.Fatalf("%s salvage wrote %d bytes: %v", name, len(b), err)
		}
		os.Remove(out)
	}
	if msg, err := run("--data-dir", tg.Config().DataDir, "verify", "--recording", id); err == nil || !strings.Contains(msg, "TRUNCATED") {
		t.Fatalf("verify of a cut recording: %v\n%s", err, msg)
	}
	if err := os.WriteFile(path, orig, 0o600); err != nil {
		t.Fatal(err)
	}
	if msg, err := run(offline...); err != nil || !strings.Contains(msg, "verified against the index") {
		t.Fatalf("offline export of the restored recording: %v\n%s", err, msg)
	}
}
