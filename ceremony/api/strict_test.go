package api

import (
	"errors"
	"net/http"
	"testing"
)

// TestStrictUnmarshalErrors: the strict reader's refusals are 400s with
// the code and field a client can act on.
func TestStrictUnmarshalErrors(t *testing.T) {
	for _, tc := range []struct {
		name, body, code, field string
	}{
		{"duplicate", `{"name":"k","name":"k"}`, CodeMalformedJSON, "name"},
		{"case variant", `{"Name":"k"}`, CodeMalformedJSON, "Name"},
		{"nested case variant", `{"keyProvider":{"PROVIDERTYPE":"AWS_KMS"}}`, CodeMalformedJSON, "keyProvider.PROVIDERTYPE"},
		{"escaped key", `{"\u006eame":"k"}`, CodeMalformedJSON, "name"},
		{"invalid utf8", "{\"name\":\"\xff\"}", CodeMalformedJSON, ""},
		{"bom", "\xef\xbb\xbf{}", CodeMalformedJSON, ""},
		{"trailing", `{}{}`, CodeMalformedJSON, ""},
		{"unknown", `{"force":true}`, CodeUnknownField, "force"},
		{"wrong type", `{"autoRotate":"yes"}`, CodeInvalidField, "autoRotate"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var req bindKeyRequest
			err := strictUnmarshal([]byte(tc.body), &req)
			var e *Error
			if !errors.As(err, &e) || e.Status != http.StatusBadRequest || e.Code != tc.code || e.Field != tc.field {
				t.Fatalf("got %v, want 400 %s field %q", err, tc.code, tc.field)
			}
		})
	}
	var req bindKeyRequest
	if err := strictUnmarshal([]byte(`{"name":"k","keyProvider":{"providerType":"AWS_KMS"},"autoRotate":true}`), &req); err != nil || req.Name != "k" {
		t.Fatalf("plain body: %v %+v", err, req)
	}
}
