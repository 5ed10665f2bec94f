package awskms

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/smithy-go"

	"github.com/mediaseal/mediaseal/kms"
)

// translate maps an SDK error to a kms sentinel, keeping the SDK's message
// (never its type) for the operator. ciphertextOp marks calls whose input
// includes a wrapped DEK, where a validation error means bad ciphertext.
func translate(op string, ref kms.KeyRef, err error, ciphertextOp bool) error {
	if err == nil {
		return nil
	}
	if cerr := contextError(err); cerr != nil {
		return fmt.Errorf("%w: aws-kms %s %s: %w", kms.ErrUnavailable, op, ref.KeyID, cerr)
	}
	return fmt.Errorf("%w: aws-kms %s %s: %v", kind(err, ciphertextOp), op, ref.KeyID, err)
}

func contextError(err error) error {
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return context.DeadlineExceeded
	case errors.Is(err, context.Canceled):
		return context.Canceled
	}
	return nil
}

func kind(err error, ciphertextOp bool) error {
	var (
		notFound     *types.NotFoundException
		invalidArn   *types.InvalidArnException
		disabled     *types.DisabledException
		invalidState *types.KMSInvalidStateException
		badCipher    *types.InvalidCiphertextException
		incorrectKey *types.IncorrectKeyException
		limit        *types.LimitExceededException
		depTimeout   *types.DependencyTimeoutException
		internal     *types.KMSInternalException
		unavailable  *types.KeyUnavailableException
		usage        *types.InvalidKeyUsageException
	)
	switch {
	case errors.As(err, &notFound), errors.As(err, &invalidArn):
		return kms.ErrNotFound
	case errors.As(err, &disabled), errors.As(err, &invalidState):
		return kms.ErrDisabled
	case errors.As(err, &badCipher), errors.As(err, &incorrectKey):
		return kms.ErrInvalidCiphertext
	case errors.As(err, &limit):
		return kms.ErrThrottled
	case errors.As(err, &depTimeout), errors.As(err, &internal), errors.As(err, &unavailable):
		return kms.ErrUnavailable
	case errors.As(err, &usage):
		return kms.ErrAccessDenied
	}
	var api smithy.APIError
	if errors.As(err, &api) {
		switch api.ErrorCode() {
		case "AccessDeniedException", "UnrecognizedClientException", "InvalidSignatureException",
			"ExpiredTokenException", "IncompleteSignature", "MissingAuthenticationToken", "NotAuthorizedException":
			return kms.ErrAccessDenied
		case "ThrottlingException", "Throttling", "TooManyRequestsException", "RequestLimitExceeded":
			return kms.ErrThrottled
		case "ValidationException", "SerializationException":
			if ciphertextOp {
				return kms.ErrInvalidCiphertext
			}
			return kms.ErrNotFound
		}
	}
	// Network errors, 5xx and anything unknown: the provider is not
	// usable right now; the broker falls back.
	return kms.ErrUnavailable
}
