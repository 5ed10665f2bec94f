package awskms

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/smithy-go"

	"github.com/mediaseal/mediaseal/kms"
)

// TestTranslate covers SDK errors a real server rarely shows on demand
// (throttling, internal failures, credentials).
func TestTranslate(t *testing.T) {
	ref := kms.KeyRef{Provider: ProviderName, KeyID: "k"}
	tests := []struct {
		name   string
		err    error
		cipher bool
		want   error
	}{
		{"not found", &types.NotFoundException{}, false, kms.ErrNotFound},
		{"invalid arn", &types.InvalidArnException{}, false, kms.ErrNotFound},
		{"disabled", &types.DisabledException{}, false, kms.ErrDisabled},
		{"pending deletion", &types.KMSInvalidStateException{}, false, kms.ErrDisabled},
		{"invalid ciphertext", &types.InvalidCiphertextException{}, true, kms.ErrInvalidCiphertext},
		{"incorrect key", &types.IncorrectKeyException{}, true, kms.ErrInvalidCiphertext},
		{"limit", &types.LimitExceededException{}, false, kms.ErrThrottled},
		{"throttling code", &smithy.GenericAPIError{Code: "ThrottlingException"}, false, kms.ErrThrottled},
		{"dependency timeout", &types.DependencyTimeoutException{}, false, kms.ErrUnavailable},
		{"internal", &types.KMSInternalException{}, false, kms.ErrUnavailable},
		{"access denied", &smithy.GenericAPIError{Code: "AccessDeniedException"}, false, kms.ErrAccessDenied},
		{"bad credentials", &smithy.GenericAPIError{Code: "UnrecognizedClientException"}, false, kms.ErrAccessDenied},
		{"validation on decrypt", &smithy.GenericAPIError{Code: "ValidationException"}, true, kms.ErrInvalidCiphertext},
		{"wrapped op error", &smithy.OperationError{ServiceID: "KMS", OperationName: "Decrypt", Err: &types.DisabledException{}}, true, kms.ErrDisabled},
		{"network", errors.New("dial tcp: connection refused"), false, kms.ErrUnavailable},
		{"deadline", fmt.Errorf("op: %w", context.DeadlineExceeded), false, kms.ErrUnavailable},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := translate("Op", ref, tc.err, tc.cipher)
			if !errors.Is(got, tc.want) {
				t.Fatalf("translate(%v) = %v, want %v", tc.err, got, tc.want)
			}
			var api smithy.APIError
			if errors.As(got, &api) {
				t.Fatalf("translated error still exposes an SDK type: %v", got)
			}
		})
	}
	if got := translate("Op", ref, fmt.Errorf("x: %w", context.DeadlineExceeded), false); !errors.Is(got, context.DeadlineExceeded) {
		t.Fatalf("deadline not kept: %v", got)
	}
}
