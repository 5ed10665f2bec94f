// Package retention deletes recordings whose retention has passed and
// keeps the object store's legal-hold flags in step with the legal holds
// of the control plane (docs/retention.md).
//
// The store decides, in one SQL condition, which recordings a hold
// matches; the sweeper only acts on what the store hands it, in an order
// that loses nothing on a crash: a recording is first claimed (with its
// retention.expired event), then its object versions are deleted, then
// its row becomes a tombstone carrying the deletion proof (with its
// recording.deleted event). A sweeper that dies between the steps leaves
// a claim the next sweep of any gateway finishes. Setting and clearing
// the legal-hold flag on objects follows the holds the same way.
package retention
