package api

import (
	"context"
	"errors"
	"net/http"

	"github.com/mediaseal/mediaseal/ceremony/store"
	"github.com/mediaseal/mediaseal/kms"
)

// enableProviderRotation turns on, at bind, the provider's own rotation of
// a key bound with autoRotate when the provider rotates keys itself (AWS
// KMS: EnableKeyRotation with RotationPeriodInDays), so the period the
// ceremony approved is the one the KMS runs. A KMS that refuses it fails
// the bind: a key whose promised rotation is not on is not bound.
func (s *server) enableProviderRotation(ctx context.Context, prov kms.Provider, ref kms.KeyRef, rot store.Rotation) *Error {
	ar, ok := prov.(kms.AutoRotator)
	if !ok || !rot.AutoRotate {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, s.deps.DescribeTimeout)
	defer cancel()
	err := ar.EnableAutoRotation(ctx, ref, rot.PeriodDays)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, kms.ErrUnavailable):
		return errorf(http.StatusServiceUnavailable, CodeKMSUnavailable, "the KMS did not turn on rotation of %s: %v", ref, err)
	}
	return errorf(http.StatusConflict, CodeKeyState, "the KMS refused to rotate %s every %d days: %v", ref, rot.PeriodDays, err)
}
