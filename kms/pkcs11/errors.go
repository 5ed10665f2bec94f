package pkcs11

import (
	"errors"
	"fmt"

	p11 "github.com/miekg/pkcs11"

	"github.com/mediaseal/mediaseal/kms"
)

// translate maps a PKCS#11 return value to a kms sentinel.
func translate(op, label string, err error) error {
	if err == nil {
		return nil
	}
	var rv p11.Error
	if !errors.As(err, &rv) {
		return fmt.Errorf("%w: pkcs11 %s %q: %v", kms.ErrUnavailable, op, label, err)
	}
	return fmt.Errorf("%w: pkcs11 %s %q: %v", kindOf(rv), op, label, err)
}

func kindOf(rv p11.Error) error {
	switch uint(rv) {
	case p11.CKR_KEY_FUNCTION_NOT_PERMITTED, p11.CKR_KEY_NOT_WRAPPABLE, p11.CKR_KEY_UNEXTRACTABLE:
		return kms.ErrDisabled
	case p11.CKR_SIGNATURE_INVALID, p11.CKR_SIGNATURE_LEN_RANGE, p11.CKR_WRAPPED_KEY_INVALID,
		p11.CKR_WRAPPED_KEY_LEN_RANGE, p11.CKR_ENCRYPTED_DATA_INVALID, p11.CKR_ENCRYPTED_DATA_LEN_RANGE:
		return kms.ErrInvalidCiphertext
	case p11.CKR_PIN_INCORRECT, p11.CKR_PIN_LOCKED, p11.CKR_PIN_EXPIRED, p11.CKR_USER_NOT_LOGGED_IN,
		p11.CKR_USER_PIN_NOT_INITIALIZED:
		return kms.ErrAccessDenied
	case p11.CKR_OBJECT_HANDLE_INVALID, p11.CKR_KEY_HANDLE_INVALID:
		return kms.ErrNotFound
	}
	// Device errors, closed sessions, removed tokens and anything else.
	return kms.ErrUnavailable
}
