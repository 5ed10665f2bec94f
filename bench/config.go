package bench

import (
	"fmt"
	"runtime"
	"time"

	"github.com/mediaseal/mediaseal/media/srtp"
)

// RunConfig is one load run.
type RunConfig struct {
	Streams       int           // RTP streams (tracks), not calls
	TracksPerCall int           // 1 (default) or 2
	Duration      time.Duration // per stream, after its ramp start
	Codec         string        // pcmu, pcma, opus
	// SRTP, a suite name, has every track sent as SRTP under a key the
	// gateway generates ("" plain RTP).
	SRTP string
	// Ingest is IngestRTP (default) or IngestAudioHook: Streams AudioHook
	// sessions, each stereo (RunAudioHook).
	Ingest  string
	Ptime   time.Duration
	Ramp    time.Duration // stream starts spread over this
	Workers int           // generator goroutines (default: one per core)
	GenNice int           // nice value of the generator's sending threads (0: unchanged)
	// Target is a running gateway (with TokenFile); otherwise Spawn.
	Target    string
	TokenFile string
	Spawn     SpawnConfig
	// BaselineDuration runs the plain UDP sink with the same generator and
	// stream count first (0: skip).
	BaselineDuration time.Duration
	// MaxLateness: a run whose generator p99 lateness exceeds it is invalid.
	MaxLateness time.Duration
	// Pin puts the generator on GenCPUs and the spawned gateway on Spawn.CPUs.
	GenCPUs string
	// Concurrency of session create/end requests.
	Concurrency int
	// Progress shows a progress bar on stderr.
	Progress bool
	// ProfilePath, with Spawn.DebugAddr, saves a CPU profile of the middle
	// of the sending phase there and a heap profile at its end (.heap).
	ProfilePath string
	// KMSLatency > 0 (spawn only) records under a customer key in
	// local-kms reached through a proxy adding this delay to each request.
	KMSLatency time.Duration
	// RepoRoot holds scripts/install-local-kms.sh and .tools/bin (default:
	// found above the working directory).
	RepoRoot string
	// VerifyWorkers decrypt recordings in parallel.
	VerifyWorkers int
}

func (c *RunConfig) defaults() error {
	if c.TracksPerCall == 0 {
		c.TracksPerCall = 1
	}
	if c.Codec == "" {
		c.Codec = "pcmu"
	}
	if c.Ptime == 0 {
		c.Ptime = 20 * time.Millisecond
	}
	if c.Workers == 0 {
		c.Workers = runtime.GOMAXPROCS(0)
	}
	if c.MaxLateness == 0 {
		c.MaxLateness = c.Ptime / 2
	}
	if c.Concurrency == 0 {
		c.Concurrency = 8
	}
	if c.VerifyWorkers == 0 {
		c.VerifyWorkers = runtime.GOMAXPROCS(0)
	}
	switch {
	case c.Streams <= 0:
		return fmt.Errorf("%w: --streams must be positive", ErrConfig)
	case c.TracksPerCall != 1 && c.TracksPerCall != 2:
		return fmt.Errorf("%w: --tracks must be 1 or 2", ErrConfig)
	case c.Streams%c.TracksPerCall != 0:
		return fmt.Errorf("%w: --streams %d is not a multiple of --tracks %d", ErrConfig, c.Streams, c.TracksPerCall)
	case c.Duration < c.Ptime:
		return fmt.Errorf("%w: --duration %s shorter than --ptime %s", ErrConfig, c.Duration, c.Ptime)
	case c.Ptime < time.Millisecond:
		return fmt.Errorf("%w: --ptime %s below 1ms", ErrConfig, c.Ptime)
	case (c.Target == "") == (c.Spawn.Bin == ""):
		return fmt.Errorf("%w: exactly one of --target or --spawn", ErrConfig)
	case c.KMSLatency < 0 || (c.KMSLatency > 0 && c.Spawn.Bin == ""):
		return fmt.Errorf("%w: --kms-latency needs --spawn (the bench starts local-kms and configures the gateway)", ErrConfig)
	case c.Target != "" && c.TokenFile == "":
		return fmt.Errorf("%w: --target needs --token-file", ErrConfig)
	}
	if _, err := LookupCodec(c.Codec); err != nil {
		return err
	}
	switch {
	case c.Ingest == "":
		c.Ingest = IngestRTP
	case c.Ingest != IngestRTP && c.Ingest != IngestAudioHook:
		return fmt.Errorf("%w: --ingest %q (want rtp or audiohook)", ErrConfig, c.Ingest)
	case c.Ingest == IngestAudioHook && (c.SRTP != "" || c.Ptime != 20*time.Millisecond):
		return fmt.Errorf("%w: --ingest audiohook sends 20 ms PCMU frames: no --srtp, --ptime 20ms", ErrConfig)
	}
	if _, ok := srtp.ParseSuite(c.SRTP); c.SRTP != "" && !ok {
		return fmt.Errorf("%w: --srtp %q (want one of %v)", ErrConfig, c.SRTP, srtp.Suites)
	}
	if c.Spawn.Bin != "" && c.Spawn.PortMin == 0 {
		c.Spawn.PortMin = 30000
	}
	if c.Spawn.Bin != "" && c.Spawn.PortMax == 0 {
		c.Spawn.PortMax = min(c.Spawn.PortMin+4*c.Streams+1000, 65535)
	}
	return nil
}

// packets is how many packets each stream sends.
func (c *RunConfig) packets() uint32 { return uint32(c.Duration / c.Ptime) }

// genConfig is the generator's configuration for a run.
func (c *RunConfig) genConfig(codec Codec) GenConfig {
	return GenConfig{Codec: codec, Ptime: c.Ptime, Packets: c.packets(), Workers: c.Workers, Nice: c.GenNice}
}
