package httpx

import (
	"encoding/json"
	"errors"
	"net/http"
)

// WriteJSON writes v as the JSON body of a status response.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v) // the client went away; nothing to do
}

// WriteError writes err as an error response: an *Error (wrapped or not)
// as it is, anything else as a 500 "internal error" whose text never
// reaches the client (it may name paths, keys or SQL): the caller logs
// it. It returns what it wrote.
func WriteError(w http.ResponseWriter, err error) *Error {
	var e *Error
	if !errors.As(err, &e) {
		e = Errorf(http.StatusInternalServerError, CodeInternal, "internal error")
	}
	WriteJSON(w, e.Status, e)
	return e
}
