// Package kms is the key-management contract of mediaseal: a [Provider]
// generates per-recording data keys (DEKs) under a customer or platform key
// reference, unwraps them for playback, and rewraps them to a newer key
// version. Key material of a key encryption key never leaves its provider;
// callers only ever see references ([KeyRef]) and wrapped DEKs.
//
// Adapters live in sub-packages (local, awskms, pkcs11) and translate their
// SDK's errors into the sentinels of this package at their edge. Each
// declares the [Kind] of keys it serves ([Kinded]): the key registry's type
// (AWS_KMS) and the provider name references carry (aws-kms) are written
// once, in kind.go. What an adapter can do beyond the contract is the
// capability interfaces it implements ([Rotator], [AutoRotator],
// [Disabler], [Destroyer]), found by type assertion, never by its name. A
// gateway holds the providers it opened in a [Registry].
//
// The kmstest package is the conformance suite every adapter passes.
package kms
