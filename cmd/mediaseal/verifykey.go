package main

import (
	"context"
	"fmt"

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
	return s
}
