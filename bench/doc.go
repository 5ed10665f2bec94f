// Package bench is the load harness behind cmd/mediaseal-bench: a paced RTP
// generator that sends precomputed packets with batched syscalls from one
// goroutine per core, a session-API client, a spawner that runs the built
// gateway in a temporary data directory, a verifier that decrypts what was
// recorded and counts sent against recorded packets per stream, a plain UDP
// sink for the baseline, process and socket probes read from /proc, and the
// reports (human table, JSON, sweep plot).
//
// Every generated payload carries its send time: the first 8 bytes of the
// payload are the send time in Unix nanoseconds (big-endian) and the next 4
// the packet's index in its stream. The media is therefore not valid audio;
// the gateway does not decode it, so this costs nothing but a load test's
// realism. See docs/bench.md for what each reported figure measures.
package bench
