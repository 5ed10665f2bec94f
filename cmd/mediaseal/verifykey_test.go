package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mediaseal/mediaseal/ceremony/store"
)

// TestVerifyKeyLine: verify names the key and version of a recording's
// current envelope from the index, says "unknown" for a recording indexed
// without a version (a rewrap could not check it) and names a shredded
// recording as such.
func TestVerifyKeyLine(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, store.Config{SQLitePath: filepath.Join(t.TempDir(), "index.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, c := range []struct {
		rec  store.Recording
		want string
	}{
		{store.Recording{ID: "r1", KeyProvider: "aws-kms", KeyID: "arn:k", KeyVersion: "1", Status: store.RecordingComplete},
			" key=aws-kms:arn:k version=1"},
		{store.Recording{ID: "r2", KeyProvider: "aws-kms", KeyID: "arn:k", Status: store.RecordingComplete},
			" key=aws-kms:arn:k version=unknown"},
		{store.Recording{ID: "r3", KeyProvider: "local", KeyID: "platform", KeyVersion: "v1", Fallback: true, Status: store.RecordingComplete},
			" key=local:platform version=v1 fallback"},
		{store.Recording{ID: "r4", KeyProvider: "local", KeyID: "cust", KeyVersion: "v2", Status: store.RecordingShredded},
			" key=local:cust version=v2 SHREDDED"},
	} {
		if err := st.CreateRecording(ctx, c.rec); err != nil {
			t.Fatal(err)
		}
		if got := keyLine(ctx, st, c.rec.ID); got != c.want {
			t.Errorf("%s: %q, want %q", c.rec.ID, got, c.want)
		}
	}
	if got := keyLine(ctx, st, "none"); strings.TrimSpace(got) != "" {
		t.Errorf("unknown recording: %q", got)
	}
}
