// Package whip is mediaseal's WebRTC ingest: an RFC 9725 (WHIP) endpoint
// built on github.com/pion/webrtc/v4 that records what a browser or a
// WebRTC media server publishes.
//
// A POST of an SDP offer opens one call: its metadata (call id, queue,
// direction, caller id, agent id) comes from query parameters or headers
// ([ParseMeta]), the call is created through [media.Manager.Create] with
// Request.External set, so the same recording policies apply as to RTP
// sessions, and every RTP packet received on a track is handed, byte for
// byte as it came off SRTP, to [media.Session.Push]. The answer carries
// all of the gateway's ICE candidates (no server-side trickle); the
// session URL in Location accepts PATCH (trickle ICE and ICE restart,
// [ParseFrag]) and DELETE, which finalises the recording through
// [media.Manager.End].
//
// Each m= line is answered with exactly one codec (Opus for audio, VP8 or
// H.264 packetization-mode 1 for video, the offerer's first choice) and no
// RTX/FEC, so a recorded track has one payload type and retransmissions
// arrive as the original packets. The default pion interceptors (NACK,
// RTCP reports, TWCC) run; a PLI is sent when a video track starts and,
// at most once a second, when its sequence numbers show loss.
//
// Authorization is the caller's: [Server.Register] wraps every handler
// but OPTIONS with the function it is given. Every refusal has the one
// error body of mediaseal's endpoints ([httpx.Error]) with a code from
// httpx or this package's Code constants.
package whip
