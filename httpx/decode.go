package httpx

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/mediaseal/mediaseal/httpx/strictjson"
)

// ReadJSON reads one JSON object of at most limit bytes from the request
// body into v with the strict reader (Unmarshal). A body over limit is a
// 413, an empty one a 400; every refusal is an *Error. The Content-Type
// is the caller's to check (CheckJSONType): the session API takes any.
func ReadJSON(w http.ResponseWriter, r *http.Request, limit int64, v any) error {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		return jsonError(err)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return Errorf(http.StatusBadRequest, CodeMalformedJSON, "request body is empty; send a JSON object")
	}
	return Unmarshal(body, v)
}

// CheckJSONType refuses (415) a request whose Content-Type is set and is
// not JSON; a missing Content-Type is taken as JSON.
func CheckJSONType(r *http.Request) error {
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return nil
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
		return Errorf(http.StatusUnsupportedMediaType, CodeUnsupportedMedia, "Content-Type %q: send application/json", ct)
	}
	return nil
}

// Unmarshal decodes body into v with strictjson.Unmarshal and turns a
// refusal into a 400 *Error naming the problem and the field. Every
// request body is read through it, so two readers (a gate and the
// handler after it, or a proxy) cannot read one body two ways.
func Unmarshal(body []byte, v any) error {
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

// jsonError turns a reading or decoding error into a 4xx naming what is
// wrong.
func jsonError(err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return Errorf(http.StatusRequestEntityTooLarge, CodeBodyTooLarge, "request body is larger than %d bytes", tooBig.Limit)
	case errors.Is(err, io.EOF):
		return Errorf(http.StatusBadRequest, CodeMalformedJSON, "request body is empty; send a JSON object")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return Errorf(http.StatusBadRequest, CodeMalformedJSON, "request body ends in the middle of the JSON")
	case errors.As(err, &syn):
		return Errorf(http.StatusBadRequest, CodeMalformedJSON, "malformed JSON at byte %d: %v", syn.Offset, syn)
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
	return Errorf(http.StatusBadRequest, CodeMalformedJSON, "cannot decode request body: %v", err)
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
