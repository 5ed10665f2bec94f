package kms_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/mediaseal/mediaseal/kms"
)

func TestCheckRegion(t *testing.T) {
	ref := kms.KeyRef{Provider: "aws-kms", KeyID: "arn:aws:kms:us-east-1:123456789012:key/k"}
	tests := []struct {
		name     string
		key, org string
		wantErr  bool
		mustName []string
	}{
		{"same region", "us-east-1", "us-east-1", false, nil},
		{"no org region pinned", "eu-west-1", "", false, nil},
		{"other region", "eu-west-1", "us-east-1", true, []string{"eu-west-1", "us-east-1", ref.KeyID}},
		{"near miss", "us-east-2", "us-east-1", true, []string{"us-east-2", "us-east-1"}},
		{"unknown key region", "", "us-east-1", true, []string{"(unknown)", "us-east-1"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := kms.CheckRegion(ref, tc.key, tc.org)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			if err == nil {
				return
			}
			if !errors.Is(err, kms.ErrRegionMismatch) {
				t.Fatalf("err = %v, want ErrRegionMismatch", err)
			}
			for _, s := range tc.mustName {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("message %q does not name %q", err, s)
				}
			}
		})
	}
}

func TestCanonicalIsOrderIndependent(t *testing.T) {
	a := kms.EncryptionContext{"a": "1", "b": "2", "c": "3"}
	b := kms.EncryptionContext{"c": "3", "a": "1", "b": "2"}
	if string(a.Canonical()) != string(b.Canonical()) {
		t.Fatal("Canonical depends on map order")
	}
	if string(a.Canonical()) == string(kms.EncryptionContext{"a": "1", "b": "23"}.Canonical()) {
		t.Fatal("different contexts encode equally")
	}
}
