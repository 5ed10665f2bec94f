package api

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/mediaseal/mediaseal/ceremony/store"
)

// A recordings cursor is opaque to clients: base64url of the last row's
// place in the list order (started_at, id) and a digest of the filter it
// was issued for. It carries no secret and grants nothing (the caller
// already may list every row it could point at); the filter digest makes
// a cursor replayed under another filter a 400 instead of a silently
// wrong page, and the position keeps a page stable when the row it
// follows is shredded or deleted.
type recordingCursor struct {
	V int    `json:"v"`
	T int64  `json:"t"` // started_at, Unix nanoseconds
	I string `json:"i"` // recording id
	F string `json:"f"` // filterDigest of the query it continues
}

const maxCursorLen = 512

// filterDigest names a listing's filter: every query parameter but the
// page ones, sorted, so the same search always has the same digest.
func filterDigest(q url.Values) string {
	var parts []string
	for name, vals := range q {
		if name == "cursor" || name == "limit" || name == "after" {
			continue
		}
		for _, v := range vals {
			parts = append(parts, name+"="+v)
		}
	}
	sort.Strings(parts)
	sum := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return hex.EncodeToString(sum[:8])
}

func encodeCursor(last store.Recording, digest string) string {
	b, _ := json.Marshal(recordingCursor{V: 1, T: last.StartedAt.UnixNano(), I: last.ID, F: digest})
	return base64.RawURLEncoding.EncodeToString(b)
}

// decodeCursor validates a cursor against the filter it is used with.
func decodeCursor(s, digest string) (*store.Position, error) {
	if len(s) > maxCursorLen {
		return nil, fieldError("cursor", "is not a cursor this API issued (%d characters)", len(s))
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, fieldError("cursor", "is not a cursor this API issued")
	}
	var c recordingCursor
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil || c.V != 1 || c.T <= 0 || c.I == "" || len(c.I) > 128 || len(c.F) != 16 {
		return nil, fieldError("cursor", "is not a cursor this API issued")
	}
	if subtle.ConstantTimeCompare([]byte(c.F), []byte(digest)) != 1 {
		return nil, fieldError("cursor", "was issued for another filter: repeat the search with the same parameters")
	}
	return &store.Position{StartedAt: time.Unix(0, c.T).UTC(), ID: c.I}, nil
}
