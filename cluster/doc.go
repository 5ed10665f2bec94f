// Package cluster makes gateways sharing a store members of a cluster:
// a stable gateway id kept in the data directory ([ResolveID]), one
// serving process per spool ([LockSpool]), and a lease in the store that
// each member renews ([Member]). A member that finds a peer's lease
// expired marks the peer's ACTIVE recordings awaiting recovery, counts and
// audits it; a restarted gateway takes its own lease back and recovers
// them from its spool.
package cluster
