package media

import (
	"testing"

	"golang.org/x/sys/unix"
)

// boundPort is the port the kernel gave a socket bound to port 0.
func boundPort(t *testing.T, s *udpSock) uint16 {
	t.Helper()
	sa, err := unix.Getsockname(s.fd)
	if err != nil {
		t.Fatal(err)
	}
	switch a := sa.(type) {
	case *unix.SockaddrInet4:
		return uint16(a.Port)
	case *unix.SockaddrInet6:
		return uint16(a.Port)
	}
	t.Fatalf("socket address %T", sa)
	return 0
}
