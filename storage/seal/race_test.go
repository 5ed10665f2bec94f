//go:build race

package seal

// raceEnabled: the race detector makes sync.Pool drop a share of what is
// put back on purpose, so pooled buffers are allocated again.
const raceEnabled = true
