package twilio_test

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/mediaseal/mediaseal/internal/config"
	"github.com/mediaseal/mediaseal/media"
	"github.com/mediaseal/mediaseal/storage/seal"
	"github.com/mediaseal/mediaseal/tests/gatewaytest"
)

// TestTwilioQueuePolicy: the queue of customParameters decides, as for
// any call. With the only policy on queue "sales" (redactDtmf), the
// fixture's "support" stream is taken but not recorded (its DTMF counted,
// not recorded); the same stream on "sales" is recorded, and its key
// press is only a redaction marker, never the digit.
func TestTwilioQueuePolicy(t *testing.T) {
	tg := gatewaytest.Start(t, func(c *config.Config) {
		for i := range c.Policies {
			c.Policies[i].TargetIDs = []string{"sales"}
			c.Policies[i].RedactDTMF = true
		}
	})
	bearer := http.Header{"Authorization": {"Bearer " + tg.Token}}
	stream := func(msgs []string, callID string) *media.Session {
		c, code := dial(t, wsURL(tg), bearer)
		if c == nil {
			t.Fatalf("upgrade %d", code)
		}
		done := make(chan struct{})
		go func() { defer close(done); send(t, c, msgs, false) }()
		sess := liveSession(t, tg, callID)
		<-done
		if code, reason := closeOf(t, c); code != websocket.StatusNormalClosure {
			t.Fatalf("%s: closed %d %q", callID, code, reason)
		}
		select {
		case <-sess.Ended():
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: session not ended", callID)
		}
		return sess
	}

	support := stream(fixture(t), fixtureCall)
	if support.Recorded() || support.Request.QueueID != "support" {
		t.Errorf("support stream: recorded %v, queue %q; no policy covers it", support.Recorded(), support.Request.QueueID)
	}
	if n := twilioCounter(t, tg, "mediaseal_twilio_dropped_total", "dtmf_not_recorded"); n != 1 {
		t.Errorf("dtmf_not_recorded = %v, want 1", n)
	}

	var sales []string
	for _, m := range fixture(t) {
		sales = append(sales, strings.Replace(m, `"queueId":"support"`, `"queueId":"sales","callId":"sales-call-1"`, 1))
	}
	sess := stream(sales, "sales-call-1")
	if !sess.Recorded() || sess.Summary().Status != "COMPLETE" {
		t.Fatalf("sales stream: recorded %v, summary %+v", sess.Recorded(), sess.Summary())
	}
	tg.WaitStored(sess.RecordingID)
	rec, err := tg.OpenRecording(context.Background(), sess.RecordingID)
	if err != nil {
		t.Fatal(err)
	}
	defer rec.Close()
	markers := 0
	if _, err := rec.Records(func(r seal.Record) error {
		switch {
		case r.Type == seal.RecordEvent && bytes.Contains(r.Data, []byte(`"digit"`)):
			t.Errorf("the digit reached a redactDtmf recording: %s", r.Data)
		case r.Type == seal.RecordEvent && bytes.Equal(r.Data, media.DTMFMarker):
			markers++
		}
		return nil
	}); err != nil || markers != 1 {
		t.Fatalf("records: %v, %d DTMF markers (want 1)", err, markers)
	}
}
