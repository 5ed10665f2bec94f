package controlplane

import (
	"context"
	"errors"
	"fmt"
	"github.com/mediaseal/mediaseal/httpx"
	"net/http"
	"time"

	"go.uber.org/zap"

	"github.com/mediaseal/mediaseal/ceremony/api"
	"github.com/mediaseal/mediaseal/ceremony/approvals"
	"github.com/mediaseal/mediaseal/ceremony/audit"
	"github.com/mediaseal/mediaseal/ceremony/auth"
	"github.com/mediaseal/mediaseal/ceremony/retention"
	"github.com/mediaseal/mediaseal/ceremony/store"
	"github.com/mediaseal/mediaseal/kms/broker"
)

// auditCheckpointEvery is how often the audit log's head is signed; the
// approval sweep runs every ceremony.sweepInterval.
const auditCheckpointEvery = time.Minute

// Wrapper wraps the control plane's own keys under the platform key.
func (s *Service) Wrapper() auth.KeyWrapper {
	// The configured platform key's provider: with AWS KMS or the HSM
	// nothing on this host's disk unwraps the signing keys.
	return auth.KeyWrapper{Provider: s.deps.Providers[s.deps.PlatformKey.Provider], Key: s.deps.PlatformKey}
}

// OpenAuditLog opens the organisation's audit log (loading or creating
// its signing key) for operator tools, under the first-start lock so that
// a tool run against an empty store beside a starting gateway cannot
// create a second audit key.
func (s *Service) OpenAuditLog(ctx context.Context) (log *audit.Log, err error) {
	err = s.st.WithLock(ctx, store.LockFirstStart, func(ctx context.Context) error {
		log, err = s.openAuditLog(ctx)
		return err
	})
	return log, err
}

// openAuditLog is OpenAuditLog for a caller that holds the lock.
func (s *Service) openAuditLog(ctx context.Context) (*audit.Log, error) {
	kid, priv, err := s.Wrapper().SigningKey(ctx, s.st, store.KeyPurposeAuditSigning)
	if err != nil {
		return nil, fmt.Errorf("audit key: %w", err)
	}
	opts, err := s.auditAnchorOptions(ctx, audit.Options{Signer: priv, Kid: kid})
	if err != nil {
		return nil, err
	}
	return audit.New(s.st, opts), nil
}

// Open opens the token service, the audit log and the quorum, creates the
// first principals on first start, and builds the jobs service.
// adminTokenFile holds the bootstrap admin token, created on first start
// (the token is refused when the config turns it off).
func (s *Service) Open(ctx context.Context, adminTokenFile string) error {
	adminToken, err := httpx.EnsureTokenFile(adminTokenFile)
	if err != nil {
		return fmt.Errorf("admin token: %w", err)
	}
	// Gateways starting together on an empty store would each create a
	// signing key, a pepper and the principals: one at a time, the first
	// creates them and the others load them.
	if err := s.st.WithLock(ctx, store.LockFirstStart, s.openCeremony); err != nil {
		return err
	}
	s.approvals = approvals.New(s.st, s.approvalsConfig(), s.audit)
	s.api = api.Ceremony{Approvals: s.approvals, Audit: s.audit, Exporter: s.deps.Exporter, Keys: keyLifecycle{s},
		PlatformProvider: s.deps.PlatformKey.Provider, PlatformKeyID: s.deps.PlatformKey.KeyID, VerifyAudit: s.verifyAudit}
	if !s.cfg.AcceptAdminToken {
		adminToken = "" // ceremony.adminToken: false: service tokens only
	}
	s.adminToken = adminToken
	s.authz = ceremonyAuthorizer{svc: s.auth, admin: api.BootstrapToken(adminToken), adminToken: adminToken}
	if s.deps.Objects != nil {
		s.retention = retention.New(retention.Config{Store: s.st, Objects: s.deps.Objects, Audit: s.audit, Gateway: s.cfg.GatewayID,
			Interval: s.cfg.RetentionInterval, Logger: s.log.With(zap.String("component", "retention"))})
	}
	svc, err := s.jobsService()
	if err != nil {
		s.log.Error("background jobs disabled", zap.Error(err))
	} else {
		s.jobs = svc
	}
	return nil
}

// openCeremony loads (creating on first start) the audit and token
// signing keys, the secret pepper, the first principals and the quorum
// rules. The caller holds store.LockFirstStart.
func (s *Service) openCeremony(ctx context.Context) (err error) {
	if s.audit, err = s.openAuditLog(ctx); err != nil {
		return err
	}
	if s.auth, err = auth.New(ctx, s.st, s.Wrapper(), auth.Config{Issuer: "mediaseal/" + s.cfg.OrgID}, s.audit); err != nil {
		return fmt.Errorf("token service: %w", err)
	}
	if s.cfg.Bootstrap {
		created, err := s.auth.Bootstrap(ctx, s.cfg.DataDir, auth.DefaultBootstrap)
		if err != nil {
			return err
		}
		if created {
			s.log.Info("created the first principals; their client credentials are in the data directory",
				zap.String("dir", auth.CredentialsPath(s.cfg.DataDir, "")))
		}
	}
	return s.syncQuorumRules(ctx)
}

// CheckToken checks a service token for scope (an error before Open).
func (s *Service) CheckToken(token, scope string) error {
	if s.auth == nil {
		return errors.New("controlplane: the token service is not open")
	}
	return s.auth.CheckToken(token, scope)
}

// TokenIssuer is the issuer the service tokens carry ("" before Open).
func (s *Service) TokenIssuer() string {
	if s.auth == nil {
		return ""
	}
	return s.auth.Config().Issuer
}

// AuditLog is the audit log (nil before Open).
func (s *Service) AuditLog() *audit.Log { return s.audit }

// Routes mounts the OAuth token endpoints.
func (s *Service) Routes(mux httpx.Router) {
	if s.auth != nil {
		s.auth.Routes(mux)
	}
}

// ceremonyAuthorizer is the control plane's authorizer: service tokens,
// plus the bootstrap admin token, which can never run a quorum operation
// (it belongs to no principal that could propose or approve).
type ceremonyAuthorizer struct {
	svc        *auth.Service
	admin      api.Authorizer
	adminToken string
}

var _ api.Authorizer = ceremonyAuthorizer{}

func (a ceremonyAuthorizer) Authorize(r *http.Request, scope string) (api.Principal, error) {
	if tok, err := httpx.BearerToken(r); err == nil && httpx.TokenEqual(tok, a.adminToken) {
		return a.admin.Authorize(r, scope)
	}
	id, err := a.svc.Authorize(r, scope)
	switch {
	case errors.Is(err, auth.ErrForbidden):
		return api.Principal{}, fmt.Errorf("%w: %v", api.ErrForbidden, err)
	case err != nil:
		return api.Principal{}, fmt.Errorf("%w: %v", api.ErrUnauthenticated, err)
	}
	return api.Principal{ID: id.Principal, Scopes: id.Scopes}, nil
}

// RecordKeyEvent puts the broker's fallback and fail-closed decisions in
// the audit log.
func (s *Service) RecordKeyEvent(ctx context.Context, ev broker.Event) {
	if s.audit == nil {
		return
	}
	action, outcome := "recording.key_fallback", audit.OutcomeSuccess
	if ev.Outcome == broker.OutcomeFailClosed {
		action, outcome = "recording.key_fail_closed", audit.OutcomeFailure
	}
	details := map[string]any{"key": ev.Key.String(), "platformKey": ev.PlatformKey.String(), "reason": ev.Reason}
	if ev.Cause != nil {
		details["cause"] = ev.Cause.Error()
	}
	for k, v := range ev.Context {
		details["context."+k] = v
	}
	target := ev.Context["recording"]
	if target == "" {
		target = ev.Key.String()
	}
	// The broker calls this on the request's path: bound the write.
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if _, err := s.audit.Record(actx, audit.Event{Actor: "system", Action: action, Target: target, Outcome: outcome, Details: details}); err != nil {
		s.log.Error("audit: cannot record key event", zap.Error(err))
	}
}

// approvalsConfig is the quorum's configuration: expiry and windows from
// the config (tests shorten them); the rules always from the shared store
// (syncQuorumRules seeded it).
func (s *Service) approvalsConfig() approvals.Config {
	c := s.cfg.Approvals
	c.Rules, c.Store = nil, s.st
	return c
}

// Authorizer authorizes the gateway's own endpoints (session API, WHIP,
// metrics, audit heads): the bootstrap ingest token, compared in constant
// time, or a service token of the ceremony with the scope asked for.
func (s *Service) Authorizer(ingestToken string) httpx.Authorizer {
	return httpx.TokenCheck(func(token, scope string) error {
		if httpx.TokenEqual(token, ingestToken) {
			return nil
		}
		return s.CheckToken(token, scope)
	})
}
