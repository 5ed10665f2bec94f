package main

import (
	"time"

	"github.com/spf13/pflag"

	"github.com/mediaseal/mediaseal/bench"
)

// runFlags are the flags run, sweep and baseline share.
type runFlags struct {
	cfg        bench.RunConfig
	spawn      bool
	bin        string
	jsonPath   string
	pin        bool
	kmsLatency time.Duration
	noProgress bool
}

func (f *runFlags) register(fs *pflag.FlagSet, withTarget bool) {
	c := &f.cfg
	fs.IntVar(&c.Streams, "streams", 100, "concurrent RTP streams")
	fs.IntVar(&c.TracksPerCall, "tracks", 1, "tracks per call (1 or 2); calls = streams / tracks")
	fs.DurationVar(&c.Duration, "duration", 10*time.Second, "how long each stream sends")
	fs.StringVar(&c.Codec, "codec", "pcmu", "pcmu, pcma or opus")
	fs.StringVar(&c.Ingest, "ingest", "rtp", "rtp, or audiohook: --streams AudioHook sessions (stereo), after an RTP run of the same audio in the same invocation to compare with")
	fs.StringVar(&c.SRTP, "srtp", "", "send every track as SRTP of this suite (e.g. AES_CM_128_HMAC_SHA1_80), after a plain run in the same invocation to compare with")
	fs.DurationVar(&c.Ptime, "ptime", 20*time.Millisecond, "packet time")
	fs.DurationVar(&c.Ramp, "ramp", 0, "spread stream starts over this long")
	fs.IntVar(&c.Workers, "workers", 0, "generator goroutines (default: one per core)")
	fs.IntVar(&c.GenNice, "gen-nice", -10, "nice value of the generator's sending threads (needs root; 0 leaves them as they are)")
	fs.DurationVar(&c.MaxLateness, "max-lateness", 0, "generator p99 lateness above which a run is invalid (default ptime/2)")
	fs.BoolVar(&f.pin, "pin", false, "pin the gateway to CPU 1 and the generator to CPU 0 (taskset)")
	fs.StringVar(&f.jsonPath, "json", "", "write the report as JSON to this file")
	fs.BoolVar(&f.noProgress, "no-progress", false, "no progress bar")
	if !withTarget {
		return
	}
	fs.StringVar(&c.Target, "target", "", "base URL of a running gateway (http://host:port)")
	fs.StringVar(&c.TokenFile, "token-file", "", "file holding the gateway's ingest token (with --target)")
	fs.BoolVar(&f.spawn, "spawn", false, "start a gateway of our own from --bin in a temp data dir and decrypt what it recorded")
	fs.StringVar(&f.bin, "bin", "bin/mediaseal", "mediaseal binary for --spawn (go build -o bin/mediaseal ./cmd/mediaseal)")
	fs.IntVar(&c.Spawn.PortMin, "port-min", 30000, "first media port of the spawned gateway")
	fs.StringVar(&c.Spawn.DebugAddr, "debug-addr", "", "pprof listener of the spawned gateway (e.g. 127.0.0.1:6060)")
	fs.StringVar(&c.ProfilePath, "profile", "", "with --debug-addr: save a CPU profile of the sending phase here (and FILE.heap)")
	fs.DurationVar(&c.BaselineDuration, "baseline", 0, "also run the plain UDP sink with the same streams for this long first")
	fs.DurationVar(&f.kmsLatency, "kms-latency", 0, "with --spawn: record under a customer key in local-kms behind a proxy delaying every request by this much")
}

// resolve turns flags into a RunConfig.
func (f *runFlags) resolve() (bench.RunConfig, error) {
	c := f.cfg
	if f.spawn {
		c.Spawn.Bin = f.bin
	}
	if f.pin {
		c.GenCPUs, c.Spawn.CPUs = "0", "1"
	}
	c.KMSLatency = f.kmsLatency
	c.Progress = !f.noProgress
	return c, nil
}
