package ng

import (
	"fmt"
	"net/netip"

	"github.com/pion/sdp/v3"
)

// MediaAddrs returns the address of every media section of an SDP, in
// order: the section's connection address (or the session's) and the port
// of its m= line. A section whose port is 0 (rejected) is an error, as is
// an SDP without media.
func MediaAddrs(s string) ([]netip.AddrPort, error) {
	var desc sdp.SessionDescription
	if err := desc.UnmarshalString(s); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if len(desc.MediaDescriptions) == 0 {
		return nil, ErrNoMedia
	}
	out := make([]netip.AddrPort, 0, len(desc.MediaDescriptions))
	for i, m := range desc.MediaDescriptions {
		ci := m.ConnectionInformation
		if ci == nil {
			ci = desc.ConnectionInformation
		}
		if ci == nil || ci.Address == nil {
			return nil, fmt.Errorf("%w: media section %d has no connection address", ErrNoMedia, i)
		}
		addr, err := netip.ParseAddr(ci.Address.Address)
		if err != nil {
			return nil, fmt.Errorf("%w: media section %d: address %q", ErrMalformed, i, ci.Address.Address)
		}
		port := m.MediaName.Port.Value
		if port <= 0 || port > 65535 {
			return nil, fmt.Errorf("%w: media section %d has port %d", ErrNoMedia, i, port)
		}
		out = append(out, netip.AddrPortFrom(addr, uint16(port)))
	}
	return out, nil
}

// MediaPort returns the port of the first media section of an SDP.
func MediaPort(s string) (uint16, error) {
	a, err := MediaAddrs(s)
	if err != nil {
		return 0, err
	}
	return a[0].Port(), nil
}

// AudioSDP is a minimal audio offer or answer: one sendrecv audio section
// at addr with one static payload type (0 PCMU, 8 PCMA) at 8 kHz.
func AudioSDP(addr netip.AddrPort, payloadType uint8, encoding string, ptimeMs int) string {
	ip := "IP4"
	if addr.Addr().Is6() {
		ip = "IP6"
	}
	return fmt.Sprintf("v=0\r\no=- 1 1 IN %[1]s %[2]s\r\ns=mediaseal-bench\r\nc=IN %[1]s %[2]s\r\nt=0 0\r\n"+
		"m=audio %[3]d RTP/AVP %[4]d\r\na=rtpmap:%[4]d %[5]s/8000\r\na=ptime:%[6]d\r\na=sendrecv\r\n",
		ip, addr.Addr(), addr.Port(), payloadType, encoding, ptimeMs)
}
