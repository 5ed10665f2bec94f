package gateway

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/mediaseal/mediaseal/ceremony/api"
	"github.com/mediaseal/mediaseal/ceremony/approvals"
	"github.com/mediaseal/mediaseal/ceremony/audit"
	"github.com/mediaseal/mediaseal/ceremony/auth"
	"github.com/mediaseal/mediaseal/ceremony/store"
	"github.com/mediaseal/mediaseal/kms/broker"
)

// auditCheckpointEvery is how often the audit log's head is signed; the
// approval sweep runs every ceremony.sweepInterval.
const auditCheckpointEvery = time.Minute

// ceremonyState is the key ceremony of a running gateway: service
// tokens, the quorum and the audit log.
type ceremonyState struct {
	approvalsCfg approvals.Config

	auth      *auth.Service
	audit     *audit.Log
	approvals *approvals.Service
	api       api.Ceremony
}

// WithApprovals sets the quorum rules, expiry and window (tests shorten them).
func WithApprovals(cfg approvals.Config) Option {
	return func(g *Gateway) { g.cer.approvalsCfg = cfg }
}

// ceremonyWrapper wraps the control plane's own keys under the platform key.
func (g *Gateway) ceremonyWrapper() auth.KeyWrapper {
	// The configured platform key's provider (platformkey.go): with AWS KMS
	// or the HSM nothing on this host's disk unwraps the signing keys.
	return auth.KeyWrapper{Provider: g.providers[g.platformRef().Provider], Key: g.platformRef()}
}

// OpenAuditLog opens the organisation's audit log (loading or creating
// its signing key) for operator tools, under the first-start lock so that
// a tool run against an empty store beside a starting gateway cannot
// create a second audit key.
func (g *Gateway) OpenAuditLog(ctx context.Context) (log *audit.Log, err error) {
	err = g.index.WithLock(ctx, store.LockFirstStart, func(ctx context.Context) error {
		log, err = g.openAuditLog(ctx)
		return err
	})
	return log, err
}

// openAuditLog is OpenAuditLog for a caller that holds the lock.
func (g *Gateway) openAuditLog(ctx context.Context) (*audit.Log, error) {
	kid, priv, err := g.ceremonyWrapper().SigningKey(ctx, g.index, store.KeyPurposeAuditSigning)
	if err != nil {
		return nil, fmt.Errorf("audit key: %w", err)
	}
	opts, err := g.auditAnchorOptions(ctx, audit.Options{Signer: priv, Kid: kid})
	if err != nil {
		return nil, err
	}
	return audit.New(g.index, opts), nil
}

// Store returns the control-plane store (operator tools).
func (g *Gateway) Store() *store.SQL { return g.index }

// startCeremony opens the token service, the audit log and the quorum,
// creates the first principals on first start, and puts the service
// tokens in front of the control plane and the session API (the bootstrap
// ingest token keeps working). The returned stop ends its background work.
func (g *Gateway) startCeremony(ctx context.Context) (stop func(), err error) {
	c := &g.cer
	// Gateways starting together on an empty store would each create a
	// signing key, a pepper and the principals: one at a time, the first
	// creates them and the others load them.
	if err := g.index.WithLock(ctx, store.LockFirstStart, g.openCeremony); err != nil {
		return nil, err
	}
	c.approvals = approvals.New(g.index, g.approvalsConfig(), c.audit)
	c.api = api.Ceremony{Approvals: c.approvals, Audit: c.audit, Exporter: exporter{g.playback}, Keys: keyLifecycle{g},
		PlatformProvider: g.platformRef().Provider, PlatformKeyID: g.platformRef().KeyID}
	admin := g.adminToken
	if !g.cfg.Ceremony.AcceptAdminToken() {
		admin = "" // ceremony.adminToken: false: service tokens only
	}
	g.apiAuthorizer = ceremonyAuthorizer{svc: c.auth, admin: api.BootstrapToken(admin), adminToken: admin}
	static := g.checkToken
	g.checkToken = func(token, scope string) error {
		if static != nil && static(token, scope) == nil {
			return nil
		}
		return c.auth.CheckToken(token, scope)
	}
	bg, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); c.audit.Run(bg, auditCheckpointEvery) }()
	go func() { defer wg.Done(); g.sweepApprovals(bg, g.cfg.Ceremony.Sweep()) }()
	return func() {
		cancel()
		wg.Wait()
		c.auth.FlushFailures(context.Background())      // aggregated failed authentications: no count is lost
		_, _ = c.audit.Checkpoint(context.Background()) // sign the head on the way out
	}, nil
}

// openCeremony loads (creating on first start) the audit and token
// signing keys, the secret pepper, the first principals and the quorum
// rules. The caller holds store.LockFirstStart.
func (g *Gateway) openCeremony(ctx context.Context) (err error) {
	c := &g.cer
	if c.audit, err = g.openAuditLog(ctx); err != nil {
		return err
	}
	if c.auth, err = auth.New(ctx, g.index, g.ceremonyWrapper(), auth.Config{Issuer: "mediaseal/" + g.cfg.Org.ID}, c.audit); err != nil {
		return fmt.Errorf("token service: %w", err)
	}
	if g.cfg.Ceremony.Bootstrap() {
		created, err := c.auth.Bootstrap(ctx, g.cfg.DataDir, auth.DefaultBootstrap)
		if err != nil {
			return err
		}
		if created {
			g.log.Info("created the first principals; their client credentials are in the data directory",
				zap.String("dir", auth.CredentialsPath(g.cfg.DataDir, "")))
		}
	}
	return g.syncQuorumRules(ctx)
}

// ceremonyRoutes mounts the OAuth token endpoints.
func (g *Gateway) ceremonyRoutes(mux *http.ServeMux) {
	if g.cer.auth != nil {
		g.cer.auth.Routes(mux)
	}
	g.auditHeadRoutes(mux)
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
	if tok, ok := api.BearerToken(r); ok && a.adminToken != "" && subtle.ConstantTimeCompare([]byte(tok), []byte(a.adminToken)) == 1 {
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

// recordKeyEvent puts the broker's fallback and fail-closed decisions in
// the audit log.
func (g *Gateway) recordKeyEvent(ctx context.Context, ev broker.Event) {
	if g.cer.audit == nil {
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
	if _, err := g.cer.audit.Record(actx, audit.Event{Actor: "system", Action: action, Target: target, Outcome: outcome, Details: details}); err != nil {
		g.log.Error("audit: cannot record key event", zap.Error(err))
	}
}
