package offline

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/mediaseal/mediaseal/ceremony/store"
	"github.com/mediaseal/mediaseal/kms/local"
	"github.com/mediaseal/mediaseal/playback"
	"github.com/mediaseal/mediaseal/storage"
)

// TestRefusalsComeBeforeTheKMS: playback refuses to export what is not
// indexed, not whole or not the object the index describes from the index
// and the object alone: no DEK is unwrapped and nothing is written.
// Verify and a salvage export of the damaged object read what verifies
// and say it is not the recording.
func TestRefusalsComeBeforeTheKMS(t *testing.T) {
	r := newRealStores(t)
	ctx := t.Context()
	r.record(t, "whole", 5*time.Second)
	r.record(t, "swapped", 5*time.Second)
	if err := r.st.CreateRecording(ctx, store.Recording{ID: "active", KeyProvider: local.ProviderName, KeyID: "platform"}); err != nil {
		t.Fatal(err)
	}
	// The object store's holder replaces an object with one byte changed.
	rc, err := r.objects.Get(ctx, "recordings/swapped", 0, -1)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(rc)
	rc.Close()
	b[len(b)-100] ^= 1
	if _, err := r.objects.Put(ctx, "recordings/swapped", bytes.NewReader(b), storage.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		id   string
		want error
		text string
	}{
		{"missing", playback.ErrRecordingNotFound, "no index entry"},
		{"active", playback.ErrNotComplete, "ACTIVE in the index"},
		{"swapped", playback.ErrIntegrity, "object SHA-256"},
	} {
		for _, format := range []string{playback.FormatPCAP, playback.FormatWAV} {
			var out bytes.Buffer
			_, err := r.svc.Export(ctx, c.id, format, "", playback.Options{}, &out)
			if !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.text) || out.Len() != 0 {
				t.Errorf("%s as %s: %v, %d bytes written; want %v", c.id, format, err, out.Len(), c.want)
			}
		}
	}
	if n := r.unwraps.Load(); n != 0 {
		t.Fatalf("%d DEKs unwrapped for recordings refused from the index and object alone", n)
	}
	if sum, err := r.svc.Verify(ctx, "swapped"); !errors.Is(err, playback.ErrIntegrity) || sum.Chunks == 0 {
		t.Errorf("verify of a swapped object: %v, %+v", err, sum)
	}
	res, err := r.svc.Export(ctx, "swapped", playback.FormatPCAP, "", playback.Options{Salvage: true}, io.Discard)
	if err != nil || res.Verified || len(res.Problems) == 0 {
		t.Fatalf("salvage of a swapped object: %v %+v", err, res)
	}
	if res, err := r.svc.Export(ctx, "whole", playback.FormatWAVStereo, "", playback.Options{}, io.Discard); err != nil || !res.Verified || len(res.Tracks) != 2 {
		t.Fatalf("whole recording: %v %+v", err, res)
	}
}
