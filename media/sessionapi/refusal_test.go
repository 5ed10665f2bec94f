package sessionapi

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/mediaseal/mediaseal/httpx"
	"github.com/mediaseal/mediaseal/media"
	"github.com/mediaseal/mediaseal/recording"
	"github.com/mediaseal/mediaseal/storage"
)

// TestRefusalReasons: each reason the media manager refuses a session for,
// wrapped as the manager wraps it (media.ErrCapacity around what the
// recording life cycle's Admit or Started said), is answered 503 with
// Retry-After under its own code, which is also the reason counted: an
// index writer that is behind is not "capacity".
func TestRefusalReasons(t *testing.T) {
	capacity := func(err error) error { return fmt.Errorf("%w: %w", media.ErrCapacity, err) }
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"index behind at admission", capacity(fmt.Errorf("%w: 3072 writes queued", recording.ErrIndexBehind)), CodeIndexBehind},
		{"index queue full at start", capacity(fmt.Errorf("%w: 4096 writes queued", recording.ErrIndexBehind)), CodeIndexBehind},
		{"spool full", capacity(fmt.Errorf("%w (9 bytes held)", storage.ErrSpoolFull)), CodeSpoolFull},
		{"spool unwritable", capacity(storage.ErrSpoolUnwritable), CodeSpoolUnwritable},
		{"session limit", fmt.Errorf("%w: 10 sessions", media.ErrCapacity), CodeCapacity},
		{"shutting down", media.ErrClosed, CodeShuttingDown},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			err, reason := refusal(w, tc.err)
			var he *httpx.Error
			if !errors.As(err, &he) || he.Status != http.StatusServiceUnavailable || he.Code != tc.want || reason != tc.want ||
				w.Header().Get("Retry-After") != "5" {
				t.Fatalf("refusal(%v) = %v (%+v), reason %q, Retry-After %q; want 503 %s", tc.err, err, he, reason, w.Header().Get("Retry-After"), tc.want)
			}
		})
	}
}
