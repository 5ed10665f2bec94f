package api

import (
	"bytes"
	"net/http"

	"github.com/mediaseal/mediaseal/httpx"
)

// decodeJSON reads exactly one JSON object from the body into v with the
// strict reader (strictUnmarshal): unknown fields, wrong types, trailing
// data and bodies over the limit are errors naming the field. On a gated
// route it decodes the very bytes the quorum gate checked (verifiedBody).
// allowEmpty lets an empty body leave v untouched.
func (s *server) decodeJSON(w http.ResponseWriter, r *http.Request, v any, allowEmpty bool) error {
	if err := httpx.CheckJSONType(r); err != nil {
		return err
	}
	body, err := s.peekBody(r)
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(body)) == 0 {
		if allowEmpty {
			return nil
		}
		return errorf(http.StatusBadRequest, CodeMalformedJSON, "request body is empty; send a JSON object")
	}
	return strictUnmarshal(body, v)
}

// strictUnmarshal is httpx.Unmarshal: every request body and every quorum
// gate reads JSON through it, so a gate and the handler after it cannot
// read one body two ways.
func strictUnmarshal(body []byte, v any) error { return httpx.Unmarshal(body, v) }
