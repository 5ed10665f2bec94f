package api

import (
	"net/http"

	"github.com/mediaseal/mediaseal/httpx"
)

// AuditVerification is what GET /api/v2/audit/verify answers: the CLI's
// `audit verify` report, and on a broken chain the first entry at fault.
type AuditVerification struct {
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
	// Keys says where the checkpoint keys came from: "pinned" (the
	// auditor's, audit.pinnedKeysFile) or "database" (a proof against the
	// database's holder then needs pinned keys: that config, or the CLI's
	// --keys).
	Keys      string `json:"keys"`
	BrokenSeq int64  `json:"brokenSeq,omitempty"`
	BrokenID  string `json:"brokenId,omitempty"`
	Reason    string `json:"reason,omitempty"`
}

// verifyAudit verifies the audit log for the auditor (the console's
// status). A broken chain is a 200 with intact false and the entry named;
// a verification that cannot run is a 503, never "intact".
func (s *server) verifyAudit(w http.ResponseWriter, r *http.Request) error {
	verify := s.deps.Ceremony.VerifyAudit
	if verify == nil {
		return errorf(http.StatusNotFound, CodeNotFound, "the audit log is not enabled on this gateway")
	}
	out, err := verify(r.Context())
	if err != nil {
		return errorf(http.StatusServiceUnavailable, httpx.CodeUnavailable, "cannot verify the audit log: %v", err)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
