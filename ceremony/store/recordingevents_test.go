package store_test

import (
	"context"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/mediaseal/mediaseal/ceremony/events"
	"github.com/mediaseal/mediaseal/ceremony/store"
)

// The recording's index changes and their events commit together: one
// started (+ key_fallback) at create, one finished at finish and none for
// a retried finish; the data never holds the wrapped DEK and the caller
// stays apart from it.
func TestRecordingEventsInTheSameTransaction(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *store.SQL, _ store.Config) {
		ctx := context.Background()
		o := events.New(s.DB(), s.Dialect())
		sub, err := o.CreateSubscription(ctx, events.Subscription{URL: "https://hooks.example/", Types: []string{"*"}})
		if err != nil {
			t.Fatal(err)
		}
		rec := sampleRecording(store.NewID(), time.Now().Add(-time.Minute).UTC())
		rec.Caller = "+15550001111"
		if err := s.CreateRecording(ctx, rec); err != nil {
			t.Fatal(err)
		}
		// A duplicate create fails and leaves no event.
		if err := s.CreateRecording(ctx, rec); err == nil {
			t.Fatal("duplicate create succeeded")
		}
		if err := s.FinishRecording(ctx, rec.ID, store.RecordingComplete, 3, 300, "abc", ""); err != nil {
			t.Fatal(err)
		}
		if err := s.FinishRecording(ctx, rec.ID, store.RecordingComplete, 3, 300, "abc", ""); err != nil {
			t.Fatal(err)
		}
		rows, err := s.DB().QueryContext(ctx, `SELECT e.type, e.data, e.caller FROM event_outbox e ORDER BY e.event_time, e.id`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var types []string
		dek := base64.StdEncoding.EncodeToString(rec.WrappedDEK)
		for rows.Next() {
			var typ, caller string
			var data []byte
			if err := rows.Scan(&typ, &data, &caller); err != nil {
				t.Fatal(err)
			}
			types = append(types, typ)
			if strings.Contains(string(data), dek) || strings.Contains(string(data), rec.Caller) {
				t.Errorf("%s data carries the wrapped DEK or the caller: %s", typ, data)
			}
			if caller != rec.Caller {
				t.Errorf("%s caller column = %q", typ, caller)
			}
			if typ == events.TypeRecordingFinished && !strings.Contains(string(data), `"status":"COMPLETE"`) {
				t.Errorf("finished data: %s", data)
			}
		}
		want := []string{events.TypeRecordingStarted, events.TypeRecordingKeyFallback, events.TypeRecordingFinished}
		if strings.Join(types, ",") != strings.Join(want, ",") {
			t.Fatalf("events %v, want %v", types, want)
		}
		ds, err := o.ListDeliveries(ctx, sub.ID, events.DeliveryPending, 0)
		if err != nil || len(ds) != 3 {
			t.Fatalf("pending deliveries = %d, %v; want 3", len(ds), err)
		}
	})
}
