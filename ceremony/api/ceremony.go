package api

import (
	"context"
	"io"
	"net/http"
	"strings"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/mediaseal/mediaseal/ceremony/approvals"
	"github.com/mediaseal/mediaseal/ceremony/audit"
	"github.com/mediaseal/mediaseal/ceremony/store"
)

// Scopes of the ceremony routes.
const (
	ScopeAuditRead        = "audit:read"
	ScopePlayback         = "recording:playback"
	ScopeApprovalsRead    = "approvals:read"
	ScopeApprovalsPropose = "approvals:propose"
	ScopeApprovalsApprove = "approvals:approve"
	ScopeApprovalsVeto    = "approvals:veto"
)

// HeaderApproval carries the id of the approved proposal a quorum-gated
// request executes.
const HeaderApproval = "X-Approval-Id"

// Exporter streams a verified export of a recording (the gateway's
// Export): wav, wav-stereo, pcap, ogg, ivf, h264, webm or mkv; track selects the track of a
// mono wav, ogg or ivf ("" for the first of the right kind). It refuses a
// recording that is not whole unless req.Salvage, wrapping
// ErrRecordingIncomplete or ErrRecordingIntegrity, before writing a byte.
type Exporter interface {
	ExportRecording(ctx context.Context, req ExportRequest, w io.Writer) (ExportReport, error)
}

// Ceremony is what the key-ceremony routes need. With a nil Approvals no
// route is quorum-gated and the ceremony routes answer 404.
type Ceremony struct {
	Approvals *approvals.Service
	Audit     *audit.Log
	Exporter  Exporter
	// PlatformProvider and PlatformKeyID name the platform key (kms.KeyRef
	// provider and key id; the local keyring, AWS KMS or the HSM): only
	// recordings under exactly that key count as platform-key recordings.
	// Empty means none does, so every playback needs the quorum.
	PlatformProvider, PlatformKeyID string
	// Keys carries out approved key disables and deletions in the key's
	// provider; nil changes only the registry state.
	Keys KeyLifecycle
	// VerifyAudit verifies the audit log now (GET /api/v2/audit/verify,
	// auditverify.go); nil answers 404.
	VerifyAudit func(ctx context.Context) (AuditVerification, error)
}

// KeyLifecycle carries out the destructive key operations once their
// quorum and delay are satisfied (the gateway implements it). Errors may
// be *Error (e.g. 409 for the platform key) or wrap kms sentinels.
type KeyLifecycle interface {
	// DisableKey disables k in its provider where the provider can
	// (kms.Disabler); false means only the registry state changes.
	DisableKey(ctx context.Context, k store.Key) (inProvider bool, err error)
	// ShredKey destroys k in its provider and marks every recording under
	// it SHREDDED (crypto-shredding); it returns how many. A retry after a
	// failure finishes the job.
	ShredKey(ctx context.Context, keyID, actor string) (recordings int64, err error)
}

func (s *server) ceremonyRoutes() []Route {
	return []Route{
		{"POST", "/api/v2/approvals", ScopeApprovalsPropose, s.propose},
		{"GET", "/api/v2/approvals", ScopeApprovalsRead, s.listApprovals},
		{"GET", "/api/v2/approvals/{id}", ScopeApprovalsRead, s.getApproval},
		{"POST", "/api/v2/approvals/{id}/approve", ScopeApprovalsApprove, s.approve},
		{"POST", "/api/v2/approvals/{id}/veto", ScopeApprovalsVeto, s.veto},
		{"GET", "/api/v2/audit/events", ScopeAuditRead, s.listAuditEvents},
		{"GET", "/api/v2/audit/verify", ScopeAuditRead, s.verifyAudit},
		// {part} is "media": a literal would conflict with /api/v2/recordings/policies/{id}.
		{"GET", "/api/v2/recordings/{id}/{part}", ScopePlayback, s.playback},
		{"POST", "/api/v2/keys/{keyId}/disable", ScopeKeyWrite, s.disableKey},
		{"POST", "/api/v2/keys/{keyId}/deletion", ScopeKeyWrite, s.scheduleKeyDeletion},
	}
}

// auditEvent appends a change the handlers of this package log to the
// hash-chained audit log (when configured): "key bind refused" becomes
// action key.bind.refused with outcome refused.
func (s *server) auditEvent(r *http.Request, event string, fields []zap.Field) {
	log := s.deps.Ceremony.Audit
	if log == nil {
		return
	}
	p, _ := PrincipalFrom(r.Context())
	enc := zapcore.NewMapObjectEncoder()
	for _, f := range fields {
		f.AddTo(enc)
	}
	target := ""
	for _, k := range []string{"legalHold", "integration", "key", "policy", "recording", "approval"} {
		if v, ok := enc.Fields[k].(string); ok {
			target = v
			break
		}
	}
	outcome := audit.OutcomeSuccess
	if strings.Contains(event, "refused") {
		outcome = audit.OutcomeRefused
	}
	if _, err := log.Record(r.Context(), audit.Event{Actor: p.ID, Action: strings.ReplaceAll(event, " ", "."),
		Target: target, Outcome: outcome, Details: enc.Fields}); err != nil {
		s.log.Error("audit: cannot record", zap.String("event", event), zap.Error(err))
	}
}
