package main

import (
	"strings"
	"testing"
)

// TestJobsCommands drives `mediaseal jobs` against a running gateway: a
// dry run followed with the progress bar, list, show, a refused cancel of
// a finished job and a refused mode.
func TestJobsCommands(t *testing.T) {
	url, tok := startGateway(t)
	conn := []string{"--api", url, "--token-file", tok}
	run := func(args ...string) (string, error) {
		return mediaseal(t, append(append([]string{"jobs"}, args...), conn...)...)
	}
	out, err := run("start", "--dry-run", "--watch")
	if err != nil || !strings.Contains(out, "dry run") || !strings.Contains(out, "COMPLETED") || !strings.Contains(out, "0 media bytes read") {
		t.Fatalf("start --dry-run --watch: %v\n%s", err, out)
	}
	id := strings.Fields(out[strings.Index(out, "job "):])[1]
	if out, err := run("list"); err != nil || !strings.Contains(out, id) || !strings.Contains(out, "rewrap (dry run)") {
		t.Fatalf("list: %v\n%s", err, out)
	}
	if out, err := run("show", id); err != nil || !strings.Contains(out, "processed     0") {
		t.Fatalf("show: %v\n%s", err, out)
	}
	if _, err := run("cancel", id); err == nil || !strings.Contains(err.Error(), "already COMPLETED") {
		t.Fatalf("cancel of a finished job: %v", err)
	}
	if _, err := run("start", "--mode", "shuffle"); err == nil || !strings.Contains(err.Error(), "mode") {
		t.Fatalf("bad mode: %v", err)
	}
	if _, err := run("show", "nope"); err == nil {
		t.Fatal("show of an unknown job succeeded")
	}
}
