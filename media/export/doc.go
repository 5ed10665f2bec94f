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
// new SSRC in the middle of a call (re-INVITE, transfer) or a restart of a
// source's numbering placed by arrival time. Every decision is counted in
// the track's [Summary].
//
// Every container has a [Writer], fed [Packet] values and finished by
// Close, in the spirit of pion's pkg/media writers: [WAVWriter] (G.711
// decoded by package codec as it streams), [OggOpusWriter] (Opus without
// re-encoding; silence packets keep the true duration), [IVFWriter] (VP8
// frames reassembled from RTP) and [H264Writer] (Annex B access units)
// are fed a track's rebuilt frames; [PCAPWriter] is fed the records as
// they were received. Each holds only what its format must look back on,
// so writing does not grow with the recording. [WriteWAV],
// [WriteWAVStereo], [WriteOggOpus], [WriteIVF], [WriteH264] and
// [WritePCAP] feed them from a Timeline or a Source. Matroska and WebM
// ([WriteMKV], [WriteWebM]) interleave every track with cues and are
// written from the whole Timeline.
//
// [StreamWAV] writes the same WAV bytes without a Timeline: a plan pass
// ([StreamPlan]) runs the Builder's numbering, runs, pauses and segment
// splitting over the records and keeps one small entry per segment, a
// measuring pass finds the writer's window, and a writing pass decodes
// each packet into that window, so an hour needs no more memory than a
// minute. It puts each track's packets back in sequence order in a window
// of 64 packets and drops duplicates as the Builder does (loss, pauses,
// SSRC changes and restarts included); a packet later than the window, a
// straggler of an earlier run or a writer window over ten seconds falls
// back to the Builder, and StreamWAV says so.
//
// Nothing here touches the disk: every writer takes an io.Writer, so the
// caller decides where (if anywhere) plaintext media goes.
package export
