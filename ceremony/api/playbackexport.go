package api

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/mediaseal/mediaseal/kms"
)

// Response headers of a playback: how the read object ends, and whether
// the export is the whole recording as the index describes it. A salvage
// export of a cut object says TRUNCATED and false.
const (
	HeaderRecordingStatus   = "X-Recording-Status"
	HeaderRecordingVerified = "X-Recording-Verified"
)

// Error codes of a playback the stored recording does not allow.
const (
	// CodeRecordingIncomplete: the index does not say COMPLETE or
	// RECOVERED; only salvage=true reads it.
	CodeRecordingIncomplete = "recording_incomplete"
	// CodeRecordingIntegrity: the stored object is not the one the index
	// describes (cut, extended, swapped, rolled back, altered).
	CodeRecordingIntegrity = "recording_integrity"
)

// Errors an Exporter wraps so that a playback refusal gets its code.
var (
	ErrRecordingIncomplete = errors.New("recording is not complete")
	ErrRecordingIntegrity  = errors.New("stored recording does not match its index")
)

// ExportRequest is one playback's export.
type ExportRequest struct {
	ID, Format, Track string
	// Salvage asks for what verifies of a recording that is not whole.
	Salvage bool
	// Verified, when set, is called with the report once the whole read
	// is verified, before the first byte is written.
	Verified func(ExportReport)
}

// ExportReport says what an export read.
type ExportReport struct {
	Status      string // how the object ends: COMPLETE, RECOVERED, TRUNCATED
	IndexStatus string
	Chunks      int64
	// Verified: the export is the whole recording the index describes.
	Verified bool
	// Problems: how a salvaged object departs from the index.
	Problems []string
	// WAVFallback: why a WAV export was built in memory rather than
	// streamed ("" when it streamed).
	WAVFallback string
}

// salvageParam parses the salvage query parameter: exactly "true" asks
// for a salvage; "" and "false" do not; anything else is refused rather
// than guessed.
func salvageParam(v string) (bool, error) {
	switch v {
	case "true":
		return true, nil
	case "", "false":
		return false, nil
	}
	return false, fieldError("salvage", "must be true or false (got %s)", strconv.Quote(v))
}

// playbackRefusal maps an export error that came before any byte to its
// answer.
func playbackRefusal(id string, err error) *Error {
	for _, c := range []struct {
		err  error
		code string
	}{{ErrRecordingIncomplete, CodeRecordingIncomplete}, {ErrRecordingIntegrity, CodeRecordingIntegrity}} {
		if errors.Is(err, c.err) {
			// The exporter's own text says what is wrong; the sentinel
			// only chose the code.
			return errorf(http.StatusConflict, c.code, "%s", strings.TrimPrefix(err.Error(), c.err.Error()+": "))
		}
	}
	switch {
	case errors.Is(err, ErrRecordingShredded):
		return errorf(http.StatusConflict, CodeRecordingShredded, "recording %s was crypto-shredded: it can never be played back", id)
	case errors.Is(err, kms.ErrDisabled):
		// Disabled in its KMS behind the registry's back: say so, not the
		// SDK's text.
		return errorf(http.StatusConflict, CodeKeyState, "recording %s: its key is disabled in its KMS", id)
	}
	return errorf(http.StatusUnprocessableEntity, "export_failed", "recording %s cannot be exported: %v", id, err)
}

// auditDetails adds what the read found to a playback's audit details.
func (rep ExportReport) auditDetails(d map[string]any, salvage bool) {
	d["salvage"] = salvage
	d["readStatus"] = rep.Status
	d["indexStatus"] = rep.IndexStatus
	d["verified"] = rep.Verified
	d["chunks"] = rep.Chunks
	if len(rep.Problems) > 0 {
		d["problems"] = rep.Problems
	}
	if rep.WAVFallback != "" {
		d["wavFallback"] = rep.WAVFallback
	}
}
