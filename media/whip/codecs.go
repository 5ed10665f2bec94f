package whip

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/pion/interceptor"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

// Codec names as the session API and the recording header spell them.
const (
	codecOpus = "opus"
	codecVP8  = "VP8"
	codecH264 = "H264"
)

// videoFeedback is what we ask of video senders: NACK, PLI, FIR and REMB
// (TWCC is added by the default interceptors).
var videoFeedback = []webrtc.RTCPFeedback{
	{Type: "goog-remb"}, {Type: "ccm", Parameter: "fir"}, {Type: "nack"}, {Type: "nack", Parameter: "pli"},
}

// registerCodecs registers the codecs mediaseal records: Opus, VP8 and
// H.264 (packetization-mode 1, the usual profiles). No RTX, RED or FEC:
// a recorded track has exactly one payload type.
func registerCodecs(me *webrtc.MediaEngine) error {
	audio := webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{
		MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2, SDPFmtpLine: "minptime=10;useinbandfec=1"}, PayloadType: 111}
	if err := me.RegisterCodec(audio, webrtc.RTPCodecTypeAudio); err != nil {
		return err
	}
	video := []webrtc.RTPCodecParameters{
		{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000, RTCPFeedback: videoFeedback}, PayloadType: 96},
	}
	for i, profile := range []string{"42001f", "42e01f", "4d001f", "64001f"} {
		video = append(video, webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{
			MimeType: webrtc.MimeTypeH264, ClockRate: 90000, RTCPFeedback: videoFeedback,
			SDPFmtpLine: "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=" + profile,
		}, PayloadType: webrtc.PayloadType(102 + 2*i)})
	}
	for _, c := range video {
		if err := me.RegisterCodec(c, webrtc.RTPCodecTypeVideo); err != nil {
			return err
		}
	}
	return nil
}

// newAPI builds the pion API shared by every session (pion copies the
// media engine per PeerConnection).
func newAPI(cfg *Config) (*webrtc.API, error) {
	me := &webrtc.MediaEngine{}
	if err := registerCodecs(me); err != nil {
		return nil, err
	}
	ir := &interceptor.Registry{}
	if err := webrtc.RegisterDefaultInterceptors(me, ir); err != nil {
		return nil, err
	}
	var se webrtc.SettingEngine
	if cfg.UDPPortMin != 0 {
		if err := se.SetEphemeralUDPPortRange(cfg.UDPPortMin, cfg.UDPPortMax); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrConfig, err)
		}
	}
	if len(cfg.NAT1To1IPs) > 0 {
		se.SetNAT1To1IPs(cfg.NAT1To1IPs, webrtc.ICECandidateTypeHost)
	}
	se.SetIncludeLoopbackCandidate(cfg.IncludeLoopback)
	// WHIP is ingest only: no data channels are answered.
	return webrtc.NewAPI(webrtc.WithMediaEngine(me), webrtc.WithInterceptorRegistry(ir), webrtc.WithSettingEngine(se)), nil
}

// offerMedia is one audio or video m= section of an offer.
type offerMedia struct {
	mid   string
	kind  string // audio or video
	sends bool   // sendonly or sendrecv: the client publishes on it
	// choices are the section's recordable codecs in the offerer's order,
	// with the offer's payload types.
	choices []webrtc.RTPCodecParameters
}

// offerInfo is what the server needs from an offer before pion sees it.
type offerInfo struct {
	ufrag, pwd string
	media      []offerMedia
}

// analyzeOffer parses an offer and lists its media sections.
func analyzeOffer(raw []byte) (offerInfo, error) {
	var info offerInfo
	var sd sdp.SessionDescription
	if err := sd.UnmarshalString(string(raw)); err != nil {
		return info, fmt.Errorf("%w: %v", ErrBadOffer, err)
	}
	info.ufrag, _ = sd.Attribute("ice-ufrag")
	info.pwd, _ = sd.Attribute("ice-pwd")
	for _, md := range sd.MediaDescriptions {
		if info.ufrag == "" {
			info.ufrag, _ = md.Attribute("ice-ufrag")
			info.pwd, _ = md.Attribute("ice-pwd")
		}
		kind := md.MediaName.Media
		if kind != "audio" && kind != "video" {
			continue
		}
		om := offerMedia{kind: kind, sends: true}
		om.mid, _ = md.Attribute("mid")
		for _, a := range md.Attributes {
			if a.Key == "recvonly" || a.Key == "inactive" {
				om.sends = false
			}
		}
		if md.MediaName.Port.Value == 0 {
			om.sends = false
		}
		om.choices = recordableCodecs(md)
		info.media = append(info.media, om)
	}
	if info.ufrag == "" || info.pwd == "" {
		return info, fmt.Errorf("%w: no ice-ufrag/ice-pwd", ErrBadOffer)
	}
	publishes := false
	for _, m := range info.media {
		if m.sends && m.mid == "" {
			return info, fmt.Errorf("%w: an m=%s section has no a=mid (BUNDLE is required)", ErrBadOffer, m.kind)
		}
		publishes = publishes || (m.sends && len(m.choices) > 0)
	}
	if !publishes {
		return info, fmt.Errorf("%w: no sendonly/sendrecv audio (Opus) or video (VP8, H.264 packetization-mode=1) section", ErrBadOffer)
	}
	return info, nil
}

// recordableCodecs returns the section's Opus, VP8 and H.264 (mode 1)
// formats in the offer's order.
func recordableCodecs(md *sdp.MediaDescription) []webrtc.RTPCodecParameters {
	rtpmap, fmtp := map[string]string{}, map[string]string{}
	for _, a := range md.Attributes {
		pt, rest, ok := strings.Cut(a.Value, " ")
		switch {
		case !ok:
		case a.Key == "rtpmap":
			rtpmap[pt] = rest
		case a.Key == "fmtp":
			fmtp[pt] = rest
		}
	}
	var out []webrtc.RTPCodecParameters
	for _, f := range md.MediaName.Formats {
		pt, err := strconv.ParseUint(f, 10, 7)
		if err != nil {
			continue
		}
		parts := strings.Split(rtpmap[f], "/")
		if len(parts) < 2 {
			continue
		}
		name, rate := parts[0], parts[1]
		var c webrtc.RTPCodecCapability
		switch {
		case md.MediaName.Media == "audio" && strings.EqualFold(name, codecOpus) && rate == "48000":
			c = webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}
		case md.MediaName.Media == "video" && strings.EqualFold(name, codecVP8) && rate == "90000":
			c = webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000, RTCPFeedback: videoFeedback}
		case md.MediaName.Media == "video" && strings.EqualFold(name, codecH264) && rate == "90000" &&
			strings.Contains(fmtp[f], "packetization-mode=1"):
			c = webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeH264, ClockRate: 90000, RTCPFeedback: videoFeedback}
		default:
			continue
		}
		c.SDPFmtpLine = fmtp[f]
		out = append(out, webrtc.RTPCodecParameters{RTPCodecCapability: c, PayloadType: webrtc.PayloadType(pt)})
	}
	return out
}

// codecName maps a pion MIME type to the recording's codec name.
func codecName(mime string) string {
	switch strings.ToLower(mime) {
	case strings.ToLower(webrtc.MimeTypeOpus):
		return codecOpus
	case strings.ToLower(webrtc.MimeTypeVP8):
		return codecVP8
	case strings.ToLower(webrtc.MimeTypeH264):
		return codecH264
	}
	return ""
}
