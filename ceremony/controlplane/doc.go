// Package controlplane is the ceremony's control plane as one gateway runs
// it: the live catalog of policies and keys sessions read, the config
// seed (a file is no way around the quorum), the token service and its
// first principals, the quorum rules shared through the store, the
// hash-chained audit log and its anchor, scheduled key operations, the
// re-encryption jobs and rotation, and the /api/v2 handler.
//
// [New] seeds and loads the catalog (enough for offline tools); [Service.Open]
// opens the ceremony under the store's first-start lock, so that gateways
// starting together create one set of signing keys and one pepper;
// [Service.Run] runs the background work until its context ends. The
// gateway chooses the adapters (KMS providers, object store, anchor,
// exporter) and passes them in [Deps]; its config arrives as the plain
// values of [Config].
package controlplane
