package api

import (
	"net/url"
	"testing"
	"time"

	"github.com/mediaseal/mediaseal/ceremony/store"
)

func TestRecordingCursorRoundTrip(t *testing.T) {
	d := filterDigest(url.Values{"agentId": {"a"}, "limit": {"1"}})
	if d != filterDigest(url.Values{"agentId": {"a"}, "cursor": {"x"}}) {
		t.Fatal("page parameters change the filter digest")
	}
	last := store.Recording{ID: "r1", StartedAt: time.Unix(0, 1234567890).UTC()}
	pos, err := decodeCursor(encodeCursor(last, d), d)
	if err != nil || pos.ID != "r1" || !pos.StartedAt.Equal(last.StartedAt) {
		t.Fatalf("round trip: %+v %v", pos, err)
	}
	if _, err := decodeCursor(encodeCursor(last, d), filterDigest(url.Values{"agentId": {"b"}})); err == nil {
		t.Fatal("a cursor of another filter was accepted")
	}
}

func FuzzDecodeCursor(f *testing.F) {
	d := filterDigest(url.Values{})
	f.Add(encodeCursor(store.Recording{ID: "r", StartedAt: time.Unix(1, 0)}, d))
	f.Add("e30")
	f.Fuzz(func(t *testing.T, s string) {
		pos, err := decodeCursor(s, d)
		if err == nil && (pos.ID == "" || pos.StartedAt.UnixNano() <= 0) {
			t.Fatalf("accepted an empty position from %q", s)
		}
	})
}
