package main

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/mediaseal/mediaseal/ceremony/store"
	"github.com/mediaseal/mediaseal/internal/config"
	"github.com/mediaseal/mediaseal/kms/local"
)

// TestJobWithErrorsExitsNonZero: a rewrap whose recordings cannot be
// rewrapped (their index envelopes are not ciphertexts of the platform
// key: what a database holder who swapped them leaves) walks its whole
// scope but is not COMPLETED: it ends COMPLETED_WITH_ERRORS, and both
// `jobs start --watch` and `jobs show` exit non-zero.
func TestJobWithErrorsExitsNonZero(t *testing.T) {
	var cfg *config.Config
	url, tok := startGateway(t, func(c *config.Config) { cfg = c })
	ctx := context.Background()
	st, err := store.Open(ctx, store.Config{SQLitePath: cfg.SQLitePath()})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for i := range 2 {
		if err := st.CreateRecording(ctx, store.Recording{ID: fmt.Sprintf("bad-%d", i), OrgID: cfg.Org.ID, PolicyID: "default",
			KeyProvider: local.ProviderName, KeyID: cfg.KMS.PlatformKey, KeyVersion: "v0", // not the current v1: the rewrap must touch them
			WrappedDEK: bytes.Repeat([]byte{byte(i + 1)}, 60), Status: store.RecordingComplete, StartedAt: time.Now().UTC()}); err != nil {
			t.Fatal(err)
		}
	}
	conn := []string{"--api", url, "--token-file", tok}
	run := func(args ...string) (string, error) {
		return mediaseal(t, append(append([]string{"jobs"}, args...), conn...)...)
	}
	out, err := run("start", "--watch")
	if err == nil || !strings.Contains(out, store.JobCompletedWithErrors) || !strings.Contains(out, "errors 2") {
		t.Fatalf("start --watch of a job with errors: %v\n%s", err, out)
	}
	id := strings.Fields(out[strings.Index(out, "job "):])[1]
	if out, err := run("show", id); err == nil || !strings.Contains(out, store.JobCompletedWithErrors) {
		t.Fatalf("show of a job with errors: %v\n%s", err, out)
	}
	if out, err := mediaseal(t, append([]string{"-o", "json", "jobs", "show", id}, conn...)...); err == nil || !strings.Contains(out, store.JobCompletedWithErrors) {
		t.Fatalf("show -o json of a job with errors: %v\n%s", err, out)
	}
}
