package siprec

import (
	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// missingHeader names the first header RFC 3261 §8.1.1 makes mandatory
// that req lacks ("" if none). sipgo's parser does not require them.
func missingHeader(req *sip.Request) string {
	switch {
	case req.Via() == nil:
		return "Via"
	case req.From() == nil:
		return "From"
	case req.To() == nil:
		return "To"
	case req.CallID() == nil:
		return "Call-ID"
	case req.CSeq() == nil:
		return "CSeq"
	}
	return ""
}

// wellFormed answers 400 to a request without a mandatory header before
// h sees it: the handlers read To, From and Call-ID, and one nil header
// from any peer on the network would otherwise panic and take the whole
// gateway down (found by FuzzSIPRequest).
func (s *Server) wellFormed(h sipgo.RequestHandler) sipgo.RequestHandler {
	return func(req *sip.Request, tx sip.ServerTransaction) {
		if name := missingHeader(req); name != "" {
			if req.IsAck() {
				return // nothing answers an ACK
			}
			_ = s.respond(req, tx, 400, "Bad Request", nil, "", reasonHeader(400, "no "+name+" header"))
			return
		}
		h(req, tx)
	}
}
