package gatewaytest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"mime"
	"net/http"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// SpecPath is the OpenAPI description of the gateway's HTTP API.
func SpecPath() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "docs", "openapi.yaml")
}

var contract struct {
	once   sync.Once
	doc    *openapi3.T
	router routers.Router
	err    error
}

// Spec loads and validates docs/openapi.yaml once per test binary.
func Spec() (*openapi3.T, routers.Router, error) {
	contract.once.Do(func() {
		// WHIP's bodies are SDP text: validated as strings, as the spec
		// declares them.
		for _, ct := range []string{"application/sdp", "application/trickle-ice-sdpfrag"} {
			openapi3filter.RegisterBodyDecoder(ct, openapi3filter.PlainBodyDecoder)
		}
		doc, err := openapi3.NewLoader().LoadFromFile(SpecPath())
		if err == nil {
			err = doc.Validate(context.Background())
		}
		if err != nil {
			contract.err = fmt.Errorf("docs/openapi.yaml: %w", err)
			return
		}
		contract.doc = doc
		contract.router, contract.err = gorillamux.NewRouter(doc)
	})
	return contract.doc, contract.router, contract.err
}

// contractTransport checks every exchange with a test gateway against
// docs/openapi.yaml as the e2e tests run: the response must be what the
// spec says for its operation and status, a request the spec calls
// invalid must not succeed, and an undocumented path must be a 404
// or 405. A violation is the client's error, so the calling test fails
// naming it. Exchanges with other servers pass through untouched.
type contractTransport struct{ next http.RoundTripper }

// validateContract makes http.DefaultClient, which the harness's helpers
// use, check the contract (once per test binary).
var validateContract = sync.OnceFunc(func() {
	http.DefaultClient.Transport = contractTransport{next: http.DefaultTransport}
})

func isTestGateway(u string) bool {
	found := false
	tokens.Range(func(base, _ any) bool {
		found = strings.HasPrefix(u, base.(string)+"/")
		return !found
	})
	return found
}

func (c contractTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if !isTestGateway(req.URL.String()) {
		return c.next.RoundTrip(req)
	}
	_, router, err := Spec()
	if err != nil {
		return nil, err
	}
	var reqBody []byte
	if req.Body != nil {
		if reqBody, err = io.ReadAll(req.Body); err != nil {
			return nil, err
		}
		req.Body.Close()
		req.Body = io.NopCloser(bytes.NewReader(reqBody))
	}
	resp, err := c.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	if err := CheckExchange(router, req, reqBody, resp); err != nil {
		resp.Body.Close()
		return nil, fmt.Errorf("OpenAPI contract (docs/openapi.yaml): %s %s -> %d: %w", req.Method, req.URL.Path, resp.StatusCode, err)
	}
	return resp, nil
}

// CheckExchange validates one exchange against the spec; it buffers a JSON response body
// and puts it back for the caller.
func CheckExchange(router routers.Router, req *http.Request, reqBody []byte, resp *http.Response) error {
	ctype, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	isJSON := ctype == "application/json"
	var respBody []byte
	if isJSON && req.Method != http.MethodHead {
		var err error
		if respBody, err = io.ReadAll(resp.Body); err != nil {
			return err
		}
		resp.Body.Close()
		resp.Body = io.NopCloser(bytes.NewReader(respBody))
	}
	probe := req.Clone(req.Context())
	probe.Body = io.NopCloser(bytes.NewReader(reqBody))
	route, params, err := router.FindRoute(probe)
	if err != nil {
		// Not in the spec: only a 404/405 may answer it. Outside /api/v2/
		// the gateway's mux answers those in plain text (not httpx JSON).
		if resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusMethodNotAllowed {
			return nil
		}
		return fmt.Errorf("undocumented endpoint: %w", err)
	}
	opts := &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, MultiError: true}
	in := &openapi3filter.RequestValidationInput{Request: probe, PathParams: params, Route: route, Options: opts}
	if err := openapi3filter.ValidateRequest(req.Context(), in); err != nil && resp.StatusCode < 300 {
		return fmt.Errorf("the spec calls the request invalid, the gateway accepted it: %w", err)
	}
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: resp.StatusCode, Header: resp.Header,
		Body: io.NopCloser(bytes.NewReader(respBody)),
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, MultiError: true,
			ExcludeResponseBody: !isJSON || len(respBody) == 0, IncludeResponseStatus: true}}
	return openapi3filter.ValidateResponse(req.Context(), out)
}
