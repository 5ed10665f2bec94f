package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/mediaseal/mediaseal/ceremony/store"
)

// keyLine names the key (and its version) the recording's current
// envelope is wrapped under, as the index holds it: what a rewrap or a
// shred would act on. "version=unknown" is a recording a rewrap cannot
// check; a shredded recording says so.
func keyLine(ctx context.Context, st *store.SQL, id string) string {
	rec, err := st.GetRecording(ctx, id)
	if err != nil || rec.KeyID == "" {
		return ""
	}
	v := rec.KeyVersion
	if v == "" {
		v = "unknown"
	}
	s := fmt.Sprintf(" key=%s:%s version=%s", rec.KeyProvider, rec.KeyID, v)
	if rec.Fallback {
		s += " fallback"
	}
	if rec.Status == store.RecordingShredded {
		s += " SHREDDED"
	}
	// How each track reached the gateway: an auditor's proof that the
	// call was protected in transit (or was not).
	var ts []string
	for _, t := range rec.Tracks {
		tr := t.Transport
		if t.Suite != "" {
			tr += "/" + t.Suite
		}
		ts = append(ts, t.Label+":"+t.Codec+":"+tr)
	}
	if len(ts) > 0 {
		s += " tracks=" + strings.Join(ts, ",")
	}
	return s
}
