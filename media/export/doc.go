// Package export turns the verified records of a sealed recording into
// standard files: mono and stereo WAV (G.711 decoded to 16-bit PCM) and
// classic libpcap captures of the received RTP.
//
// The input is deliberately small and independent of the recording format:
// a [Header] describing the tracks and a [Source] of [Record] values in the
// order they were recorded. [Build] (or a [Builder] fed record by record)
// rebuilds each track's timeline from RTP sequence numbers and timestamps:
// reordered packets are put back in order, exact duplicates dropped, lost
// packets and paused spans filled with silence of the right length, and a
// new SSRC in the middle of a call (re-INVITE, transfer) placed by arrival
// time. Every decision is counted in the track's [Summary].
//
// Writers take the result: [WriteWAV], [WriteWAVStereo]; [WritePCAP] works
// on the records directly.
package export
