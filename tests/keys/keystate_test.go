package keys_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/mediaseal/mediaseal/ceremony/api"
	"github.com/mediaseal/mediaseal/ceremony/store"
	"github.com/mediaseal/mediaseal/kms"
	"github.com/mediaseal/mediaseal/kms/local"
	"github.com/mediaseal/mediaseal/playback"
	"github.com/mediaseal/mediaseal/tests/gatewaytest"
)

// playbackCode plays recording id back under approval pid and returns the
// status, the error code and the message.
func playbackCode(tg *gatewaytest.Gateway, id, pid string) (int, string, string) {
	tg.T.Helper()
	code, _, m := tg.Principal("playback-requester-1").Call("GET", "/api/v2/recordings/"+id+"/media?format=wav", nil, api.HeaderApproval, pid)
	s := func(k string) string { v, _ := m[k].(string); return v }
	return code, s("code"), s("message")
}

// TestPlaybackKeyStateAndShredded: a recording whose key the ceremony
// disabled answers 409 key_state from the registry alone (the KMS,
// re-enabled behind the ceremony's back, would unwrap), and a playback
// proposal for it is refused up front; a key disabled in its KMS alone
// answers 409 key_state too, without the SDK's text; once the key is
// deleted the recording is named shredded: proposal and playback 409
// recording_shredded.
func TestPlaybackKeyStateAndShredded(t *testing.T) {
	tg, ka1, ka2, _ := startKeyGateway(t)
	ctx := context.Background()
	id := tg.RecordCall(71)
	requester := tg.Principal("playback-requester-1")
	custRef := kms.KeyRef{Provider: local.ProviderName, KeyID: "cust"}

	// Disabled in the KMS only (registry still ENABLED): the unwrap fails.
	if err := tg.Keyring().Disable(ctx, custRef); err != nil {
		t.Fatal(err)
	}
	code, ec, msg := playbackCode(tg, id, gatewaytest.PlaybackApproved(tg, id))
	if code != 409 || ec != api.CodeKeyState || strings.Contains(msg, "operation error") {
		t.Fatalf("playback under a key disabled in its KMS: %d %s %q", code, ec, msg)
	}
	if err := tg.Keyring().Enable(ctx, custRef); err != nil {
		t.Fatal(err)
	}

	// Disabled by the ceremony: refused before any KMS call.
	early := gatewaytest.PlaybackApproved(tg, id)
	dis := gatewaytest.Approved(ka1, ka2, "key.disable", "cust-key")
	gatewaytest.WaitApproval(ka1, dis, store.ApprovalExecuted, keyDelay+10*time.Second)
	if err := tg.Keyring().Enable(ctx, custRef); err != nil { // the KMS would answer
		t.Fatal(err)
	}
	if code, ec, msg := playbackCode(tg, id, early); code != 409 || ec != api.CodeKeyState || !strings.Contains(msg, "DISABLED") {
		t.Fatalf("playback under a disabled key: %d %s %q", code, ec, msg)
	}
	if _, err := tg.Export(ctx, id, playback.FormatWAV, "", &bytes.Buffer{}); !errors.Is(err, kms.ErrDisabled) || !strings.Contains(err.Error(), "key registry") {
		t.Fatalf("gateway export (the CLI's) under a disabled key: %v", err)
	}
	prop := map[string]any{"operation": "recording.playback", "target": id, "reason": "dispute"}
	if code, _, m := requester.Call("POST", "/api/v2/approvals", prop); code != 409 || m["code"] != api.CodeKeyState {
		t.Fatalf("playback proposal under a disabled key: %d %v", code, m)
	}

	// Deleted: crypto-shredded, named so everywhere.
	del := gatewaytest.Approved(ka1, ka2, "key.delete", "cust-key")
	gatewaytest.WaitApproval(ka1, del, store.ApprovalExecuted, keyDelay+10*time.Second)
	if code, _, m := requester.Call("POST", "/api/v2/approvals", prop); code != 409 || m["code"] != api.CodeRecordingShredded {
		t.Fatalf("playback proposal of a shredded recording: %d %v", code, m)
	}
	if _, err := tg.Verify(ctx, id); err == nil || !strings.Contains(err.Error(), "crypto-shredded") {
		t.Fatalf("verify of a shredded recording: %v", err)
	}
}
