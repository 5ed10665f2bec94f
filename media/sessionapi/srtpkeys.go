package sessionapi

import (
	"fmt"
	"net"
	"net/http"

	"github.com/mediaseal/mediaseal/httpx"
	"github.com/mediaseal/mediaseal/media"
)

// CodeTLSRequired refuses SRTP keys sent, or to be returned, over plain
// HTTP to a listener other than loopback.
const CodeTLSRequired = "tls_required"

// CodeSRTPRequired refuses (409) a session with a plain RTP track where
// the gateway or the call's policy records only SRTP; the media manager
// counts such refusals (mediaseal_sessions_refused_total{reason="srtp_required"}).
const CodeSRTPRequired = media.RefusedSRTPRequired

// keysMayTravel refuses a request that asks for SRTP unless the exchange
// is confidential: over TLS, or to a loopback listener (the media server
// on the same host). Otherwise the key would cross the network in the
// clear, in the request (crypto) or the answer (generate), and whoever
// saw it could decrypt the call the track carries.
func keysMayTravel(r *http.Request, req media.Request) error {
	for i, t := range req.Tracks {
		if t.SRTP == nil || r.TLS != nil || loopbackListener(r) {
			continue
		}
		return &httpx.Error{Status: http.StatusBadRequest, Code: CodeTLSRequired, Field: fmt.Sprintf("tracks[%d].srtp", i),
			Message: "SRTP keys travel only over TLS (api.tls) or to a loopback listener: this request came over plain HTTP"}
	}
	return nil
}

// loopbackListener reports whether r arrived on a loopback address of
// this host (the listener's side of the connection, which the client
// cannot choose).
func loopbackListener(r *http.Request) bool {
	a, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
	if !ok {
		return false
	}
	tcp, ok := a.(*net.TCPAddr)
	return ok && tcp.IP.IsLoopback()
}
