package gateway

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/mediaseal/mediaseal/internal/config"
	mmedia "github.com/mediaseal/mediaseal/media"
)

// whipCase is one request and the status (and headers) it must get.
type whipCase struct {
	name, method, path, ctype, body string
	hdr                             map[string]string
	want                            int
	check                           func(t *testing.T, resp *http.Response, body string)
}

func (tg *testGateway) runWHIPCases(t *testing.T, cases []whipCase) {
	t.Helper()
	for _, c := range cases {
		resp := tg.whipRequest(c.method, c.path, c.ctype, c.body, c.hdr)
		body := readAll(t, resp)
		if resp.StatusCode != c.want {
			t.Fatalf("%s: %s %s: got %d, want %d: %s", c.name, c.method, c.path, resp.StatusCode, c.want, body)
		}
		if c.check != nil {
			c.check(t, resp, body)
		}
	}
}

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
		var e errorBody
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
	tg := startGateway(t, func(c *config.Config) {
		c.WHIP.ICEServers = []config.ICEServer{{URLs: []string{"stun:stun.example.net:3478"}},
			{URLs: []string{"turn:turn.example.net:3478?transport=udp"}, Username: "u1", Credential: "secret"}}
	})
	p := newPublisher(t, true, false)
	q := callQuery("proto-1")
	origin := map[string]string{"Origin": "https://agent.example"}
	tg.runWHIPCases(t, []whipCase{
		{name: "preflight", method: "OPTIONS", path: "/whip", hdr: map[string]string{"Origin": "https://agent.example",
			"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization, content-type"},
			want: http.StatusNoContent, check: func(t *testing.T, r *http.Response, b string) {
				wantHeader("Access-Control-Allow-Origin", `^\*$`)(t, r, b)
				wantHeader("Access-Control-Allow-Methods", "POST")(t, r, b)
				wantHeader("Access-Control-Allow-Headers", "Authorization.*If-Match.*X-Mediaseal-Call-Id")(t, r, b)
				wantHeader("Accept-Post", "application/sdp")(t, r, b)
			}},
		{name: "missing token", method: "POST", path: "/whip" + q, ctype: sdpType, body: p.offer,
			hdr: map[string]string{"Authorization": "", "Origin": "https://agent.example"}, want: http.StatusUnauthorized,
			check: func(t *testing.T, r *http.Response, b string) {
				wantHeader("WWW-Authenticate", "Bearer")(t, r, b)
				wantHeader("Access-Control-Allow-Origin", `\*`)(t, r, b) // the page can read the error
				wantError("missing bearer token")(t, r, b)
			}},
		{name: "wrong token", method: "POST", path: "/whip" + q, ctype: sdpType, body: p.offer,
			hdr: map[string]string{"Authorization": "Bearer nope"}, want: http.StatusUnauthorized, check: wantError("invalid token")},
		{name: "content type", method: "POST", path: "/whip" + q, ctype: "application/json", body: p.offer, want: http.StatusUnsupportedMediaType,
			check: wantHeader("Accept-Post", "application/sdp")},
		{name: "bad SDP", method: "POST", path: "/whip" + q, ctype: sdpType, body: "v=0\r\nthis is not SDP\r\n", want: http.StatusBadRequest,
			check: wantError("invalid SDP offer")},
		{name: "no recordable media", method: "POST", path: "/whip" + q, ctype: sdpType,
			body: strings.ReplaceAll(p.offer, "opus/48000", "PCMA/8000"), want: http.StatusBadRequest, check: wantError("Opus")},
		{name: "missing callId", method: "POST", path: "/whip?queueId=sales&direction=INBOUND", ctype: sdpType, body: p.offer,
			want: http.StatusBadRequest, check: wantError("callId")},
		{name: "bad direction", method: "POST", path: "/whip?callId=x&direction=SIDEWAYS", ctype: sdpType, body: p.offer,
			want: http.StatusBadRequest, check: wantError("direction")},
		{name: "query and header disagree", method: "POST", path: "/whip" + q, ctype: sdpType, body: p.offer,
			hdr: map[string]string{"X-Mediaseal-Queue-Id": "support"}, want: http.StatusBadRequest, check: wantError("disagree")},
		{name: "GET not allowed", method: "GET", path: "/whip", want: http.StatusMethodNotAllowed},
		{name: "DELETE unknown", method: "DELETE", path: "/whip/0123456789abcdef0123456789abcdef", want: http.StatusNotFound,
			check: wantError("no such WHIP session")},
		{name: "PATCH unknown", method: "PATCH", path: "/whip/0123456789abcdef0123456789abcdef", ctype: fragType,
			body: "a=end-of-candidates\r\n", hdr: map[string]string{"If-Match": "*"}, want: http.StatusNotFound},
	})

	// Headers instead of the query string work the same way.
	hdrMeta := map[string]string{"X-Mediaseal-Call-Id": "proto-1", "X-Mediaseal-Queue-Id": "sales",
		"X-Mediaseal-Direction": "inbound", "Origin": origin["Origin"]}
	resp := tg.whipRequest("POST", "/whip", sdpType, p.offer, hdrMeta)
	answer := readAll(t, resp)
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
	s, ok := tg.media.Get(resp.Header.Get("X-Mediaseal-Session-Id"))
	if !ok || s.Request.QueueID != "sales" || s.Request.Direction != "INBOUND" || len(s.Tracks) != 1 ||
		s.Tracks[0].Label != "caller" || s.Tracks[0].Codec != "opus" || s.Tracks[0].ClockRate != 48000 {
		t.Fatalf("media session: %+v", s)
	}

	restart := "a=ice-ufrag:Rst1\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\n" +
		"a=candidate:1 1 udp 2130706431 192.0.2.99 9 typ host\r\na=end-of-candidates\r\n"
	trickle := "a=candidate:2 1 udp 2130706431 192.0.2.98 9 typ host\r\n"
	var newETag string
	tg.runWHIPCases(t, []whipCase{
		{name: "same offer again", method: "POST", path: "/whip" + q, ctype: sdpType, body: p.offer, want: http.StatusConflict,
			check: func(t *testing.T, r *http.Response, b string) {
				wantHeader("Location", "^"+loc+"$")(t, r, b)
				wantError("already in use")(t, r, b)
			}},
		{name: "PATCH without If-Match", method: "PATCH", path: loc, ctype: fragType, body: trickle, want: http.StatusPreconditionRequired},
		{name: "PATCH content type", method: "PATCH", path: loc, ctype: sdpType, body: trickle,
			hdr: map[string]string{"If-Match": etag}, want: http.StatusUnsupportedMediaType},
		{name: "PATCH stale ETag", method: "PATCH", path: loc, ctype: fragType, body: trickle,
			hdr: map[string]string{"If-Match": `"stale"`}, want: http.StatusPreconditionFailed, check: wantHeader("ETag", "^"+etag+"$")},
		{name: "PATCH bad fragment", method: "PATCH", path: loc, ctype: fragType, body: "v=0\r\nhello\r\n",
			hdr: map[string]string{"If-Match": etag}, want: http.StatusBadRequest},
		{name: "restart without new credentials", method: "PATCH", path: loc, ctype: fragType, body: trickle,
			hdr: map[string]string{"If-Match": "*"}, want: http.StatusUnprocessableEntity, check: wantError("ICE restart")},
		{name: "new credentials without restart", method: "PATCH", path: loc, ctype: fragType, body: restart,
			hdr: map[string]string{"If-Match": etag}, want: http.StatusUnprocessableEntity, check: wantError("If-Match: *")},
		{name: "trickle", method: "PATCH", path: loc, ctype: fragType, body: trickle,
			hdr: map[string]string{"If-Match": etag}, want: http.StatusNoContent},
		{name: "ICE restart", method: "PATCH", path: loc, ctype: fragType, body: restart,
			hdr: map[string]string{"If-Match": "*"}, want: http.StatusOK, check: func(t *testing.T, r *http.Response, b string) {
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
	tg.runWHIPCases(t, []whipCase{
		{name: "old ETag after restart", method: "PATCH", path: loc, ctype: fragType, body: trickle,
			hdr: map[string]string{"If-Match": etag}, want: http.StatusPreconditionFailed},
		{name: "trickle after restart", method: "PATCH", path: loc, ctype: fragType, body: trickle,
			hdr: map[string]string{"If-Match": newETag}, want: http.StatusNoContent},
		{name: "session URL preflight", method: "OPTIONS", path: loc, hdr: map[string]string{"Origin": "https://agent.example",
			"Access-Control-Request-Method": "PATCH"}, want: http.StatusNoContent, check: wantHeader("Access-Control-Allow-Methods", "PATCH, DELETE")},
		{name: "DELETE", method: "DELETE", path: loc, want: http.StatusOK, check: func(t *testing.T, _ *http.Response, b string) {
			var sum mmedia.Summary
			if err := json.Unmarshal([]byte(b), &sum); err != nil || sum.EndReason != "whip-delete" || !sum.Recorded {
				t.Fatalf("DELETE summary %s: %v", b, err)
			}
		}},
		{name: "DELETE again", method: "DELETE", path: loc, want: http.StatusNotFound},
		// The offer's credentials are free again once the session is gone.
		{name: "offer reused after DELETE", method: "POST", path: "/whip" + q, ctype: sdpType, body: p.offer, want: http.StatusCreated},
	})
}

// TestWHIPLimits: 503 + Retry-After at the session cap, 429 + Retry-After
// beyond the POST rate.
func TestWHIPLimits(t *testing.T) {
	tg := startGateway(t, func(c *config.Config) {
		c.WHIP.MaxSessions = 1
		c.WHIP.PostRate, c.WHIP.PostBurst = 0.001, 3
	})
	offers := make([]*publisher, 4)
	for i := range offers {
		offers[i] = newPublisher(t, true, false)
	}
	var loc string
	tg.runWHIPCases(t, []whipCase{
		{name: "first", method: "POST", path: "/whip" + callQuery("lim-1"), ctype: sdpType, body: offers[0].offer, want: http.StatusCreated,
			check: func(_ *testing.T, r *http.Response, _ string) { loc = r.Header.Get("Location") }},
		{name: "at capacity", method: "POST", path: "/whip" + callQuery("lim-2"), ctype: sdpType, body: offers[1].offer,
			want: http.StatusServiceUnavailable, check: wantHeader("Retry-After", `^[1-9][0-9]*$`)},
	})
	tg.runWHIPCases(t, []whipCase{
		{name: "end first", method: "DELETE", path: loc, want: http.StatusOK},
		{name: "room again", method: "POST", path: "/whip" + callQuery("lim-3"), ctype: sdpType, body: offers[2].offer, want: http.StatusCreated},
		{name: "rate limited", method: "POST", path: "/whip" + callQuery("lim-4"), ctype: sdpType, body: offers[3].offer,
			want: http.StatusTooManyRequests, check: wantHeader("Retry-After", `^[1-9][0-9]*$`)},
	})
}
