package gatewaytest

import (
	"fmt"
	"net/http"
	"time"

	"github.com/mediaseal/mediaseal/media"
)

// CreateWithSources opens a one-track ("caller") session declaring source
// (empty: none) and returns the session, the status code and the error body.
func (tg *Gateway) CreateWithSources(sources ...string) (Session, int, ErrorBody) {
	tg.T.Helper()
	var tracks []map[string]string
	for i, src := range sources {
		tr := map[string]string{"label": []string{"caller", "agent"}[i], "kind": "audio"}
		if src != "" {
			tr["source"] = src
		}
		tracks = append(tracks, tr)
	}
	body := map[string]any{"callId": fmt.Sprintf("src-%d", time.Now().UnixNano()), "queueId": "q",
		"direction": "INBOUND", "tracks": tracks}
	var raw map[string]any
	code := tg.Do("POST", "/v1/sessions", body, &raw)
	var s Session
	var e ErrorBody
	if code == http.StatusCreated {
		s.SessionID, _ = raw["sessionId"].(string)
		s.RecordingID, _ = raw["recordingId"].(string)
		for _, tr := range raw["tracks"].([]any) {
			m := tr.(map[string]any)
			s.Tracks = append(s.Tracks, media.TrackAddr{Label: m["label"].(string), RTP: m["rtp"].(string)})
		}
	} else {
		e.Code, _ = raw["code"].(string)
		e.Message, _ = raw["message"].(string)
	}
	return s, code, e
}
