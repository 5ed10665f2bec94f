package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/mediaseal/mediaseal/internal/strictjson"
)

// decodeJSON reads exactly one JSON object from the body into v with the
// strict reader (strictUnmarshal): unknown fields, wrong types, trailing
// data and bodies over the limit are errors naming the field. On a gated
// route it decodes the very bytes the quorum gate checked (verifiedBody).
// allowEmpty lets an empty body leave v untouched.
func (s *server) decodeJSON(w http.ResponseWriter, r *http.Request, v any, allowEmpty bool) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return errorf(http.StatusUnsupportedMediaType, CodeUnsupportedMedia, "Content-Type %q: send application/json", ct)
		}
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

// strictUnmarshal decodes body into v with strictjson.Unmarshal and turns
// a refusal into the API's 400 *Error naming the problem and the field.
// Every request body and every quorum gate reads JSON through it, so a
// gate and the handler after it cannot read one body two ways.
func strictUnmarshal(body []byte, v any) error {
	err := strictjson.Unmarshal(body, v)
	var se *strictjson.Error
	switch {
	case err == nil:
		return nil
	case errors.As(err, &se) && se.Unknown:
		return &Error{Status: http.StatusBadRequest, Code: CodeUnknownField, Field: se.Path, Message: se.Msg}
	case errors.As(err, &se):
		return &Error{Status: http.StatusBadRequest, Code: CodeMalformedJSON, Field: se.Path, Message: "request body refused: " + se.Msg}
	}
	return jsonError(err)
}

// jsonError turns a decoding error into a 4xx naming what is wrong.
func jsonError(err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return errorf(http.StatusRequestEntityTooLarge, CodeBodyTooLarge, "request body is larger than %d bytes", tooBig.Limit)
	case errors.Is(err, io.EOF):
		return errorf(http.StatusBadRequest, CodeMalformedJSON, "request body is empty; send a JSON object")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return errorf(http.StatusBadRequest, CodeMalformedJSON, "request body ends in the middle of the JSON")
	case errors.As(err, &syn):
		return errorf(http.StatusBadRequest, CodeMalformedJSON, "malformed JSON at byte %d: %v", syn.Offset, syn)
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			field = "(body)"
		}
		return &Error{Status: http.StatusBadRequest, Code: CodeInvalidField, Field: field,
			Message: fmt.Sprintf("wrong type: got JSON %s, want %s", typ.Value, jsonKind(typ.Type.String()))}
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return &Error{Status: http.StatusBadRequest, Code: CodeUnknownField, Field: field,
			Message: fmt.Sprintf("unknown field %q", field)}
	}
	return errorf(http.StatusBadRequest, CodeMalformedJSON, "cannot decode request body: %v", err)
}

// jsonKind names a Go type the way a JSON client thinks of it.
func jsonKind(goType string) string {
	switch {
	case goType == "string":
		return "string"
	case goType == "bool":
		return "boolean"
	case strings.HasPrefix(goType, "int"), strings.HasPrefix(goType, "uint"), strings.HasPrefix(goType, "float"):
		return "number"
	case strings.HasPrefix(goType, "[]"):
		return "array"
	}
	return "object"
}
