// Package awskms is the AWS KMS adapter of [kms.Provider], built on
// aws-sdk-go-v2's service/kms: GenerateDataKey, Decrypt, ReEncrypt and
// DescribeKey, each with the recording's encryption context, so AWS KMS
// itself binds the wrapped DEK to org, recording and policy. The key
// encryption key never leaves AWS KMS; Rewrap uses ReEncrypt so the
// plaintext DEK is never seen by mediaseal.
//
// Region locality: a key reference whose ARN names another region than
// the organisation's is refused with kms.ErrRegionMismatch before any call
// is made. SDK errors are translated here into the kms sentinels; callers
// never see smithy or SDK error types.
//
// Key versions are AWS "key material ids" (reported since KMS's on-demand
// rotation). A KMS-compatible server that reports none (local-kms) can be
// given a [WithCiphertextVersion] function.
package awskms
