package keys_test

import (
	"context"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"

	"github.com/mediaseal/mediaseal/ceremony/store"
	"github.com/mediaseal/mediaseal/internal/config"
	"github.com/mediaseal/mediaseal/internal/gateway"
	"github.com/mediaseal/mediaseal/internal/testenv"
	"github.com/mediaseal/mediaseal/kms/awskms"
	"github.com/mediaseal/mediaseal/kms/pkcs11"
	"github.com/mediaseal/mediaseal/media"
	"github.com/mediaseal/mediaseal/playback"
	"github.com/mediaseal/mediaseal/policy"
	"github.com/mediaseal/mediaseal/storage/seal"
	"github.com/mediaseal/mediaseal/tests/gatewaytest"
)

// withPlatformKeyInLocalKMS puts the platform key in AWS KMS (local-kms
// key "platform-1") and adds a policy on queue "pci" whose customer key
// does not exist there, with PLATFORM_KEY fallback.
func withPlatformKeyInLocalKMS(t *testing.T, lk *testenv.LocalKMS) (func(*config.Config), gateway.Option) {
	t.Helper()
	p, err := awskms.New(context.Background(), awskms.Config{Region: lk.Region, Endpoint: lk.Endpoint, AccessKeyID: "test",
		SecretAccessKey: "test", OrgRegion: lk.Region, MaxAttempts: 1}, awskms.WithCiphertextVersion(awskms.LocalKMSCiphertextVersion))
	if err != nil {
		t.Fatal(err)
	}
	edit := func(c *config.Config) {
		c.Org.Region = lk.Region
		c.KMS.Timeout = config.Duration(500 * time.Millisecond)
		c.KMS.AWS = config.KMSAWS{Enabled: true, Region: lk.Region, Endpoint: lk.Endpoint, AccessKeyID: "test", SecretAccessKey: "test", MaxAttempts: 1}
		c.KMS.Platform = config.KMSPlatform{Provider: config.PlatformAWS, KeyID: lk.ARN("platform-1")}
		c.Keys = []config.Key{{ID: "cmk-gone", Name: "a key deleted from KMS", ProviderType: "AWS_KMS", ProviderKeyID: lk.ARN("no-such-key"), Region: lk.Region}}
		pci := policy.Policy{ID: "pci", Name: "PCI", RecordingType: policy.RecordingAudio,
			EncryptionKeyReference: &policy.KeyReference{KeyID: "cmk-gone", ProviderType: "AWS_KMS"},
			TargetIDs:              []string{"pci"}, OnKeyUnavailable: policy.OnKeyUnavailablePlatformKey}
		pci.Normalize()
		c.Policies = append(c.Policies, pci)
		gatewaytest.CeremonyDone(t, c, c.Keys, pci) // a config file binds no key
	}
	return edit, gateway.WithKMSProvider(awskms.ProviderName, p)
}

// endAndStoredKey ends the call and returns the key its stored recording
// is sealed under.
func endAndStoredKey(t *testing.T, tg *gatewaytest.Gateway, s gatewaytest.Session) seal.KeyRef {
	t.Helper()
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
	return rec.Header().Envelope.Key
}

// kekFiles lists every local keyring KEK file under dir.
func kekFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".kek") {
			out = append(out, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestPlatformKeyInAWSKMS: with kms.platform in AWS KMS (local-kms) a call
// that falls back is sealed under that key and exports; the data
// directory holds no keyring KEK; the JWT, audit and pepper keys in the
// store are wrapped by the KMS. A restart with the KMS unreachable, or
// with the config switched back to the local keyring, is refused — never
// a silently new signing key.
func TestPlatformKeyInAWSKMS(t *testing.T) {
	lk := testenv.StartLocalKMS(t, testenv.SeedKey{ID: "platform-1", BackingKeys: []string{testenv.RandomHexKey(t)}})
	edit, opt := withPlatformKeyInLocalKMS(t, lk)
	tg := gatewaytest.Start(t, edit, opt)
	platformARN := lk.ARN("platform-1")

	s := tg.CreateCall("pci", "caller")
	gatewaytest.NewSender(t, s.Tracks[0].RTP, 5, 440).SendRange(0, 40, 20*time.Millisecond)
	var st gatewaytest.Session
	tg.Do("GET", "/v1/sessions/"+s.SessionID, nil, &st)
	if st.KeyState != media.KeyFallback {
		t.Fatalf("key state %q, want the platform-key fallback", st.KeyState)
	}
	k := endAndStoredKey(t, tg, s)
	if k.Provider != awskms.ProviderName || k.KeyID != platformARN || !k.Fallback {
		t.Fatalf("fallback recording sealed under %+v, want the platform key in AWS KMS", k)
	}
	if _, res := tg.ExportTrack(s.RecordingID, playback.FormatWAV, "caller"); res.Tracks[0].Media != 40 {
		t.Fatalf("exported %d of 40 packets", res.Tracks[0].Media)
	}
	// A call with no customer key (default policy) uses it too.
	s2 := tg.CreateCall("sales", "caller")
	tg.End(s2)

	if files := kekFiles(t, tg.Config().DataDir); len(files) != 0 {
		t.Fatalf("keyring KEK files on disk with the platform key in KMS: %v", files)
	}
	ctx := context.Background()
	kids := map[string]bool{}
	for _, purpose := range []string{store.KeyPurposeTokenSigning, store.KeyPurposeAuditSigning, store.KeyPurposeSecretPepper} {
		ks, err := tg.Store().ListServerKeys(ctx, purpose)
		if err != nil {
			t.Fatal(err)
		}
		if len(ks) == 0 && purpose != store.KeyPurposeSecretPepper {
			t.Fatalf("no %s key", purpose)
		}
		for _, sk := range ks {
			if sk.KeyProvider != awskms.ProviderName || sk.KeyID != platformARN {
				t.Fatalf("%s key %s wrapped under %s/%s, want the KMS platform key", purpose, sk.Kid, sk.KeyProvider, sk.KeyID)
			}
			kids[sk.Kid] = true
		}
	}
	cfg := *tg.Config()
	tg.Shutdown()

	sameKeys := func(t *testing.T) {
		t.Helper()
		for _, purpose := range []string{store.KeyPurposeTokenSigning, store.KeyPurposeAuditSigning, store.KeyPurposeSecretPepper} {
			st, err := store.Open(ctx, store.Config{SQLitePath: cfg.SQLitePath()})
			if err != nil {
				t.Fatal(err)
			}
			ks, err := st.ListServerKeys(ctx, purpose)
			st.Close()
			if err != nil {
				t.Fatal(err)
			}
			for _, sk := range ks {
				if !kids[sk.Kid] {
					t.Fatalf("a new %s key %s appeared after a refused start", purpose, sk.Kid)
				}
			}
		}
	}
	// start runs New and Run until ready or failed.
	start := func(c *config.Config) error {
		runCtx, cancel := context.WithCancel(ctx)
		defer cancel()
		g, err := gateway.New(runCtx, c, zaptest.NewLogger(t), opt)
		if err != nil {
			return err
		}
		defer g.Close()
		done := make(chan error, 1)
		go func() { done <- g.Run(runCtx) }()
		select {
		case <-g.Ready():
			cancel()
			<-done
			return nil
		case err := <-done:
			return err
		}
	}

	t.Run("KMS unreachable: start refused", func(t *testing.T) {
		lk.Pause()
		defer lk.Resume()
		begin := time.Now()
		err := start(&cfg)
		if err == nil || !strings.Contains(err.Error(), "platform key") {
			t.Fatalf("start with the KMS unreachable: %v", err)
		}
		if time.Since(begin) > 20*time.Second {
			t.Fatalf("refusal took %v", time.Since(begin))
		}
		t.Logf("refused: %v", err)
		sameKeys(t)
	})
	t.Run("config switched to the local keyring: start refused", func(t *testing.T) {
		c := cfg
		c.KMS.Platform = config.KMSPlatform{Provider: config.PlatformLocal, KeyID: c.KMS.PlatformKey}
		err := start(&c)
		if err == nil {
			t.Fatal("a gateway whose signing keys are wrapped in KMS started on the local keyring")
		}
		t.Logf("refused: %v", err)
		sameKeys(t)
	})
	t.Run("KMS back: starts with the same keys", func(t *testing.T) {
		if err := start(&cfg); err != nil {
			t.Fatal(err)
		}
		sameKeys(t)
	})
}

// TestPlatformKeyInHSM: with kms.platform in the HSM (SoftHSM2) a call is
// sealed under the HSM key and exports, no keyring KEK is written, and the
// signing keys are wrapped inside the HSM.
func TestPlatformKeyInHSM(t *testing.T) {
	h := testenv.StartSoftHSM(t, "mediaseal")
	p, err := pkcs11.New(pkcs11.Config{ModulePath: h.Module, TokenLabel: h.TokenLabel, PIN: h.PIN, Sessions: 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.CreateKey(context.Background(), "platform-hsm"); err != nil {
		t.Fatal(err)
	}
	p.Close()
	tg := gatewaytest.Start(t, func(c *config.Config) {
		c.KMS.PKCS11 = config.KMSPKCS11{Enabled: true, ModulePath: h.Module, TokenLabel: h.TokenLabel, PIN: h.PIN, Sessions: 2}
		c.KMS.Platform = config.KMSPlatform{Provider: config.PlatformPKCS11, KeyID: "platform-hsm"}
	})
	s := tg.CreateCall("sales", "caller")
	gatewaytest.NewSender(t, s.Tracks[0].RTP, 5, 440).SendRange(0, 30, 10*time.Millisecond)
	k := endAndStoredKey(t, tg, s)
	if k.Provider != pkcs11.ProviderName || k.KeyID != "platform-hsm" {
		t.Fatalf("recording sealed under %+v, want the HSM platform key", k)
	}
	if _, res := tg.ExportTrack(s.RecordingID, playback.FormatWAV, "caller"); res.Tracks[0].Media != 30 {
		t.Fatalf("exported %d of 30 packets", res.Tracks[0].Media)
	}
	if files := kekFiles(t, tg.Config().DataDir); len(files) != 0 {
		t.Fatalf("keyring KEK files on disk with the platform key in the HSM: %v", files)
	}
	for _, purpose := range []string{store.KeyPurposeTokenSigning, store.KeyPurposeAuditSigning} {
		ks, err := tg.Store().ListServerKeys(context.Background(), purpose)
		if err != nil || len(ks) == 0 {
			t.Fatalf("%s keys: %v %v", purpose, ks, err)
		}
		for _, sk := range ks {
			if sk.KeyProvider != pkcs11.ProviderName || sk.KeyID != "platform-hsm" {
				t.Fatalf("%s key %s wrapped under %s/%s", purpose, sk.Kid, sk.KeyProvider, sk.KeyID)
			}
		}
	}
}
