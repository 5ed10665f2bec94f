// Package api is the control-plane HTTP API of mediaseal: recording
// policies (/api/v2/recordings/policies), the keys registry with its bind
// handshake (/api/v2/keys) and the recordings index (/api/v2/recordings),
// following the payloads of the reference key-ceremony guide. docs/api.md
// documents every endpoint, its scope and its errors.
//
// Authorization is one layer: every route is declared with the scope it
// needs ([Route]) and one middleware asks the [Authorizer] before the
// handler runs; handlers never check credentials themselves. Request bodies
// are decoded strictly (unknown fields, wrong types, trailing data and
// oversized bodies are 4xx errors that name the field).
package api
