package whip

import (
	"errors"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// FuzzParseMeta reads WHIP call metadata from an arbitrary query string
// and X-Mediaseal-* header values. It must not panic; every error is
// ErrBadMeta; a field given in both places with different values is
// refused; and what it accepts, written back as a query, parses to the
// same metadata (nothing a client sends is read two ways).
func FuzzParseMeta(f *testing.F) {
	f.Add("callId=c1&queueId=q&direction=inbound&callerId=%2B44&agentId=a7", "", "", "")
	f.Add("callId=c3", "c3", "", "agent")
	f.Add("callId=c3", "c4", "OUTBOUND", "")
	f.Add("queueId=a&queueId=b", "", "", "")
	f.Add("direction=%C3%9F&audioLabel=", "", "inbound", "video")
	f.Fuzz(func(t *testing.T, query, callHdr, dirHdr, labelHdr string) {
		u, err := url.Parse("/whip")
		if err != nil {
			t.Fatal(err)
		}
		u.RawQuery = query
		r := httptest.NewRequest("POST", "/whip", nil)
		r.URL = u
		hdr := map[string]string{"X-Mediaseal-Call-Id": callHdr, "X-Mediaseal-Direction": dirHdr, "X-Mediaseal-Audio-Label": labelHdr}
		for k, v := range hdr {
			if v != "" {
				r.Header.Set(k, v)
			}
		}
		m, err := ParseMeta(r)
		if err != nil {
			if !errors.Is(err, ErrBadMeta) {
				t.Fatalf("error %v is not ErrBadMeta", err)
			}
			return
		}
		q := u.Query()
		if qv := q.Get("callId"); qv != "" && callHdr != "" && qv != callHdr {
			t.Fatalf("query callId %q and header %q disagree, accepted as %q", qv, callHdr, m.CallID)
		}
		if m.AudioLabel == "" || m.Direction != strings.ToUpper(m.Direction) {
			t.Fatalf("accepted %+v", m)
		}
		back := url.Values{}
		for k, v := range map[string]string{"callId": m.CallID, "queueId": m.QueueID, "direction": m.Direction,
			"callerId": m.CallerID, "agentId": m.AgentID, "audioLabel": m.AudioLabel} {
			if v != "" {
				back.Set(k, v)
			}
		}
		m2, err := ParseMeta(httptest.NewRequest("POST", "/whip?"+back.Encode(), nil))
		if err != nil || m2 != m {
			t.Fatalf("round trip: %+v %v, want %+v", m2, err, m)
		}
	})
}
