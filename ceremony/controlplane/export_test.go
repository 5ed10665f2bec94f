package controlplane

import (
	"testing"

	"github.com/mediaseal/mediaseal/playback"
	"github.com/mediaseal/mediaseal/storage/seal"
)

// What the playback API learns of an export carries why a WAV was built in
// memory, so that the playback's audit event can say so.
func TestExportReportCarriesWAVFallback(t *testing.T) {
	rep := exportReport(playback.Result{Status: seal.StatusComplete, Verified: true, Chunks: 3, WAVFallback: "frames come up to 900 samples behind"})
	if rep.WAVFallback != "frames come up to 900 samples behind" || rep.Status != "COMPLETE" || !rep.Verified || rep.Chunks != 3 {
		t.Fatalf("%+v", rep)
	}
}
