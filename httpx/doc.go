// Package httpx is the one HTTP layer of mediaseal's JSON endpoints: the
// session API, WHIP, the control plane and whatever endpoint comes next.
//
// It gives one error type and body ([Error], written by [WriteError]),
// one bearer-token parser ([BearerToken]) and authorization step
// ([Authorize], [RequireScope], [StaticToken]), one strict JSON body
// reader ([ReadJSON], [Unmarshal]) and one status recorder
// ([StatusRecorder]). The OAuth token endpoints keep the RFC 6749 §5.2
// error body their clients expect; every other error is an [Error].
package httpx
