package controlplane

import (
	"context"
	"errors"
	"fmt"

	"go.uber.org/zap"

	"github.com/mediaseal/mediaseal/ceremony/api"
	"github.com/mediaseal/mediaseal/ceremony/audit"
	"github.com/mediaseal/mediaseal/ceremony/store"
)

// verifyAudit recomputes the chain, the signed checkpoints and the
// anchored heads as `mediaseal audit verify` does, with the keys the
// database holds, for GET /api/v2/audit/verify. A broken chain is a
// result (Intact false, the entry named); an error means the
// verification could not run.
func (s *Service) verifyAudit(ctx context.Context) (api.AuditVerification, error) {
	out := api.AuditVerification{Keys: "database"}
	keys, err := audit.PublicKeys(ctx, s.st)
	if err != nil {
		return out, fmt.Errorf("reading the audit keys: %w", err)
	}
	// Pinned keys replace the database's, never fall back to them: a file
	// that cannot be read is a verification that cannot run.
	if f := s.cfg.AuditPinnedKeysFile; f != "" {
		if keys, err = audit.ReadPinnedKeys(f); err != nil {
			return out, fmt.Errorf("reading the pinned audit keys (audit.pinnedKeysFile): %w", err)
		}
		out.Keys = "pinned"
	}
	var heads []store.AuditCheckpoint
	if s.deps.Anchor != nil {
		an, err := s.deps.Anchor(ctx)
		if err != nil {
			return out, fmt.Errorf("opening the audit anchor: %w", err)
		}
		if an != nil {
			if heads, err = an.Heads(ctx); err != nil {
				return out, fmt.Errorf("reading the audit anchor %s: %w", an, err)
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
		return out, err
	}
	return out, nil
}
