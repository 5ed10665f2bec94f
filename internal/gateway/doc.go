// Package gateway wires mediaseal together from a config: the platform
// keyring and KMS providers, the object store, the spool and its uploader,
// the control-plane store, the media session manager, and the HTTP server
// (session API, control plane, health and metrics). cmd/mediaseal only
// parses flags and calls [New] and [Gateway.Run].
package gateway
