package console_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/mediaseal/mediaseal/ceremony/api"
	"github.com/mediaseal/mediaseal/tests/gatewaytest"
)

// rangeGet plays recording id back as a stereo WAV under approval with
// the given Range header ("" for none).
func rangeGet(t *testing.T, tg *gatewaytest.Gateway, id, approval, rng string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest("GET", tg.URL+"/api/v2/recordings/"+id+"/media?format=wav-stereo", nil)
	req.Header.Set("Authorization", "Bearer "+tg.Principal("playback-requester-1").Token)
	if approval != "" {
		req.Header.Set(api.HeaderApproval, approval)
	}
	if rng != "" {
		req.Header.Set("Range", rng)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

// TestPlaybackRange: the playback endpoint answers one byte range with
// 206 and exactly those bytes of the whole export (first-last, first-,
// suffix), a range past the end with 416 and the length (and the
// approval stays unused), several ranges with the whole export. A range
// buys nothing the gate does not allow: without an approval it is
// refused, and an approval serves one range once. Each range is audited
// as a playback with the range it served.
func TestPlaybackRange(t *testing.T) {
	tg := gatewaytest.Start(t, gatewaytest.WithLocalCustomerKey(t))
	id := recordStereoCall(tg)
	resp, whole := rangeGet(t, tg, id, gatewaytest.PlaybackApproved(tg, id), "")
	if resp.StatusCode != 200 || resp.Header.Get("Accept-Ranges") != "bytes" || len(whole) < 1000 {
		t.Fatalf("whole: %d %v %d bytes", resp.StatusCode, resp.Header, len(whole))
	}
	n := int64(len(whole))
	for _, c := range []struct{ rng, want string }{
		{"bytes=0-43", "0-43"},
		{"bytes=100-", fmt.Sprintf("100-%d", n-1)},
		{"bytes=-300", fmt.Sprintf("%d-%d", n-300, n-1)},
		{fmt.Sprintf("bytes=%d-%d", n-10, n+500), fmt.Sprintf("%d-%d", n-10, n-1)},
	} {
		resp, b := rangeGet(t, tg, id, gatewaytest.PlaybackApproved(tg, id), c.rng)
		var first, last int64
		fmt.Sscanf(c.want, "%d-%d", &first, &last)
		if resp.StatusCode != http.StatusPartialContent || resp.Header.Get("Content-Range") != fmt.Sprintf("bytes %s/%d", c.want, n) ||
			!bytes.Equal(b, whole[first:last+1]) {
			t.Fatalf("%s: %d %q, %d bytes", c.rng, resp.StatusCode, resp.Header.Get("Content-Range"), len(b))
		}
	}
	// Past the end: 416 with the length, and the approval is still good.
	pid := gatewaytest.PlaybackApproved(tg, id)
	resp, _ = rangeGet(t, tg, id, pid, fmt.Sprintf("bytes=%d-", n))
	if resp.StatusCode != http.StatusRequestedRangeNotSatisfiable || resp.Header.Get("Content-Range") != fmt.Sprintf("bytes */%d", n) {
		t.Fatalf("past the end: %d %q", resp.StatusCode, resp.Header.Get("Content-Range"))
	}
	// Several ranges: the whole export, under the same approval.
	resp, b := rangeGet(t, tg, id, pid, "bytes=0-9,20-29")
	if resp.StatusCode != 200 || !bytes.Equal(b, whole) {
		t.Fatalf("several ranges: %d, %d bytes", resp.StatusCode, len(b))
	}
	// The approval is spent: a further range under it is refused.
	if resp, _ := rangeGet(t, tg, id, pid, "bytes=0-9"); resp.StatusCode < 400 {
		t.Fatalf("a spent approval served a range: %d", resp.StatusCode)
	}
	// No approval, no range.
	if resp, b := rangeGet(t, tg, id, "", "bytes=0-9"); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("range without an approval: %d %s", resp.StatusCode, b)
	}
	seen := 0
	m := tg.Principal("auditor-1").Must(200, "GET", "/api/v2/audit/events?action=recording.playback&limit=100", nil)
	for _, e := range m["entities"].([]any) {
		d := e.(map[string]any)["details"].(map[string]any)
		if r, ok := d["range"].(string); ok && strings.HasPrefix(r, "bytes 0-43/") && d["bytes"] == float64(44) {
			seen++
		}
	}
	if seen != 1 {
		t.Fatalf("the 0-43 playback audited %d times with its range", seen)
	}
}
