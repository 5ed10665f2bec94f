// Package offline gives playback over a gateway's stores without a
// running gateway: [Index] adapts the recordings index of ceremony/store
// (the gateway's own playback uses it too), and [Open] opens the key
// providers, object store, spool and index a config names, for the
// operator's CLI and the bench.
package offline
