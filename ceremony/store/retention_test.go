package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/mediaseal/mediaseal/ceremony/store"
)

// The retain-until fixed at creation round-trips exactly on both
// dialects, and a recording without retention reads back the zero time.
func TestRecordingRetainUntilRoundTrip(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *store.SQL, _ store.Config) {
		ctx := context.Background()
		started := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
		held := sampleRecording(store.NewID(), started)
		held.RetainUntil = started.AddDate(0, 0, 30).Add(123456789)
		plain := sampleRecording(store.NewID(), started)
		for _, r := range []store.Recording{held, plain} {
			if err := s.CreateRecording(ctx, r); err != nil {
				t.Fatal(err)
			}
		}
		got, err := s.GetRecording(ctx, held.ID)
		if err != nil || !got.RetainUntil.Equal(held.RetainUntil) {
			t.Fatalf("RetainUntil = %v, %v; want %v", got.RetainUntil, err, held.RetainUntil)
		}
		got, err = s.GetRecording(ctx, plain.ID)
		if err != nil || !got.RetainUntil.IsZero() {
			t.Fatalf("RetainUntil without retention = %v, %v; want zero", got.RetainUntil, err)
		}
	})
}
