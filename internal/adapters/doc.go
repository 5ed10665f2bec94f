// Package adapters opens the adapters a config names: the key providers
// (the local keyring, AWS KMS, PKCS#11), the platform key, the object
// store, the spool and the control-plane store. The gateway and the
// operator tools (playback/offline) open them through the same code, so
// both read one config the same way.
package adapters
