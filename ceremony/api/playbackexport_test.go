package api

import "testing"

// A playback's audit details name a WAV fallback only when there was one.
func TestAuditDetailsNameWAVFallback(t *testing.T) {
	d := map[string]any{}
	ExportReport{Status: "COMPLETE", Verified: true, WAVFallback: "why"}.auditDetails(d, false)
	if d["wavFallback"] != "why" || d["verified"] != true {
		t.Fatalf("%v", d)
	}
	d = map[string]any{}
	ExportReport{Status: "COMPLETE", Verified: true}.auditDetails(d, false)
	if _, ok := d["wavFallback"]; ok {
		t.Fatalf("streamed export audited with a fallback: %v", d)
	}
}
