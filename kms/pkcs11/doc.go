// Package pkcs11 is the HSM adapter of [kms.Provider], over PKCS#11
// (github.com/miekg/pkcs11), tested against SoftHSM2.
//
// Each key reference is a label on the token. A key version is a pair of
// token objects with that CKA_LABEL and CKA_ID "v1", "v2", ...: an AES-256
// key encryption key (CKA_WRAP/CKA_UNWRAP only) and an HMAC-SHA-256 key
// (CKA_SIGN/CKA_VERIFY only). Both are generated inside the HSM, sensitive
// and non-extractable, so key material never leaves it. Rotation adds a
// version; old versions keep unwrapping.
//
// A DEK is generated inside the HSM as a session object, wrapped with
// CKM_AES_KEY_WRAP_PAD (RFC 5649) under the current KEK, and its value read
// once for the caller. AES key wrap has no associated data, so the
// encryption context is bound by an HMAC computed inside the HSM over the
// format, label, version, the wrapped key and the canonical context
// (encrypt-then-MAC); Unwrap verifies it inside the HSM (C_Verify) before
// C_UnwrapKey. We chose this over CKM_AES_GCM with AAD because GCM cannot
// be used with C_WrapKey in SoftHSM, so Rewrap would have to bring the
// plaintext DEK out of the HSM; with KWP + HMAC, Rewrap unwraps into a
// sensitive session object and wraps it again under the newest version
// without the DEK ever leaving the HSM. Each key is single-purpose.
//
// Wrapped DEK layout (80 bytes):
//
//	"MS11" | version (uint32, big endian) | KWP(DEK) (40) | HMAC-SHA-256 (32)
//
// Disable clears CKA_WRAP and CKA_UNWRAP on every KEK version of the label,
// so the HSM itself refuses wrap and unwrap; Enable sets them again.
package pkcs11
