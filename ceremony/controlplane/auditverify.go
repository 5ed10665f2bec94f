package controlplane

import (
	"errors"
	"net/http"

	"go.uber.org/zap"

	"github.com/mediaseal/mediaseal/ceremony/audit"
	"github.com/mediaseal/mediaseal/ceremony/store"
	"github.com/mediaseal/mediaseal/httpx"
)

// PathAuditVerify is the route of the online audit verification.
const PathAuditVerify = "/api/v2/audit/verify"

// auditVerifyJSON is what GET /api/v2/audit/verify answers: the CLI's
// `audit verify` report, and on a broken chain the first entry at fault.
type auditVerifyJSON struct {
	Intact      bool   `json:"intact"`
	Entries     int64  `json:"entries"`
	HeadSeq     int64  `json:"headSeq"`
	HeadHash    string `json:"headHash"`
	Checkpoints int    `json:"checkpoints"`
	Anchored    int    `json:"anchored"`
	AnchoredSeq int64  `json:"anchoredSeq"`
	// Anchor names where the anchored heads came from ("" when none is
	// configured: a cut tail cannot then be told).
	Anchor string `json:"anchor"`
	// Keys says where the checkpoint keys came from: the database here,
	// so a proof against the database's holder needs the CLI with the
	// auditor's pinned keys (--keys).
	Keys      string `json:"keys"`
	BrokenSeq int64  `json:"brokenSeq,omitempty"`
	BrokenID  string `json:"brokenId,omitempty"`
	Reason    string `json:"reason,omitempty"`
}

// auditVerify recomputes the chain, the signed checkpoints and the
// anchored heads as `mediaseal audit verify` does (keys from the
// database), for the console's auditor. A broken chain is a 200 with
// intact false and the entry named; a verification that cannot run is a
// 503, never "intact".
func (s *Service) auditVerify(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	keys, err := audit.PublicKeys(ctx, s.st)
	if err != nil {
		headsError(w, http.StatusServiceUnavailable, httpx.CodeUnavailable, "cannot read the audit keys", err)
		return
	}
	out := auditVerifyJSON{Keys: "database"}
	var heads []store.AuditCheckpoint
	if s.deps.Anchor != nil {
		an, err := s.deps.Anchor(ctx)
		if err != nil {
			headsError(w, http.StatusServiceUnavailable, httpx.CodeUnavailable, "cannot open the audit anchor", err)
			return
		}
		if an != nil {
			if heads, err = an.Heads(ctx); err != nil {
				headsError(w, http.StatusServiceUnavailable, httpx.CodeUnavailable, "cannot read the audit anchor", err)
				return
			}
			out.Anchor = an.String()
		}
	}
	rep, err := audit.VerifyStore(ctx, s.st, keys, heads...)
	out.Entries, out.HeadSeq, out.HeadHash = rep.Entries, rep.HeadSeq, rep.HeadHash
	out.Checkpoints, out.Anchored, out.AnchoredSeq = rep.Checkpoints, rep.Anchored, rep.AnchoredSeq
	switch {
	case err == nil:
		out.Intact = true
	case errors.Is(err, audit.ErrBroken):
		out.BrokenSeq, out.BrokenID, out.Reason = rep.BrokenSeq, rep.BrokenID, rep.Reason
		if out.Reason == "" { // a forged checkpoint or anchor: no entry to name
			out.Reason = err.Error()
		}
		s.log.Warn("audit: verification through the API found the log tampered", zap.Int64("seq", rep.BrokenSeq), zap.String("reason", out.Reason))
	default:
		headsError(w, http.StatusServiceUnavailable, httpx.CodeUnavailable, "cannot verify the audit log", err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, out)
}
