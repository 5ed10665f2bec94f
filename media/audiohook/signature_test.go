package audiohook

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// Sign (the bench's client) and Verify agree, a nonce is spent once, and
// a forged signature does not burn the nonce of the real one.
func TestSignVerify(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	ig := Integration{Name: "g", APIKey: "api-key-123", Secret: []byte("0123456789abcdef")}
	v := &Verifier{Integrations: []Integration{ig}, MaxSkew: 30 * time.Second, MaxAge: 5 * time.Minute, Now: func() time.Time { return now }}
	req := func() *http.Request {
		r := httptest.NewRequest("GET", "http://gw.example:8443/audiohook/v1", nil)
		r.Header.Set(HeaderOrganizationID, "org")
		r.Header.Set(HeaderSessionID, "s1")
		r.Header.Set(HeaderCorrelationID, "c1")
		return r
	}
	forged := req()
	Sign(forged, Integration{Name: "g", APIKey: ig.APIKey, Secret: []byte("not-the-secret!!")}, "n1", now, 30*time.Second)
	var se *SigError
	if _, err := v.Verify(forged); !errors.As(err, &se) || se.Reason != RefusedBad {
		t.Fatalf("forged: %v", err)
	}
	good := req()
	Sign(good, ig, "n1", now, 30*time.Second)
	if got, err := v.Verify(good); err != nil || got.Name != "g" {
		t.Fatalf("signed: %v", err)
	}
	if _, err := v.Verify(good); !errors.As(err, &se) || se.Reason != RefusedReplay {
		t.Fatalf("replayed: %v", err)
	}
	late := req()
	Sign(late, ig, "n2", now.Add(-10*time.Minute), 30*time.Second)
	if _, err := v.Verify(late); !errors.As(err, &se) || se.Reason != RefusedStale {
		t.Fatalf("stale: %v", err)
	}
}
