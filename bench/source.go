package bench

import (
	"fmt"
	"net"
	"net/url"
)

// localSource is the address this host sends from to reach the gateway at
// base (the generator binds no specific address except on loopback, so the
// kernel's route decides): the "source" the bench declares for its tracks,
// host only, since each generator socket has an ephemeral port. Connecting
// a UDP socket sends nothing; it only asks the kernel for the route.
func localSource(base string) (string, error) {
	u, err := url.Parse(base)
	if err != nil {
		return "", fmt.Errorf("%w: gateway URL %q: %w", ErrGateway, base, err)
	}
	c, err := net.Dial("udp", net.JoinHostPort(u.Hostname(), "9"))
	if err != nil {
		return "", fmt.Errorf("%w: no route to the gateway %q: %w", ErrGateway, u.Hostname(), err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).AddrPort().Addr().Unmap().String(), nil
}
