// Package deptest holds no code: its test keeps the import graph pointing
// one way, as DESIGN.md draws it. cmd imports the service wiring, the
// wiring imports media, media imports the policy, kms and storage
// contracts; adapters import only their own contract and their SDK; the
// recording format (storage/seal) imports only the standard library and
// the compressor.
package deptest
