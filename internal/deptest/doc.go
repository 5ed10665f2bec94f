// Package deptest holds no code: its test keeps the import graph pointing
// one way. Its layers list is the architecture bottom first (leaves,
// contracts, adapters, keys, the recording life cycle, media, playback,
// the ceremony's control plane, configuration, assembly, commands), and a
// package, or a package's tests, may import only what lies below it.
package deptest
