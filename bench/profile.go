package bench

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"
)

// fetchProfile saves a pprof endpoint of the gateway's debug listener
// (e.g. "profile?seconds=10", "heap") to path.
func fetchProfile(ctx context.Context, debugAddr, endpoint, path string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("http://%s/debug/pprof/%s", debugAddr, endpoint), nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("pprof %s: %s", endpoint, resp.Status)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// profileSteady takes a CPU profile of the middle half of the sending
// phase; the returned wait blocks until it is written.
func profileSteady(ctx context.Context, debugAddr, path string, d time.Duration) (wait func() error) {
	done := make(chan error, 1)
	go func() {
		select {
		case <-time.After(d / 4):
		case <-ctx.Done():
			done <- ctx.Err()
			return
		}
		secs := max(int(d.Seconds()/2), 1)
		done <- fetchProfile(ctx, debugAddr, fmt.Sprintf("profile?seconds=%d", secs), path)
	}()
	return func() error { return <-done }
}
