package export

import "time"

// Summary counts what happened to one track's packets while its timeline
// was rebuilt. Every packet record of the track lands in exactly one of
// Media, NonMedia, Duplicates, Malformed or DroppedPaused.
type Summary struct {
	Label string
	// Packets is the number of packet records for this track.
	Packets int
	// Media is the number of packets placed on the timeline (payload type
	// equal to the track's).
	Media int
	// NonMedia counts valid RTP with another payload type (telephone-event,
	// comfort noise) and RTCP multiplexed on the RTP port; kept out of the
	// audio, still used for sequence accounting.
	NonMedia int
	// Duplicates counts packets dropped because their SSRC and extended
	// sequence number were already seen.
	Duplicates int
	// Reordered counts packets that arrived after a higher sequence number
	// of the same SSRC; they are put back in order.
	Reordered int
	// Lost counts sequence numbers never received; their time is silence.
	Lost int
	// Malformed counts records that are not RTP (short, bad version, bad
	// padding) or carry an impossible arrival time; skipped.
	Malformed int
	// DroppedPaused counts packets recorded inside a paused span; they are
	// never exported.
	DroppedPaused int
	// SSRCs is the number of distinct synchronisation sources seen.
	SSRCs int
	// Restarts counts sources that restarted their sequence numbering
	// under the same SSRC (a jump of more than 3000); the new numbering is
	// placed by arrival, and the jump is not counted as loss.
	Restarts int
	// Pauses is the number of pause spans; Paused their total length (an
	// unterminated pause runs to the last record of the recording).
	Pauses int
	Paused time.Duration
	// Offset is the arrival time of the track's first sample since the
	// recording start; Duration the length of the rebuilt timeline.
	Offset   time.Duration
	Duration time.Duration
}
