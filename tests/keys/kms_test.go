package keys_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/mediaseal/mediaseal/ceremony/store"
	"github.com/mediaseal/mediaseal/internal/config"
	"github.com/mediaseal/mediaseal/internal/gateway"
	"github.com/mediaseal/mediaseal/internal/testenv"
	"github.com/mediaseal/mediaseal/kms/awskms"
	"github.com/mediaseal/mediaseal/media"
	"github.com/mediaseal/mediaseal/playback"
	"github.com/mediaseal/mediaseal/policy"
	"github.com/mediaseal/mediaseal/tests/gatewaytest"
)

// withLocalKMS configures a customer key in local-kms, bound by a policy
// to queue "pci", and returns the gateway option that injects the
// provider (with key versions read from local-kms ciphertexts).
func withLocalKMS(t *testing.T, lk *testenv.LocalKMS, onUnavailable string, timeout time.Duration) (func(*config.Config), gateway.Option) {
	t.Helper()
	arn := lk.ARN("cmk-1")
	acfg := awskms.Config{Region: lk.Region, Endpoint: lk.Endpoint, AccessKeyID: "test", SecretAccessKey: "test", OrgRegion: lk.Region}
	p, err := awskms.New(context.Background(), acfg, awskms.WithCiphertextVersion(awskms.LocalKMSCiphertextVersion))
	if err != nil {
		t.Fatal(err)
	}
	edit := func(c *config.Config) {
		c.Org.Region = lk.Region
		c.KMS.Timeout = config.Duration(timeout)
		c.KMS.Breaker = config.Breaker{Failures: 2, Cooldown: config.Duration(time.Second)}
		c.KMS.AWS = config.KMSAWS{Enabled: true, Region: lk.Region, Endpoint: lk.Endpoint, AccessKeyID: "test", SecretAccessKey: "test"}
		c.Keys = []config.Key{{ID: "cmk-recording-key-01", Name: "RecordingEncryptionCMK_01", ProviderType: "AWS_KMS", ProviderKeyID: arn, Region: lk.Region}}
		pci := policy.Policy{ID: "pci", Name: "PCI-DSS Secure Recording Policy", RecordingType: policy.RecordingAudio,
			EncryptionKeyReference: &policy.KeyReference{KeyID: "cmk-recording-key-01", ProviderType: "AWS_KMS"},
			TargetIDs:              []string{"pci"}, OnKeyUnavailable: onUnavailable}
		pci.Normalize()
		c.Policies = append(c.Policies, pci)
		gatewaytest.CeremonyDone(t, c, c.Keys, pci) // a config file binds no key (ceremony/controlplane/configseed.go)
	}
	return edit, gateway.WithKMSProvider(awskms.ProviderName, p)
}

// TestCustomerKeyRecording records a call under an AWS KMS key (local-kms):
// the header names the ARN and its version, and the export is complete.
func TestCustomerKeyRecording(t *testing.T) {
	lk := gatewaytest.StartLocalKMS(t)
	edit, opt := withLocalKMS(t, lk, policy.OnKeyUnavailablePlatformKey, 5*time.Second)
	tg := gatewaytest.Start(t, edit, opt)
	s := tg.CreateCall("pci", "caller")
	if s.PolicyID != "pci" {
		t.Fatalf("policy %q", s.PolicyID)
	}
	gatewaytest.NewSender(t, s.Tracks[0].RTP, 5, 440).SendRange(0, 50, 10*time.Millisecond)
	time.Sleep(100 * time.Millisecond)
	if sum := tg.End(s); sum.Status != "COMPLETE" {
		t.Fatalf("summary %+v", sum)
	}
	tg.WaitStored(s.RecordingID)
	rec, err := tg.OpenRecording(context.Background(), s.RecordingID)
	if err != nil {
		t.Fatal(err)
	}
	defer rec.Close()
	k := rec.Header().Envelope.Key
	if k.Provider != "aws-kms" || k.KeyID != lk.ARN("cmk-1") || k.KeyVersion == "" || k.Fallback {
		t.Fatalf("header key %+v", k)
	}
	if rec.Index.KeyID != lk.ARN("cmk-1") || rec.Index.KeyProvider != "aws-kms" {
		t.Fatalf("index key %+v", rec.Index)
	}
	_, res := tg.ExportTrack(s.RecordingID, playback.FormatWAV, "caller")
	if res.Tracks[0].Media != 50 {
		t.Fatalf("exported %d of 50 packets", res.Tracks[0].Media)
	}
}

// TestKMSOutageFallsBackWithoutLoss stops local-kms (SIGSTOP) before the
// call: the recording falls back to the platform key after the timeout and
// every packet sent while the key was pending is in the export. Then the
// breaker sends the next call to the fallback at once, and closes again
// when local-kms resumes.
func TestKMSOutageFallsBackWithoutLoss(t *testing.T) {
	lk := gatewaytest.StartLocalKMS(t)
	const timeout = 600 * time.Millisecond
	edit, opt := withLocalKMS(t, lk, policy.OnKeyUnavailablePlatformKey, timeout)
	tg := gatewaytest.Start(t, withoutPool(edit), opt)
	lk.Pause()
	resumed := false
	defer func() {
		if !resumed {
			lk.Resume()
		}
	}()
	s := tg.CreateCall("pci", "caller")
	var st gatewaytest.Session
	tg.Do("GET", "/v1/sessions/"+s.SessionID, nil, &st)
	if st.KeyState != media.KeyPending {
		t.Fatalf("key state %q right after start", st.KeyState)
	}
	gatewaytest.NewSender(t, s.Tracks[0].RTP, 6, 440).SendRange(0, 75, 20*time.Millisecond) // 1.5 s, half of it before the fallback
	tg.Do("GET", "/v1/sessions/"+s.SessionID, nil, &st)
	if st.KeyState != media.KeyFallback {
		t.Fatalf("key state %q after the timeout", st.KeyState)
	}
	sum := tg.End(s)
	if sum.Status != "COMPLETE" || sum.Dropped[media.DropOverflow] != 0 {
		t.Fatalf("summary %+v", sum)
	}
	_, res := tg.ExportTrack(s.RecordingID, playback.FormatWAV, "caller")
	if res.Tracks[0].Media != 75 || res.Tracks[0].Lost != 0 {
		t.Fatalf("exported %+v, want all 75 packets", res.Tracks[0])
	}
	rec, err := tg.OpenRecording(context.Background(), s.RecordingID)
	if err != nil {
		t.Fatal(err)
	}
	if k := rec.Header().Envelope.Key; !k.Fallback || k.Provider != "local" {
		t.Fatalf("fallback recording header key %+v", k)
	}
	rec.Close()

	// Second failure opens the breaker (failures: 2); the third call does
	// not wait for the KMS at all.
	s2 := tg.CreateCall("pci", "caller")
	waitKeyState(t, tg, s2, media.KeyFallback, 3*timeout)
	s3 := tg.CreateCall("pci", "caller")
	waitKeyState(t, tg, s3, media.KeyFallback, timeout/3)

	// local-kms comes back: after the cool-down a probe closes the breaker.
	lk.Resume()
	resumed = true
	time.Sleep(1200 * time.Millisecond)
	ready := false
	for i := 0; i < 3 && !ready; i++ {
		s4 := tg.CreateCall("pci", "caller")
		ready = waitKeyStateAny(t, tg, s4, 3*timeout) == media.KeyReady
	}
	if !ready {
		t.Fatal("customer key not used again after local-kms resumed")
	}
}

func waitKeyStateAny(t *testing.T, tg *gatewaytest.Gateway, s gatewaytest.Session, within time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(within)
	var st gatewaytest.Session
	for {
		tg.Do("GET", "/v1/sessions/"+s.SessionID, nil, &st)
		if st.KeyState != media.KeyPending || time.Now().After(deadline) {
			return st.KeyState
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func waitKeyState(t *testing.T, tg *gatewaytest.Gateway, s gatewaytest.Session, want string, within time.Duration) {
	t.Helper()
	if got := waitKeyStateAny(t, tg, s, within); got != want {
		t.Fatalf("key state %q within %s, want %q", got, within, want)
	}
}

// TestKMSOutageFailClosed: with FAIL_CLOSED nothing is recorded and the
// session says why.
func TestKMSOutageFailClosed(t *testing.T) {
	lk := gatewaytest.StartLocalKMS(t)
	edit, opt := withLocalKMS(t, lk, policy.OnKeyUnavailableFailClosed, 400*time.Millisecond)
	tg := gatewaytest.Start(t, withoutPool(edit), opt)
	lk.Pause()
	defer lk.Resume()
	s := tg.CreateCall("pci", "caller")
	gatewaytest.NewSender(t, s.Tracks[0].RTP, 8, 440).SendRange(0, 40, 20*time.Millisecond)
	var st struct {
		KeyState  string `json:"keyState"`
		KeyReason string `json:"keyReason"`
	}
	if code := tg.Do("GET", "/v1/sessions/"+s.SessionID, nil, &st); code != http.StatusOK || st.KeyState != media.KeyFailed || st.KeyReason == "" {
		t.Fatalf("session %d %+v", code, st)
	}
	sum := tg.End(s)
	if sum.Status != media.KeyFailed || sum.Reason == "" || sum.SealedBytes != 0 {
		t.Fatalf("summary %+v", sum)
	}
	if _, ok := tg.Spool().Find(s.RecordingID); ok {
		t.Fatal("a fail-closed call left a spool file")
	}
	rec, err := tg.Store().GetRecording(context.Background(), s.RecordingID)
	if err != nil || rec.Status != store.RecordingFailed {
		t.Fatalf("index %+v %v", rec, err)
	}
}
