package offline

import (
	"testing"

	"github.com/mediaseal/mediaseal/ceremony/store"
	"github.com/mediaseal/mediaseal/playback"
)

// Playback decides by the index's status strings: they must be the
// store's, or a COMPLETE recording would be refused (or a SHREDDED one
// opened).
func TestStatusesAreTheStores(t *testing.T) {
	for _, c := range [][2]string{
		{playback.StatusComplete, store.RecordingComplete},
		{playback.StatusRecovered, store.RecordingRecovered},
		{playback.StatusShredded, store.RecordingShredded},
	} {
		if c[0] != c[1] {
			t.Errorf("playback says %q, the store %q", c[0], c[1])
		}
	}
}
