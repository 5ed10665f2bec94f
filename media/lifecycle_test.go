package media

import (
	"context"
	"testing"

	"github.com/mediaseal/mediaseal/recording"
	"github.com/mediaseal/mediaseal/storage/spool"
)

// Media's life cycle is implemented by package recording.
var _ Recordings = (*recording.Service)(nil)

// lifecycle is a recording life cycle on sp with no index and no object
// store: sealed recordings stay in the spool for the test to read.
func lifecycle(t testing.TB, sp *spool.Spool) *recording.Service {
	t.Helper()
	svc, err := recording.New(recording.Deps{OrgID: "org", Spool: sp})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("recording life cycle: %v", err)
		}
	})
	return svc
}
