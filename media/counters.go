package media

import "sync/atomic"

// Drop reasons, as reported in metrics and session summaries.
const (
	DropMalformed = "malformed" // not a parseable RTP packet
	DropSource    = "source"    // RTP from an address other than the track's sender
	// DropRTCPSource: RTCP from an address other than the track's sender
	// (or before the sender is known); never read, so it cannot end a call.
	DropRTCPSource = "rtcpSource"
	DropPaused     = "paused"   // secure pause: dropped before any buffering
	DropOverflow   = "overflow" // pending buffer full while the DEK was fetched
	DropClosed     = "closed"   // arrived after the recording ended or fail-closed
	DropWrite      = "write"    // the sealed writer refused the record
	// DropAuth: SRTP or SRTCP whose authentication failed (wrong key,
	// tampered, plain RTP on an SRTP track); DropReplay: an SRTP index
	// already received or behind the replay window.
	DropAuth   = "auth"
	DropReplay = "replay"
)

// Counters are per-track packet counters, updated atomically from the
// ingest goroutine and read by summaries and metrics.
type Counters struct {
	// Received counts RTP datagrams (RTCP is counted apart, in RTCP).
	Received  atomic.Int64
	Bytes     atomic.Int64
	Recorded  atomic.Int64
	Malformed atomic.Int64
	Source    atomic.Int64
	Paused    atomic.Int64
	Overflow  atomic.Int64
	Closed    atomic.Int64
	Write     atomic.Int64
	RTCP      atomic.Int64
	// RTCPSource counts RTCP datagrams refused by the sender check.
	RTCPSource atomic.Int64
	// DTMFRedacted counts telephone-event packets removed by a redactDtmf
	// policy (replaced by one marker record per event; not a loss).
	DTMFRedacted atomic.Int64
	// Auth and Replay count SRTP/SRTCP packets refused (DropAuth, DropReplay).
	Auth, Replay atomic.Int64
}

// CounterSnapshot is a plain copy of Counters.
type CounterSnapshot struct {
	Received, Bytes, Recorded                   int64
	Malformed, Source, Paused, Overflow, Closed int64
	Write, RTCP, RTCPSource                     int64
	DTMFRedacted                                int64
	Auth, Replay                                int64
}

// Snapshot copies the counters.
func (c *Counters) Snapshot() CounterSnapshot {
	return CounterSnapshot{
		Received: c.Received.Load(), Bytes: c.Bytes.Load(), Recorded: c.Recorded.Load(),
		Malformed: c.Malformed.Load(), Source: c.Source.Load(), Paused: c.Paused.Load(),
		Overflow: c.Overflow.Load(), Closed: c.Closed.Load(), Write: c.Write.Load(), RTCP: c.RTCP.Load(),
		RTCPSource:   c.RTCPSource.Load(),
		DTMFRedacted: c.DTMFRedacted.Load(),
		Auth:         c.Auth.Load(), Replay: c.Replay.Load(),
	}
}

// Add accumulates s into t.
func (t *CounterSnapshot) Add(s CounterSnapshot) {
	t.Received += s.Received
	t.Bytes += s.Bytes
	t.Recorded += s.Recorded
	t.Malformed += s.Malformed
	t.Source += s.Source
	t.Paused += s.Paused
	t.Overflow += s.Overflow
	t.Closed += s.Closed
	t.Write += s.Write
	t.RTCP += s.RTCP
	t.RTCPSource += s.RTCPSource
	t.DTMFRedacted += s.DTMFRedacted
	t.Auth += s.Auth
	t.Replay += s.Replay
}

// ByReason is the drops by reason, as summaries and metrics report them.
func (t CounterSnapshot) ByReason() map[string]int64 {
	return map[string]int64{DropMalformed: t.Malformed, DropSource: t.Source, DropPaused: t.Paused,
		DropOverflow: t.Overflow, DropClosed: t.Closed, DropWrite: t.Write, DropRTCPSource: t.RTCPSource,
		DropAuth: t.Auth, DropReplay: t.Replay}
}

// Dropped is the sum of every drop reason.
func (t CounterSnapshot) Dropped() int64 {
	return t.Malformed + t.Source + t.Paused + t.Overflow + t.Closed + t.Write + t.RTCPSource + t.Auth + t.Replay
}
