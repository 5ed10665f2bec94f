//go:build linux && !(amd64 || arm64)

package udprx

import (
	"errors"
	"sync"
)

// The io_uring backend is built for little-endian 64-bit targets only
// (amd64, arm64); elsewhere a Set forced onto it fails to listen.
const uringBuilt = false

type uloop struct{ mu sync.Mutex }

type ureq struct {
	s            *Socket
	start, drain bool
	h            Handler
}

var errNoUring = errors.New("udprx: io_uring backend not built for this architecture")

func startUloop(int) (*uloop, error)     { return nil, errNoUring }
func (*uloop) request(*ureq, bool) error { return errNoUring }
func (*uloop) stop()                     {}
