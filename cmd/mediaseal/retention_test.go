package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestLegalHoldAndAudioHookCommands drives `mediaseal legal-holds` and
// `mediaseal audiohook` against a running gateway: a hold set, listed and
// shown, a release refused without an approved proposal, the retention
// dry run; an integration created (its secret printed once), listed
// without it and disabled.
func TestLegalHoldAndAudioHookCommands(t *testing.T) {
	url, tok := startGateway(t)
	conn := []string{"--api", url, "--token-file", tok}
	run := func(args ...string) (string, error) { return mediaseal(t, append(args, conn...)...) }

	out, err := run("legal-holds", "set", "--call", "call-4711", "--reason", "case 4711")
	var hold struct {
		ID     string
		Active bool
	}
	if err != nil || json.Unmarshal([]byte(out), &hold) != nil || hold.ID == "" || !hold.Active {
		t.Fatalf("set: %v\n%s", err, out)
	}
	if _, err := run("legal-holds", "set", "--call", "call-1", "--recording", "rec-1", "--reason", "two targets"); err == nil {
		t.Fatal("a hold with two targets was set")
	}
	if out, err := run("legal-holds", "list", "--active"); err != nil || !strings.Contains(out, hold.ID) {
		t.Fatalf("list: %v\n%s", err, out)
	}
	if out, err := run("legal-holds", "show", hold.ID); err != nil || !strings.Contains(out, "call-4711") {
		t.Fatalf("show: %v\n%s", err, out)
	}
	if _, err := run("legal-holds", "release", hold.ID, "--approval", "no-such-approval"); err == nil {
		t.Fatal("a hold was released without an approved proposal")
	}
	if out, err := run("legal-holds", "retention-due"); err != nil || !strings.Contains(out, `"dryRun": true`) {
		t.Fatalf("retention-due: %v\n%s", err, out)
	}

	out, err = run("audiohook", "create", "--name", "genesys")
	var ig struct{ ID, APIKey, ClientSecret string }
	if err != nil || json.Unmarshal([]byte(out), &ig) != nil || ig.ID == "" || ig.APIKey == "" || len(ig.ClientSecret) < 40 {
		t.Fatalf("audiohook create: %v\n%s", err, out)
	}
	if out, err := run("audiohook", "list"); err != nil || !strings.Contains(out, ig.APIKey) || strings.Contains(out, ig.ClientSecret) {
		t.Fatalf("audiohook list: %v\n%s", err, out)
	}
	if out, err := run("audiohook", "disable", ig.ID); err != nil || !strings.Contains(out, "DISABLED") {
		t.Fatalf("audiohook disable: %v\n%s", err, out)
	}
}
