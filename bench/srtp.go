package bench

import (
	"fmt"

	pion "github.com/pion/srtp/v3"

	"github.com/mediaseal/mediaseal/media/srtp"
)

// streamSender keys the generator's stream for track t of s with the SRTP
// key the gateway generated for it.
func streamSender(s *Session, t int) (*pion.Context, error) {
	tr := s.Tracks[t]
	if tr.SRTP == nil || tr.SRTP.Crypto == "" {
		return nil, fmt.Errorf("%w: track %s of session %s has no SRTP key in the answer", ErrGateway, tr.Label, s.SessionID)
	}
	c, more, err := srtp.ParseCrypto(tr.SRTP.Crypto)
	if err != nil || len(more) > 0 {
		return nil, fmt.Errorf("%w: track %s: the answer's SRTP key: %v", ErrGateway, tr.Label, err)
	}
	return srtp.NewSender(c)
}
