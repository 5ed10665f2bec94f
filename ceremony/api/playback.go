package api

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"

	"go.uber.org/zap"

	"github.com/mediaseal/mediaseal/ceremony/audit"
	"github.com/mediaseal/mediaseal/ceremony/store"
)

// playbackAuditTimeout bounds the audit write after a playback, which no
// longer depends on the requester's connection.
const playbackAuditTimeout = 10 * time.Second

// playbackFormats are the formats GET /api/v2/recordings/{id}/media serves.
var playbackFormats = map[string]struct{ contentType, ext string }{
	"wav":        {"audio/wav", "wav"},
	"wav-stereo": {"audio/wav", "wav"},
	"pcap":       {"application/vnd.tcpdump.pcap", "pcap"},
	"ogg":        {"audio/ogg", "ogg"},   // Ogg Opus of the Opus track (RFC 7845)
	"ivf":        {"video/x-ivf", "ivf"}, // IVF of the VP8 video track
	"h264":       {"video/h264", "h264"}, // Annex B of the H.264 video track
	"webm":       {"video/webm", "webm"}, // VP8 video and Opus audio
	"mkv":        {"video/x-matroska", "mkv"},
}

// playback streams a verified export of a recording. The quorum gate has
// already claimed the caller's approval; a failure before the first byte
// releases it, a failure mid-stream aborts the connection.
func (s *server) playback(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if r.PathValue("part") != "media" {
		return errorf(http.StatusNotFound, CodeNotFound, "no endpoint %s %s", r.Method, r.URL.Path)
	}
	v := r.URL.Query()
	if err := checkParams(v, map[string]bool{"format": true, "track": true, "salvage": true}); err != nil {
		return err
	}
	salvage, err := salvageParam(v.Get("salvage"))
	if err != nil {
		return err
	}
	format := v.Get("format")
	if format == "" {
		format = "wav"
	}
	ft, ok := playbackFormats[format]
	if !ok {
		return fieldError("format", "must be wav, wav-stereo, pcap, ogg, ivf, h264, webm or mkv (got %q)", format)
	}
	rec, err := s.deps.Store.GetRecording(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		return errorf(http.StatusNotFound, CodeNotFound, "recording %q not found", id)
	}
	if err != nil {
		return err
	}
	if s.deps.Ceremony.Exporter == nil {
		return errorf(http.StatusNotFound, CodeNotFound, "playback is not enabled on this gateway")
	}
	if err := s.recordingKeyUsable(r.Context(), rec); err != nil {
		return err
	}
	var rep ExportReport // set before the first byte is written
	track := v.Get("track")
	req := ExportRequest{ID: rec.ID, Format: format, Track: track, Salvage: salvage}
	part, err := s.playbackRange(r, w, req)
	lw := &lazyHeader{w: w, set: func() {
		h := w.Header()
		h.Set("Content-Type", ft.contentType)
		h.Set("Content-Disposition", `attachment; filename="`+rec.ID+"."+ft.ext+`"`)
		h.Set("Cache-Control", "no-store")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Accept-Ranges", "bytes")
		h.Set(HeaderRecordingStatus, rep.Status)
		h.Set(HeaderRecordingVerified, strconv.FormatBool(rep.Verified))
		if part != nil {
			h.Set("Content-Range", contentRange(part.start, part.end, part.size))
			h.Set("Content-Length", strconv.FormatInt(part.end-part.start+1, 10))
			w.WriteHeader(http.StatusPartialContent)
		}
	}}
	p, _ := PrincipalFrom(r.Context())
	if err == nil {
		var dst io.Writer = lw
		if part != nil {
			dst = &windowWriter{w: lw, skip: part.start, remain: part.end - part.start + 1}
		}
		req.Verified = func(v ExportReport) { rep = v }
		rep, err = s.deps.Ceremony.Exporter.ExportRecording(r.Context(), req, dst)
	}
	ev := audit.Event{Actor: p.ID, Action: "recording.playback", Target: rec.ID, Outcome: audit.OutcomeSuccess,
		Details: map[string]any{"format": format, "track": track, "bytes": lw.n, "keyProvider": rec.KeyProvider, "keyId": rec.KeyID, "approval": r.Header.Get(HeaderApproval)}}
	if part != nil {
		ev.Details["range"] = contentRange(part.start, part.end, part.size)
	}
	rep.auditDetails(ev.Details, salvage)
	if err != nil {
		ev.Outcome, ev.Details["reason"] = audit.OutcomeFailure, err.Error()
	}
	if log := s.deps.Ceremony.Audit; log != nil {
		// The requester may have hung up mid-download (r.Context() is then
		// cancelled): who heard how much of a recording is recorded anyway.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), playbackAuditTimeout)
		defer cancel()
		if _, aerr := log.Record(ctx, ev); aerr != nil {
			s.log.Error("audit: cannot record playback", zap.Error(aerr))
		}
	}
	switch {
	case err == nil:
		return nil
	case lw.n > 0:
		s.log.Error("playback failed mid-stream", zap.String("recording", rec.ID), zap.Error(err))
		return errAbort
	}
	var e *Error
	if errors.As(err, &e) && e.Code == CodeRangeNotSatisfiable {
		return e
	}
	return playbackRefusal(rec.ID, err)
}

// partial is the byte range a playback answers with 206.
type partial struct{ start, end, size int64 }

// playbackRange reads the request's Range header. With one byte range
// (and no If-Range, which the export has no validator for), the export
// is first run to count its length, since a range from the end needs it
// and the answer must state it; the second run, the one audited, sends
// only the range. An export still verifies the whole recording before
// its first byte either way. Nil means the whole export; a range past
// the end is a 416 whose Content-Range gives the length.
func (s *server) playbackRange(r *http.Request, w http.ResponseWriter, req ExportRequest) (*partial, error) {
	h := r.Header.Get("Range")
	if h == "" || r.Header.Get("If-Range") != "" {
		return nil, nil
	}
	rs, ok := parseRange(h)
	if !ok {
		return nil, nil
	}
	var n countWriter
	if _, err := s.deps.Ceremony.Exporter.ExportRecording(r.Context(), req, &n); err != nil {
		return nil, err
	}
	start, end, ok := rs.resolve(n.n)
	if !ok {
		w.Header().Set("Content-Range", "bytes */"+strconv.FormatInt(n.n, 10))
		return nil, errorf(http.StatusRequestedRangeNotSatisfiable, CodeRangeNotSatisfiable,
			"range %q is outside the %d bytes of this export", h, n.n)
	}
	return &partial{start: start, end: end, size: n.n}, nil
}

// lazyHeader sets the success headers only when the first byte is written.
type lazyHeader struct {
	w   http.ResponseWriter
	set func()
	n   int64
}

func (l *lazyHeader) Write(b []byte) (int, error) {
	if l.n == 0 && len(b) > 0 {
		l.set()
	}
	n, err := l.w.Write(b)
	l.n += int64(n)
	return n, err
}
