package s3store

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"

	"github.com/mediaseal/mediaseal/storage"
)

// ErrConfig means a Config field is invalid.
var ErrConfig = errors.New("s3 store: invalid config")

// kindOf maps S3 error codes to storage errors.
var kindOf = map[string]error{
	"NoSuchKey":                   storage.ErrNotFound,
	"NotFound":                    storage.ErrNotFound,
	"BadDigest":                   storage.ErrChecksum,
	"InvalidDigest":               storage.ErrChecksum,
	"XAmzContentChecksumMismatch": storage.ErrChecksum,
	"XAmzContentSHA256Mismatch":   storage.ErrChecksum,
	"InvalidChecksum":             storage.ErrChecksum,
	"IncompleteBody":              storage.ErrChecksum,
	"InvalidPart":                 storage.ErrChecksum,
	"AccessDenied":                storage.ErrAccessDenied,
	"Forbidden":                   storage.ErrAccessDenied,
	"InvalidAccessKeyId":          storage.ErrAccessDenied,
	"SignatureDoesNotMatch":       storage.ErrAccessDenied,
	"ExpiredToken":                storage.ErrAccessDenied,
	"AllAccessDisabled":           storage.ErrAccessDenied,
	"InvalidRange":                storage.ErrInvalidRange,
	"NoSuchBucket":                storage.ErrUnavailable, // misconfiguration: nothing can be stored
	"NoSuchUpload":                storage.ErrUnavailable, // aborted under us: retry the whole Put
	"SlowDown":                    storage.ErrUnavailable,
	"ServiceUnavailable":          storage.ErrUnavailable,
	"InternalError":               storage.ErrUnavailable,
	"RequestTimeout":              storage.ErrUnavailable,
}

// translate turns an SDK error into a storage error at the edge: callers
// see storage.ErrX (or the context's error), never smithy types. The SDK
// error's text is kept for the operator.
func translate(ctx context.Context, op, key string, err error) error {
	if err == nil {
		return nil
	}
	if cerr := ctx.Err(); cerr != nil {
		return fmt.Errorf("s3 store: %s %s: %w", op, key, cerr)
	}
	kind := storage.ErrUnavailable // no answer at all: refused, reset, timed out
	var ae smithy.APIError
	var re *awshttp.ResponseError
	if errors.As(err, &ae) && kindOf[ae.ErrorCode()] != nil {
		kind = kindOf[ae.ErrorCode()]
	} else if errors.As(err, &re) {
		switch code := re.HTTPStatusCode(); {
		case code == http.StatusNotFound:
			kind = storage.ErrNotFound
		case code == http.StatusForbidden || code == http.StatusUnauthorized:
			kind = storage.ErrAccessDenied
		case code == http.StatusRequestedRangeNotSatisfiable:
			kind = storage.ErrInvalidRange
		case code == http.StatusBadRequest:
			kind = errBadRequest
		}
	}
	return fmt.Errorf("s3 store: %s %s: %w (%v)", op, key, kind, err)
}

// errBadRequest is a request S3 refused as malformed: a bug or an
// incompatible server, not an outage.
var errBadRequest = errors.New("request refused as malformed")
