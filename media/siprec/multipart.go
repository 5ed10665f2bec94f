package siprec

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"strings"
)

// Media types of a recording session body.
const (
	typeSDP       = "application/sdp"
	typeMetadata  = "application/rs-metadata+xml"
	typeMultipart = "multipart/mixed"
)

// Body limits: a SIP message is small; anything bigger is an attack or a bug.
const (
	maxBodyBytes = 256 << 10
	maxParts     = 8
)

// Body is a recording session body split into its parts.
type Body struct {
	SDP      []byte // application/sdp, nil if absent
	Metadata []byte // application/rs-metadata+xml, nil if absent
}

// SplitBody splits a request body by its Content-Type: multipart/mixed
// (RFC 5621) with at most one SDP and one metadata part, or a single SDP
// or metadata body. Parts of other types are ignored; a malformed
// multipart is ErrBody, a top-level type the SRS does not take is
// ErrMediaType.
func SplitBody(contentType string, body []byte) (Body, error) {
	var b Body
	if len(body) > maxBodyBytes {
		return b, wrap(ErrBody, "body of %d bytes exceeds %d", len(body), maxBodyBytes)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return b, nil
	}
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return b, wrap(ErrMediaType, "Content-Type %q: %v", contentType, err)
	}
	switch mt {
	case typeSDP:
		b.SDP = body
		return b, nil
	case typeMetadata:
		b.Metadata = body
		return b, nil
	case typeMultipart:
	default:
		return b, wrap(ErrMediaType, "Content-Type %s", mt)
	}
	boundary := params["boundary"]
	if boundary == "" || len(boundary) > 70 {
		return b, wrap(ErrBody, "multipart/mixed needs a boundary of 1-70 characters")
	}
	mr := multipart.NewReader(bytes.NewReader(body), boundary)
	for n := 0; ; n++ {
		p, err := mr.NextRawPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return b, wrap(ErrBody, "part %d: %v", n, err)
		}
		if n >= maxParts {
			return b, wrap(ErrBody, "more than %d parts", maxParts)
		}
		data, err := io.ReadAll(io.LimitReader(p, maxBodyBytes))
		if err != nil {
			return b, wrap(ErrBody, "part %d: %v", n, err)
		}
		pt, _, err := mime.ParseMediaType(p.Header.Get("Content-Type"))
		if err != nil {
			return b, wrap(ErrBody, "part %d: Content-Type %q: %v", n, p.Header.Get("Content-Type"), err)
		}
		var dst *[]byte
		switch strings.ToLower(pt) {
		case typeSDP:
			dst = &b.SDP
		case typeMetadata:
			dst = &b.Metadata
		default:
			continue // e.g. application/pidf+xml: not needed for recording
		}
		if *dst != nil {
			return b, wrap(ErrBody, "part %d: second %s part", n, pt)
		}
		*dst = data
	}
	if b.SDP == nil && b.Metadata == nil {
		return b, wrap(ErrBody, "multipart body has neither SDP nor metadata")
	}
	return b, nil
}
