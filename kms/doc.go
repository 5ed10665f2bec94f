// Package kms is the key-management contract of mediaseal: a [Provider]
// generates per-recording data keys (DEKs) under a customer or platform key
// reference, unwraps them for playback, and rewraps them to a newer key
// version. Key material of a key encryption key never leaves its provider;
// callers only ever see references ([KeyRef]) and wrapped DEKs.
//
// Adapters live in sub-packages (local, awskms, pkcs11) and translate their
// SDK's errors into the sentinels of this package at their edge. The kmstest
// package is the conformance suite every adapter passes.
package kms
