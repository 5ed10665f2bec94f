package jobs

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/mediaseal/mediaseal/ceremony/store"
	"github.com/mediaseal/mediaseal/kms"
	"github.com/mediaseal/mediaseal/kms/recordingkey"
)

// BenchmarkRewrapLocalKMS measures rewrap throughput against local-kms
// (AWS ReEncrypt): b.N index rows, one job, recordings per second. Media
// bytes read must stay 0. Run: go test -run X -bench RewrapLocalKMS
// -benchtime 2000x ./ceremony/jobs
func BenchmarkRewrapLocalKMS(b *testing.B) {
	k := localKMSKit(b)
	e := newEnv(b, k)
	ctx := context.Background()
	for i := range b.N {
		id := fmt.Sprintf("bench-%06d", i)
		dk, err := k.provider.GenerateDataKey(ctx, k.ref, recordingkey.ForRecording(testOrg, id, "pci"))
		if err != nil {
			b.Fatal(err)
		}
		dk.Wipe()
		err = e.st.CreateRecording(ctx, store.Recording{ID: id, OrgID: testOrg, PolicyID: "pci", KeyProvider: k.ref.Provider,
			KeyID: k.ref.KeyID, KeyVersion: dk.KeyVersion, WrappedDEK: dk.Wrapped, ObjectKey: "none/" + id + ".seal",
			Status: store.RecordingComplete, Bytes: 1 << 20, StartedAt: time.Unix(0, int64(i)).UTC()})
		if err != nil {
			b.Fatal(err)
		}
	}
	k.rotate(b)
	r := e.runner(Config{RatePerSecond: MaxRatePerSecond, Concurrency: 8, PageSize: 500}, nil)
	b.ResetTimer()
	began := time.Now()
	j := start(b, r, Spec{})
	elapsed := time.Since(began)
	b.StopTimer()
	if j.Status != store.JobCompleted || j.Progress.Changed != int64(b.N) || j.Progress.MediaBytesRead != 0 || e.objects.read.Load() != 0 {
		b.Fatalf("%s %+v", j.Status, j.Progress)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "recordings/s")
	b.ReportMetric(float64(j.Progress.MediaBytesRead), "media-bytes-read")
}

var _ kms.Provider = (*throttling)(nil)
