package gateway

import (
	"net/http"
	"strconv"

	"github.com/mediaseal/mediaseal/httpx"
)

// countRequests counts every API request by its mux route pattern (never
// the raw path, so ids do not explode the label set) and status code.
// Requests that match no route count as "unmatched".
func (x *metrics) countRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := httpx.NewStatusRecorder(w)
		next.ServeHTTP(rec, r)
		route := r.Pattern // set by ServeMux on r when it routes
		if route == "" {
			route = "unmatched"
		}
		code := rec.Status()
		if code == 0 {
			code = http.StatusOK
		}
		x.apiRequests.WithLabelValues(route, strconv.Itoa(code)).Inc()
	})
}
