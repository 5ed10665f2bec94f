// Package gateway wires mediaseal together from a config: the platform
// keyring and KMS providers, the object store, the spool and its uploader,
// the control-plane store and the ceremony's control plane
// (ceremony/controlplane), the cluster membership (cluster), the media
// session manager, and the HTTP server (session API, control plane, health
// and metrics). It chooses the adapters and translates the config into
// each service's plain values. cmd/mediaseal only parses flags and calls
// [New] and [Gateway.Run].
package gateway
