package whip_test

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/mediaseal/mediaseal/internal/config"
	mmedia "github.com/mediaseal/mediaseal/media"
	"github.com/mediaseal/mediaseal/tests/gatewaytest"
)

func wantHeader(name, re string) func(*testing.T, *http.Response, string) {
	return func(t *testing.T, resp *http.Response, _ string) {
		t.Helper()
		if v := resp.Header.Get(name); !regexp.MustCompile(re).MatchString(v) {
			t.Fatalf("header %s = %q, want /%s/", name, v, re)
		}
	}
}

func wantError(substr string) func(*testing.T, *http.Response, string) {
	return func(t *testing.T, _ *http.Response, body string) {
		t.Helper()
		var e gatewaytest.ErrorBody
		if err := json.Unmarshal([]byte(body), &e); err != nil || e.Code == "" || !strings.Contains(e.Message, substr) {
			t.Fatalf("error body %q does not mention %q", body, substr)
		}
	}
}

const sdpType, fragType = "application/sdp", "application/trickle-ice-sdpfrag"

// TestWHIPProtocol walks every status code of the endpoint on a real
// gateway: authorization, content types, bad offers and metadata, the
// 201 answer with Location/ETag/Link, a duplicate offer, every PATCH
// outcome (trickle, ICE restart, 428, 412, 422) and DELETE.
func TestWHIPProtocol(t *testing.T) {
	tg := gatewaytest.Start(t, func(c *config.Config) {
		c.WHIP.ICEServers = []config.ICEServer{{URLs: []string{"stun:stun.example.net:3478"}},
			{URLs: []string{"turn:turn.example.net:3478?transport=udp"}, Username: "u1", Credential: "secret"}}
	})
	p := newPublisher(t, true, false)
	q := callQuery("proto-1")
	origin := map[string]string{"Origin": "https://agent.example"}
	tg.RunWHIPCases(t, []gatewaytest.WhipCase{
		{Name: "preflight", Method: "OPTIONS", Path: "/whip", Hdr: map[string]string{"Origin": "https://agent.example",
			"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization, content-type"},
			Want: http.StatusNoContent, Check: func(t *testing.T, r *http.Response, b string) {
				wantHeader("Access-Control-Allow-Origin", `^\*$`)(t, r, b)
				wantHeader("Access-Control-Allow-Methods", "POST")(t, r, b)
				wantHeader("Access-Control-Allow-Headers", "Authorization.*If-Match.*X-Mediaseal-Call-Id")(t, r, b)
				wantHeader("Accept-Post", "application/sdp")(t, r, b)
			}},
		{Name: "missing token", Method: "POST", Path: "/whip" + q, Ctype: sdpType, Body: p.offer,
			Hdr: map[string]string{"Authorization": "", "Origin": "https://agent.example"}, Want: http.StatusUnauthorized,
			Check: func(t *testing.T, r *http.Response, b string) {
				wantHeader("WWW-Authenticate", "Bearer")(t, r, b)
				wantHeader("Access-Control-Allow-Origin", `\*`)(t, r, b) // the page can read the error
				wantError("missing bearer token")(t, r, b)
			}},
		{Name: "wrong token", Method: "POST", Path: "/whip" + q, Ctype: sdpType, Body: p.offer,
			Hdr: map[string]string{"Authorization": "Bearer nope"}, Want: http.StatusUnauthorized, Check: wantError("invalid token")},
		{Name: "content type", Method: "POST", Path: "/whip" + q, Ctype: "application/json", Body: p.offer, Want: http.StatusUnsupportedMediaType,
			Check: wantHeader("Accept-Post", "application/sdp")},
		{Name: "bad SDP", Method: "POST", Path: "/whip" + q, Ctype: sdpType, Body: "v=0\r\nthis is not SDP\r\n", Want: http.StatusBadRequest,
			Check: wantError("invalid SDP offer")},
		{Name: "no recordable media", Method: "POST", Path: "/whip" + q, Ctype: sdpType,
			Body: strings.ReplaceAll(p.offer, "opus/48000", "PCMA/8000"), Want: http.StatusBadRequest, Check: wantError("Opus")},
		{Name: "missing callId", Method: "POST", Path: "/whip?queueId=sales&direction=INBOUND", Ctype: sdpType, Body: p.offer,
			Want: http.StatusBadRequest, Check: wantError("callId")},
		{Name: "bad direction", Method: "POST", Path: "/whip?callId=x&direction=SIDEWAYS", Ctype: sdpType, Body: p.offer,
			Want: http.StatusBadRequest, Check: wantError("direction")},
		{Name: "query and header disagree", Method: "POST", Path: "/whip" + q, Ctype: sdpType, Body: p.offer,
			Hdr: map[string]string{"X-Mediaseal-Queue-Id": "support"}, Want: http.StatusBadRequest, Check: wantError("disagree")},
		{Name: "GET not allowed", Method: "GET", Path: "/whip", Want: http.StatusMethodNotAllowed},
		{Name: "DELETE unknown", Method: "DELETE", Path: "/whip/0123456789abcdef0123456789abcdef", Want: http.StatusNotFound,
			Check: wantError("no such WHIP session")},
		{Name: "PATCH unknown", Method: "PATCH", Path: "/whip/0123456789abcdef0123456789abcdef", Ctype: fragType,
			Body: "a=end-of-candidates\r\n", Hdr: map[string]string{"If-Match": "*"}, Want: http.StatusNotFound},
	})

	// Headers instead of the query string work the same way.
	hdrMeta := map[string]string{"X-Mediaseal-Call-Id": "proto-1", "X-Mediaseal-Queue-Id": "sales",
		"X-Mediaseal-Direction": "inbound", "Origin": origin["Origin"]}
	resp := tg.WhipRequest("POST", "/whip", sdpType, p.offer, hdrMeta)
	answer := gatewaytest.ReadAll(t, resp)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST: %d %s", resp.StatusCode, answer)
	}
	loc, etag := resp.Header.Get("Location"), resp.Header.Get("ETag")
	for name, re := range map[string]string{"Location": `^/whip/[0-9a-f]{32}$`, "ETag": `^"[0-9a-f]{24}"$`,
		"Content-Type": "^application/sdp$", "Accept-Patch": fragType, "X-Mediaseal-Recorded": "^true$",
		"Access-Control-Expose-Headers": "Location.*ETag.*Link"} {
		wantHeader(name, re)(t, resp, "")
	}
	if links := resp.Header.Values("Link"); len(links) != 2 || links[0] != `<stun:stun.example.net:3478>; rel="ice-server"` ||
		links[1] != `<turn:turn.example.net:3478?transport=udp>; rel="ice-server"; username="u1"; credential="secret"; credential-type="password"` {
		t.Fatalf("Link headers: %q", links)
	}
	if !strings.HasPrefix(answer, "v=0") || !strings.Contains(answer, "a=candidate:") || !strings.Contains(answer, "opus/48000") {
		t.Fatalf("answer:\n%s", answer)
	}
	s, ok := tg.Media().Get(resp.Header.Get("X-Mediaseal-Session-Id"))
	if !ok || s.Request.QueueID != "sales" || s.Request.Direction != "INBOUND" || len(s.Tracks) != 1 ||
		s.Tracks[0].Label != "caller" || s.Tracks[0].Codec != "opus" || s.Tracks[0].ClockRate != 48000 {
		t.Fatalf("media session: %+v", s)
	}

	restart := "a=ice-ufrag:Rst1\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\n" +
		"a=candidate:1 1 udp 2130706431 192.0.2.99 9 typ host\r\na=end-of-candidates\r\n"
	trickle := "a=candidate:2 1 udp 2130706431 192.0.2.98 9 typ host\r\n"
	var newETag string
	tg.RunWHIPCases(t, []gatewaytest.WhipCase{
		{Name: "same offer again", Method: "POST", Path: "/whip" + q, Ctype: sdpType, Body: p.offer, Want: http.StatusConflict,
			Check: func(t *testing.T, r *http.Response, b string) {
				wantHeader("Location", "^"+loc+"$")(t, r, b)
				wantError("already in use")(t, r, b)
			}},
		{Name: "PATCH without If-Match", Method: "PATCH", Path: loc, Ctype: fragType, Body: trickle, Want: http.StatusPreconditionRequired},
		{Name: "PATCH content type", Method: "PATCH", Path: loc, Ctype: sdpType, Body: trickle,
			Hdr: map[string]string{"If-Match": etag}, Want: http.StatusUnsupportedMediaType},
		{Name: "PATCH stale ETag", Method: "PATCH", Path: loc, Ctype: fragType, Body: trickle,
			Hdr: map[string]string{"If-Match": `"stale"`}, Want: http.StatusPreconditionFailed, Check: wantHeader("ETag", "^"+etag+"$")},
		{Name: "PATCH bad fragment", Method: "PATCH", Path: loc, Ctype: fragType, Body: "v=0\r\nhello\r\n",
			Hdr: map[string]string{"If-Match": etag}, Want: http.StatusBadRequest},
		{Name: "restart without new credentials", Method: "PATCH", Path: loc, Ctype: fragType, Body: trickle,
			Hdr: map[string]string{"If-Match": "*"}, Want: http.StatusUnprocessableEntity, Check: wantError("ICE restart")},
		{Name: "new credentials without restart", Method: "PATCH", Path: loc, Ctype: fragType, Body: restart,
			Hdr: map[string]string{"If-Match": etag}, Want: http.StatusUnprocessableEntity, Check: wantError("If-Match: *")},
		{Name: "trickle", Method: "PATCH", Path: loc, Ctype: fragType, Body: trickle,
			Hdr: map[string]string{"If-Match": etag}, Want: http.StatusNoContent},
		{Name: "ICE restart", Method: "PATCH", Path: loc, Ctype: fragType, Body: restart,
			Hdr: map[string]string{"If-Match": "*"}, Want: http.StatusOK, Check: func(t *testing.T, r *http.Response, b string) {
				wantHeader("Content-Type", "^"+fragType+"$")(t, r, b)
				newETag = r.Header.Get("ETag")
				if newETag == "" || newETag == etag {
					t.Fatalf("ICE restart kept ETag %q", newETag)
				}
				m := regexp.MustCompile(`a=ice-ufrag:(\S+)`).FindStringSubmatch(b)
				if m == nil || strings.Contains(answer, "a=ice-ufrag:"+m[1]+"\r\n") || !strings.Contains(b, "a=candidate:") {
					t.Fatalf("restart fragment must carry new credentials and candidates:\n%s", b)
				}
			}},
	})
	tg.RunWHIPCases(t, []gatewaytest.WhipCase{
		{Name: "old ETag after restart", Method: "PATCH", Path: loc, Ctype: fragType, Body: trickle,
			Hdr: map[string]string{"If-Match": etag}, Want: http.StatusPreconditionFailed},
		{Name: "trickle after restart", Method: "PATCH", Path: loc, Ctype: fragType, Body: trickle,
			Hdr: map[string]string{"If-Match": newETag}, Want: http.StatusNoContent},
		{Name: "session URL preflight", Method: "OPTIONS", Path: loc, Hdr: map[string]string{"Origin": "https://agent.example",
			"Access-Control-Request-Method": "PATCH"}, Want: http.StatusNoContent, Check: wantHeader("Access-Control-Allow-Methods", "PATCH, DELETE")},
		{Name: "DELETE", Method: "DELETE", Path: loc, Want: http.StatusOK, Check: func(t *testing.T, _ *http.Response, b string) {
			var sum mmedia.Summary
			if err := json.Unmarshal([]byte(b), &sum); err != nil || sum.EndReason != "whip-delete" || !sum.Recorded {
				t.Fatalf("DELETE summary %s: %v", b, err)
			}
		}},
		{Name: "DELETE again", Method: "DELETE", Path: loc, Want: http.StatusNotFound},
		// The offer's credentials are free again once the session is gone.
		{Name: "offer reused after DELETE", Method: "POST", Path: "/whip" + q, Ctype: sdpType, Body: p.offer, Want: http.StatusCreated},
	})
}

// TestWHIPLimits: 503 + Retry-After at the session cap, 429 + Retry-After
// beyond the POST rate.
func TestWHIPLimits(t *testing.T) {
	tg := gatewaytest.Start(t, func(c *config.Config) {
		c.WHIP.MaxSessions = 1
		c.WHIP.PostRate, c.WHIP.PostBurst = 0.001, 3
	})
	offers := make([]*publisher, 4)
	for i := range offers {
		offers[i] = newPublisher(t, true, false)
	}
	var loc string
	tg.RunWHIPCases(t, []gatewaytest.WhipCase{
		{Name: "first", Method: "POST", Path: "/whip" + callQuery("lim-1"), Ctype: sdpType, Body: offers[0].offer, Want: http.StatusCreated,
			Check: func(_ *testing.T, r *http.Response, _ string) { loc = r.Header.Get("Location") }},
		{Name: "at capacity", Method: "POST", Path: "/whip" + callQuery("lim-2"), Ctype: sdpType, Body: offers[1].offer,
			Want: http.StatusServiceUnavailable, Check: wantHeader("Retry-After", `^[1-9][0-9]*$`)},
	})
	tg.RunWHIPCases(t, []gatewaytest.WhipCase{
		{Name: "end first", Method: "DELETE", Path: loc, Want: http.StatusOK},
		{Name: "room again", Method: "POST", Path: "/whip" + callQuery("lim-3"), Ctype: sdpType, Body: offers[2].offer, Want: http.StatusCreated},
		{Name: "rate limited", Method: "POST", Path: "/whip" + callQuery("lim-4"), Ctype: sdpType, Body: offers[3].offer,
			Want: http.StatusTooManyRequests, Check: wantHeader("Retry-After", `^[1-9][0-9]*$`)},
	})
}
