package httpx

import (
	"net/http"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

// StatusRecorder is a ResponseWriter that remembers the status a handler
// sent, for metrics and for undoing work after a failed response.
type StatusRecorder struct {
	http.ResponseWriter
	status int
}

// NewStatusRecorder wraps w.
func NewStatusRecorder(w http.ResponseWriter) *StatusRecorder {
	return &StatusRecorder{ResponseWriter: w}
}

// Status is the status sent: the first WriteHeader's, 200 once the body
// was written without one, 0 while nothing was sent.
func (r *StatusRecorder) Status() int { return r.status }

// WriteHeader records the first status and passes it on.
func (r *StatusRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

// Write records an implicit 200 and passes b on.
func (r *StatusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

// Flush passes a flush on, so a streamed export still streams through
// the recorder.
func (r *StatusRecorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		if r.status == 0 {
			r.status = http.StatusOK
		}
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the underlying writer
// (deadlines, hijacking) through the recorder.
func (r *StatusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// CountRequests tells count of every request by its mux route pattern
// (never the raw path, so ids do not explode a label set) and status
// code. Requests that match no route count as "unmatched".
func CountRequests(next http.Handler, count func(route string, code int)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := NewStatusRecorder(w)
		next.ServeHTTP(rec, r)
		route := r.Pattern // set by ServeMux on r when it routes
		if route == "" {
			route = "unmatched"
		}
		code := rec.Status()
		if code == 0 {
			code = http.StatusOK
		}
		count(route, code)
	})
}

// CountRequestsOn counts next's requests in reg's
// mediaseal_api_requests_total, by route pattern and status code.
func CountRequestsOn(reg prometheus.Registerer, next http.Handler) http.Handler {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "mediaseal_api_requests_total",
		Help: "HTTP API requests by route and status code."}, []string{"route", "code"})
	reg.MustRegister(c)
	return CountRequests(next, func(route string, code int) { c.WithLabelValues(route, strconv.Itoa(code)).Inc() })
}
