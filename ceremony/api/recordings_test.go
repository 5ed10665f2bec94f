package api_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/mediaseal/mediaseal/ceremony/api"
	"github.com/mediaseal/mediaseal/ceremony/store"
)

func TestRecordingsAPI(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d string) {
		e := newEnv(t, d, envOptions{})
		ctx := context.Background()
		base := mustTime("2026-03-01T10:00:00Z")
		for i := range 6 {
			r := store.Recording{ID: fmt.Sprintf("rec-%d", i), SessionID: fmt.Sprintf("s-%d", i), CallID: fmt.Sprintf("call-%d", i),
				QueueID: []string{"q-pci", "q-sales"}[i%2], Direction: "INBOUND", PolicyID: "pol", PolicyVersion: int64(1 + i/3),
				KeyProvider: "aws-kms", KeyID: []string{"cmk-1", "cmk-2"}[i/3], KeyVersion: "v1", WrappedDEK: []byte("secret-envelope"),
				StartedAt: base.Add(time.Duration(i) * time.Minute), GatewayID: "gw-a"}
			if err := e.st.CreateRecording(ctx, r); err != nil {
				t.Fatal(err)
			}
			if i < 2 {
				if err := e.st.FinishRecording(ctx, r.ID, store.RecordingComplete, 10, 4096, "abcd", "recordings/"+r.ID); err != nil {
					t.Fatal(err)
				}
			}
		}
		const R = "/api/v2/recordings"
		e.run([]apiCase{
			{name: "get", method: "GET", path: R + "/rec-0", status: 200, contains: []string{`"status": "COMPLETE"`, `"chunks": 10`, `"sha256": "abcd"`,
				`"keyId": "cmk-1"`, `"version": "v1"`, `"queueId": "q-pci"`, `"endedAt"`}},
			{name: "get missing", method: "GET", path: R + "/nope", status: 404, code: api.CodeNotFound},
			{name: "bad from", method: "GET", path: R + "?from=yesterday", status: 400, field: "from"},
			{name: "bad to", method: "GET", path: R + "?to=2026-13-01", status: 400, field: "to"},
			{name: "to before from", method: "GET", path: R + "?from=2026-03-01T10:05:00Z&to=2026-03-01T10:00:00Z", status: 400, field: "to"},
			{name: "bad status", method: "GET", path: R + "?status=DONE", status: 400, field: "status"},
			{name: "bad limit", method: "GET", path: R + "?limit=0", status: 400, field: "limit"},
			{name: "huge limit", method: "GET", path: R + "?limit=100000", status: 400, field: "limit"},
			{name: "unknown parameter", method: "GET", path: R + "?queue=q-pci", status: 400, code: api.CodeUnknownField, field: "queue"},
			{name: "repeated parameter", method: "GET", path: R + "?status=ACTIVE&status=COMPLETE", status: 400, field: "status"},
		})
		tests := []struct {
			query string
			want  []string
			next  string
		}{
			{"", []string{"rec-0", "rec-1", "rec-2", "rec-3", "rec-4", "rec-5"}, ""},
			{"?queueId=q-pci", []string{"rec-0", "rec-2", "rec-4"}, ""},
			{"?keyId=cmk-2", []string{"rec-3", "rec-4", "rec-5"}, ""},
			{"?status=COMPLETE", []string{"rec-0", "rec-1"}, ""},
			{"?status=ACTIVE&queueId=q-sales", []string{"rec-3", "rec-5"}, ""},
			{"?from=2026-03-01T10:02:00Z&to=2026-03-01T10:04:00Z", []string{"rec-2", "rec-3"}, ""},
			{"?from=2026-03-01T11:02:00%2B01:00", []string{"rec-2", "rec-3", "rec-4", "rec-5"}, ""},
			{"?limit=2", []string{"rec-0", "rec-1"}, "rec-1"},
			{"?limit=2&after=rec-1", []string{"rec-2", "rec-3"}, "rec-3"},
			{"?queueId=nope", []string{}, ""},
		}
		for _, tc := range tests {
			r := e.do("GET", R+tc.query, "")
			if r.status != 200 {
				t.Fatalf("%s: %d %s", tc.query, r.status, r.raw)
			}
			got := []string{}
			for _, ent := range r.entities() {
				got = append(got, ent["id"].(string))
			}
			if strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Errorf("GET %s = %v, want %v", tc.query, got, tc.want)
			}
			if next, _ := r.body["nextAfter"].(string); next != tc.next {
				t.Errorf("GET %s nextAfter = %q, want %q", tc.query, next, tc.next)
			}
			if strings.Contains(r.raw, "secret-envelope") || strings.Contains(r.raw, "c2VjcmV0LWVudmVsb3Bl") {
				t.Errorf("GET %s exposes the key envelope", tc.query)
			}
		}
	})
}
