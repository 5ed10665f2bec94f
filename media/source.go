package media

import (
	"errors"
	"net/netip"
)

// parseSource parses a track's declared sender: "" (none), an IP address
// ("192.0.2.10", "2001:db8::1": any port of that host) or an address and
// port ("192.0.2.10:40000", "[2001:db8::1]:40000"). IPv4-mapped IPv6 is
// unmapped, as the receive path unmaps the sender's address.
func parseSource(s string) (netip.Addr, uint16, error) {
	if s == "" {
		return netip.Addr{}, 0, nil
	}
	var a netip.Addr
	var port uint16
	if ap, err := netip.ParseAddrPort(s); err == nil {
		a, port = ap.Addr(), ap.Port()
		if port == 0 {
			return netip.Addr{}, 0, errors.New("must be IP or IP:port with a port of 1-65535")
		}
	} else if a, err = netip.ParseAddr(s); err != nil {
		return netip.Addr{}, 0, errors.New("must be an IP address or IP:port ([IPv6]:port)")
	}
	a = a.Unmap()
	if a.Zone() != "" || a.IsUnspecified() || a.IsMulticast() {
		return netip.Addr{}, 0, errors.New("must be a unicast address without a zone (not 0.0.0.0, :: or multicast)")
	}
	return a, port, nil
}
