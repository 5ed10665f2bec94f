package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestEventsCommands drives `mediaseal events` against a running gateway:
// create (the secret printed once), list without it, rotate, replay, a
// refused http URL and a refused replay range, delete.
func TestEventsCommands(t *testing.T) {
	url, tok := startGateway(t)
	conn := []string{"--api", url, "--token-file", tok}
	run := func(args ...string) (string, error) {
		return mediaseal(t, append(append([]string{"events"}, args...), conn...)...)
	}
	out, err := run("create", "--url", "https://crm.example/hook", "--type", "recording.finished,recording.uploaded")
	if err != nil {
		t.Fatalf("create: %v\n%s", err, out)
	}
	var sub struct{ ID, Secret string }
	if err := json.Unmarshal([]byte(out), &sub); err != nil || sub.ID == "" || !strings.HasPrefix(sub.Secret, "whsec_") {
		t.Fatalf("create printed %q (%v)", out, err)
	}
	if out, err := run("list"); err != nil || !strings.Contains(out, sub.ID) || strings.Contains(out, sub.Secret) {
		t.Fatalf("list: %v\n%s", err, out)
	}
	if out, err := run("rotate", sub.ID); err != nil || !strings.Contains(out, `"rotating": true`) || strings.Contains(out, sub.Secret) {
		t.Fatalf("rotate: %v\n%s", err, out)
	}
	if out, err := run("replay", sub.ID, "--from", "2026-12-01T00:00:00Z", "--to", "2026-12-31T00:00:00Z"); err != nil || !strings.Contains(out, "scheduled") {
		t.Fatalf("replay: %v\n%s", err, out)
	}
	if _, err := run("replay", sub.ID, "--from", "2026-12-31T00:00:00Z", "--to", "2026-12-01T00:00:00Z"); err == nil {
		t.Fatal("an empty replay range was accepted")
	}
	if _, err := run("create", "--url", "http://crm.example/hook", "--type", "*"); err == nil || !strings.Contains(err.Error(), "https") {
		t.Fatalf("http url: %v", err)
	}
	if out, err := run("dead-letters", sub.ID); err != nil || !strings.Contains(out, `"total": 0`) {
		t.Fatalf("dead-letters: %v\n%s", err, out)
	}
	if _, err := run("delete", sub.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := run("show", sub.ID); err == nil {
		t.Fatal("show of a deleted subscription succeeded")
	}
}
