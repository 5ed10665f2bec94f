package awskms_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	sdkkms "github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/mediaseal/mediaseal/internal/testenv"
	"github.com/mediaseal/mediaseal/kms"
	"github.com/mediaseal/mediaseal/kms/awskms"
	"github.com/mediaseal/mediaseal/kms/kmstest"
)

const rotatingKeyID = "0b7f6c1e-7a55-4d2e-9a51-6d1f1f6a0001"

func newProvider(t *testing.T, l *testenv.LocalKMS) *awskms.Provider {
	t.Helper()
	p, err := awskms.New(context.Background(), awskms.Config{
		Region:          l.Region,
		Endpoint:        l.Endpoint,
		AccessKeyID:     "test",
		SecretAccessKey: "test",
		OrgRegion:       l.Region,
	}, awskms.WithCiphertextVersion(awskms.LocalKMSCiphertextVersion))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// adminClient is the key administrator's view of local-kms (creating keys
// is not the gateway's job).
func adminClient(l *testenv.LocalKMS) *sdkkms.Client {
	return sdkkms.New(sdkkms.Options{
		Region:       l.Region,
		BaseEndpoint: aws.String(l.Endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
	})
}

func TestConformance(t *testing.T) {
	l := testenv.StartLocalKMS(t, testenv.SeedKey{ID: rotatingKeyID, BackingKeys: []string{testenv.RandomHexKey(t)}})
	p := newProvider(t, l)
	admin := adminClient(l)
	var rotated atomic.Bool
	kmstest.Run(t, kmstest.Harness{
		Provider: p,
		NewKey: func(ctx context.Context, t *testing.T) kms.KeyRef {
			out, err := admin.CreateKey(ctx, &sdkkms.CreateKeyInput{Description: aws.String("conformance")})
			if err != nil {
				t.Fatalf("CreateKey: %v", err)
			}
			return kms.KeyRef{Provider: awskms.ProviderName, KeyID: aws.ToString(out.KeyMetadata.Arn)}
		},
		RotatableKey: func(ctx context.Context, t *testing.T) kms.KeyRef {
			if rotated.Swap(true) {
				t.Fatal("the seeded key rotates once per local-kms")
			}
			return kms.KeyRef{Provider: awskms.ProviderName, KeyID: l.ARN(rotatingKeyID)}
		},
		// local-kms has no RotateKeyOnDemand: restart it with one more
		// backing key for the seeded key (see testenv.RotateSeeded).
		Rotate: func(ctx context.Context, t *testing.T, ref kms.KeyRef) { l.RotateSeeded(rotatingKeyID) },
		Disable: func(ctx context.Context, t *testing.T, ref kms.KeyRef) {
			if err := p.Disable(ctx, ref); err != nil {
				t.Fatalf("Disable: %v", err)
			}
		},
		UnknownKey:   kms.KeyRef{Provider: awskms.ProviderName, KeyID: l.ARN("00000000-0000-4000-8000-000000000000")},
		Region:       l.Region,
		Capabilities: kms.Capabilities{Rotate: true, AutoRotate: true, Disable: true, Destroy: true},
		// local-kms answers RotateKeyOnDemand with 501.
		NotOnBackend: kms.Capabilities{Rotate: true},
	})
}

func TestRegionMismatchBeforeAnyCall(t *testing.T) {
	// The endpoint is a closed port: any call would fail as unavailable,
	// so ErrRegionMismatch proves no call was made.
	p, err := awskms.New(context.Background(), awskms.Config{
		Region: "us-east-1", Endpoint: "http://127.0.0.1:1", AccessKeyID: "a", SecretAccessKey: "b", OrgRegion: "us-east-1",
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	ec := kms.EncryptionContext{"org": "o"}
	foreign := kms.KeyRef{Provider: awskms.ProviderName, KeyID: "arn:aws:kms:eu-west-1:123456789012:key/abcd1234-a123-456a-8b12-cd1234ef5678"}
	calls := []struct {
		name string
		call func() error
	}{
		{"GenerateDataKey", func() error { _, err := p.GenerateDataKey(ctx, foreign, ec); return err }},
		{"Unwrap", func() error { _, err := p.Unwrap(ctx, foreign, []byte("x"), ec); return err }},
		{"Rewrap", func() error { _, _, err := p.Rewrap(ctx, foreign, []byte("x"), ec); return err }},
		{"Describe", func() error { _, err := p.Describe(ctx, foreign); return err }},
		{"Disable", func() error { return p.Disable(ctx, foreign) }},
		{"Rotate", func() error { _, err := p.Rotate(ctx, foreign); return err }},
	}
	for _, c := range calls {
		t.Run(c.name, func(t *testing.T) {
			err := c.call()
			if !errors.Is(err, kms.ErrRegionMismatch) {
				t.Fatalf("err = %v, want ErrRegionMismatch", err)
			}
			for _, want := range []string{"eu-west-1", "us-east-1"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("message %q does not name region %s", err, want)
				}
			}
		})
	}
	// A key in the organisation's region does reach the (closed) endpoint.
	local := kms.KeyRef{Provider: awskms.ProviderName, KeyID: "arn:aws:kms:us-east-1:123456789012:key/k"}
	cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if _, err := p.Describe(cctx, local); !errors.Is(err, kms.ErrUnavailable) {
		t.Fatalf("in-region key on a closed endpoint: %v, want ErrUnavailable", err)
	}
}

func TestNewRefusesForeignClientRegion(t *testing.T) {
	_, err := awskms.New(context.Background(), awskms.Config{Region: "us-east-1", AccessKeyID: "a", SecretAccessKey: "b", OrgRegion: "us-west-2"})
	if !errors.Is(err, kms.ErrRegionMismatch) {
		t.Fatalf("err = %v, want ErrRegionMismatch", err)
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  awskms.Config
		want string // substring of the error; "" means valid
	}{
		{"minimal", awskms.Config{Region: "us-east-1"}, ""},
		{"static creds", awskms.Config{Region: "us-east-1", AccessKeyID: "a", SecretAccessKey: "b", Endpoint: "http://127.0.0.1:4599"}, ""},
		{"no region", awskms.Config{}, "region"},
		{"half creds", awskms.Config{Region: "r", AccessKeyID: "a"}, "secretAccessKey"},
		{"bad endpoint", awskms.Config{Region: "r", Endpoint: "127.0.0.1:4599"}, "endpoint"},
		{"negative attempts", awskms.Config{Region: "r", MaxAttempts: -1}, "maxAttempts"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Validate()
			if tc.want == "" && err != nil {
				t.Fatalf("unexpected error %v", err)
			}
			if tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
				t.Fatalf("err = %v, want mention of %q", err, tc.want)
			}
		})
	}
}

func TestRegionOf(t *testing.T) {
	tests := []struct {
		in, region string
		ok         bool
	}{
		{"arn:aws:kms:us-east-1:123456789012:key/abcd", "us-east-1", true},
		{"arn:aws-us-gov:kms:us-gov-west-1:123456789012:alias/x", "us-gov-west-1", true},
		{"arn:aws:s3:us-east-1:123456789012:bucket", "", false},
		{"abcd1234-a123-456a-8b12-cd1234ef5678", "", false},
		{"alias/recordings", "", false},
		{"arn:aws:kms::123:key/x", "", false},
	}
	for _, tc := range tests {
		r, ok := awskms.RegionOf(tc.in)
		if r != tc.region || ok != tc.ok {
			t.Errorf("RegionOf(%q) = %q, %v; want %q, %v", tc.in, r, ok, tc.region, tc.ok)
		}
	}
}
