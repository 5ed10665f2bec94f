package auth

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"time"

	"github.com/mediaseal/mediaseal/ceremony/audit"
	"github.com/mediaseal/mediaseal/ceremony/store"
)

// Defaults.
const (
	// DefaultMaxLifetime caps every token's lifetime.
	DefaultMaxLifetime = time.Hour
	// DefaultAudience is the aud of API tokens.
	DefaultAudience = "mediaseal-api"
	// DefaultLeeway tolerates clock skew between gateways.
	DefaultLeeway = 5 * time.Second
)

// Config configures token issuance.
type Config struct {
	// Issuer is the iss of tokens (e.g. "mediaseal/<org>").
	Issuer string
	// Audience is the aud of tokens (default DefaultAudience).
	Audience string
	// MaxLifetime caps token lifetimes (default DefaultMaxLifetime);
	// it is also the default lifetime.
	MaxLifetime time.Duration
	// Leeway for exp/iat/nbf checks (default DefaultLeeway).
	Leeway time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
	// FailureInterval and MaxFailureKeys tune the aggregation of failed
	// authentications in the audit log (failures.go; defaults
	// DefaultFailureInterval, DefaultMaxFailureKeys).
	FailureInterval time.Duration
	MaxFailureKeys  int
}

// Repository is the storage the service needs; *store.SQL implements it.
type Repository interface {
	KeyRepository
	CreatePrincipal(ctx context.Context, p store.Principal) (store.Principal, error)
	GetPrincipal(ctx context.Context, id string) (store.Principal, error)
	ListPrincipals(ctx context.Context) ([]store.Principal, error)
	SetPrincipalRoles(ctx context.Context, id string, roles []string) error
	RevokeToken(ctx context.Context, jti, principal, by string, expiresAt time.Time) error
	TokenRevoked(ctx context.Context, jti string) (bool, error)
}

var _ Repository = (*store.SQL)(nil)

// Recorder appends audit events; *audit.Log implements it.
type Recorder interface {
	Record(ctx context.Context, ev audit.Event) (store.AuditEntry, error)
}

var _ Recorder = (*audit.Log)(nil)

// Service issues and checks tokens and manages principals.
type Service struct {
	repo   Repository
	cfg    Config
	keys   *keySet
	hasher secretHasher
	audit  Recorder
	now    func() time.Time
	// failures aggregates failed authentications (audit flooding).
	failures *failureLog
}

// New loads (or creates on first start) the signing key and the secret
// pepper, wrapped under w. rec may be nil (no audit).
func New(ctx context.Context, repo Repository, w KeyWrapper, cfg Config, rec Recorder) (*Service, error) {
	if cfg.Audience == "" {
		cfg.Audience = DefaultAudience
	}
	if cfg.Issuer == "" {
		cfg.Issuer = "mediaseal"
	}
	if cfg.MaxLifetime <= 0 {
		cfg.MaxLifetime = DefaultMaxLifetime
	}
	if cfg.Leeway <= 0 {
		cfg.Leeway = DefaultLeeway
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &Service{repo: repo, cfg: cfg, audit: rec, now: cfg.Now, failures: newFailureLog(rec, cfg.FailureInterval, cfg.MaxFailureKeys)}
	s.keys = &keySet{repo: repo, wrap: w, maxLife: cfg.MaxLifetime, now: cfg.Now}
	if err := s.keys.load(ctx); err != nil {
		return nil, err
	}
	pk, pepper, err := w.LoadOrCreate(ctx, repo, store.KeyPurposeSecretPepper)
	if err != nil {
		return nil, err
	}
	s.hasher = secretHasher{kid: pk.Kid, pepper: pepper}
	return s, nil
}

// Config returns the effective configuration.
func (s *Service) Config() Config { return s.cfg }

func (s *Service) record(ctx context.Context, ev audit.Event) {
	if s.audit != nil {
		_, _ = s.audit.Record(ctx, ev) // the audit log reports its own failures
	}
}

var clientIDPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)

// CreatePrincipal creates a principal with roles (separation of duties
// checked) and returns it with its client secret, which is not stored.
func (s *Service) CreatePrincipal(ctx context.Context, id, name, kind string, roles []string) (store.Principal, string, error) {
	if !clientIDPattern.MatchString(id) {
		return store.Principal{}, "", fmt.Errorf("%w: client id %q (want 1-64 of a-z 0-9 . _ -)", ErrInvalidRequest, id)
	}
	if kind != store.PrincipalService && kind != store.PrincipalPersonal {
		return store.Principal{}, "", fmt.Errorf("%w: kind %q (want SERVICE or PERSONAL)", ErrInvalidRequest, kind)
	}
	if err := CheckSeparation(roles); err != nil {
		s.record(ctx, audit.Event{Action: "principal.create", Target: id, Outcome: audit.OutcomeRefused, Details: map[string]any{"roles": roles, "reason": err.Error()}})
		return store.Principal{}, "", err
	}
	secret := NewSecret()
	p, err := s.repo.CreatePrincipal(ctx, store.Principal{ID: id, Name: name, Kind: kind, Roles: roles, SecretHash: s.hasher.hash(id, secret)})
	if err != nil {
		return store.Principal{}, "", err
	}
	s.record(ctx, audit.Event{Action: "principal.created", Target: id, Details: map[string]any{"kind": kind, "roles": p.Roles}})
	return p, secret, nil
}

// Grant adds roles to a principal if the resulting set keeps separation
// of duties.
func (s *Service) Grant(ctx context.Context, by, id string, roles ...string) error {
	p, err := s.repo.GetPrincipal(ctx, id)
	if err != nil {
		return err
	}
	all := append(slices.Clone(p.Roles), roles...)
	slices.Sort(all)
	all = slices.Compact(all)
	if err := CheckSeparation(all); err != nil {
		s.record(ctx, audit.Event{Actor: by, Action: "principal.grant", Target: id, Outcome: audit.OutcomeRefused,
			Details: map[string]any{"roles": roles, "reason": err.Error()}})
		return err
	}
	if err := s.repo.SetPrincipalRoles(ctx, id, all); err != nil {
		return err
	}
	s.record(ctx, audit.Event{Actor: by, Action: "principal.grant", Target: id, Details: map[string]any{"roles": all}})
	return nil
}

// TokenRequest is a client-credentials grant.
type TokenRequest struct {
	ClientID, ClientSecret string
	// Scopes asked; empty asks for every scope the principal holds.
	Scopes []string
	// Lifetime asked; zero or more than the cap gets the cap.
	Lifetime time.Duration
	// Source is the requester's address: failures naming no existing
	// client are aggregated by it.
	Source string
}

// Token is an issued access token.
type Token struct {
	AccessToken string
	ExpiresIn   time.Duration
	Scopes      []string
	JTI         string
	Claims      *Claims
}

// dummyHash is compared when the client does not exist, so the time taken
// does not tell whether a client id exists.
const dummyHash = "hmac-sha256$x$0000000000000000000000000000000000000000000000000000000000000000"

// Issue authenticates the client (constant-time secret comparison) and
// issues a token with the intersection of asked and held scopes.
func (s *Service) Issue(ctx context.Context, req TokenRequest) (Token, error) {
	refuse := func(err error, details map[string]any) (Token, error) {
		if details == nil {
			details = map[string]any{}
		}
		details["reason"] = err.Error()
		s.record(ctx, audit.Event{Actor: req.ClientID, Action: "token.refused", Target: req.ClientID, Outcome: audit.OutcomeRefused, Details: details})
		return Token{}, err
	}
	// A failed client authentication is aggregated (failures.go): by
	// client id when the client exists, else by source address, so
	// random client ids cannot flood the audit log.
	badClient := func(key string, err error) (Token, error) {
		s.failures.failed(ctx, FailureClientSecret, key, "token.refused", req.ClientID, err.Error())
		return Token{}, err
	}
	if req.ClientID == "" || req.ClientSecret == "" {
		return badClient(req.Source, fmt.Errorf("%w: client id and secret are required", ErrInvalidClient))
	}
	p, err := s.repo.GetPrincipal(ctx, req.ClientID)
	if errors.Is(err, store.ErrNotFound) {
		s.hasher.verify(req.ClientID, req.ClientSecret, dummyHash)
		return badClient(req.Source, fmt.Errorf("%w: unknown client or wrong secret", ErrInvalidClient))
	}
	if err != nil {
		return Token{}, err
	}
	if !s.hasher.verify(p.ID, req.ClientSecret, p.SecretHash) {
		return badClient(p.ID, fmt.Errorf("%w: unknown client or wrong secret", ErrInvalidClient))
	}
	if p.Disabled {
		return refuse(fmt.Errorf("%w: client %s is disabled", ErrInvalidClient, p.ID), nil)
	}
	held, err := ScopesOf(p.Roles)
	if err != nil {
		return Token{}, err
	}
	if p.Kind != store.PrincipalService {
		held = slices.DeleteFunc(held, IsCeremonyScope)
	}
	granted := intersect(req.Scopes, held)
	if len(granted) == 0 {
		return refuse(fmt.Errorf("%w: none of %v is granted to %s", ErrInvalidScope, req.Scopes, p.ID), map[string]any{"asked": req.Scopes})
	}
	life := req.Lifetime
	if life <= 0 || life > s.cfg.MaxLifetime {
		life = s.cfg.MaxLifetime
	}
	signed, c, err := s.issue(p, granted, life)
	if err != nil {
		return Token{}, err
	}
	s.record(ctx, audit.Event{Actor: p.ID, Action: "token.issued", Target: p.ID, Details: map[string]any{
		"jti": c.ID, "scopes": granted, "asked": req.Scopes, "expiresAt": c.ExpiresAt.Time.Format(time.RFC3339), "kind": p.Kind}})
	return Token{AccessToken: signed, ExpiresIn: life, Scopes: granted, JTI: c.ID, Claims: c}, nil
}

// Identity is an authenticated caller.
type Identity struct {
	Principal string
	Kind      string
	Scopes    []string
	JTI       string
	ExpiresAt time.Time
}

// Authenticate verifies a bearer token and that it is not revoked and its
// principal still exists and is enabled.
func (s *Service) Authenticate(ctx context.Context, token string) (Identity, error) {
	c, err := s.ParseToken(ctx, token)
	if err != nil {
		return Identity{}, fmt.Errorf("%w: %v", ErrUnauthenticated, err)
	}
	revoked, err := s.repo.TokenRevoked(ctx, c.ID)
	if err != nil {
		return Identity{}, err
	}
	if revoked {
		return Identity{}, fmt.Errorf("%w: token %s was revoked", ErrUnauthenticated, c.ID)
	}
	p, err := s.repo.GetPrincipal(ctx, c.Subject)
	if err != nil || p.Disabled {
		return Identity{}, fmt.Errorf("%w: principal %s no longer exists or is disabled", ErrUnauthenticated, c.Subject)
	}
	return Identity{Principal: c.Subject, Kind: c.Kind, Scopes: c.Scopes(), JTI: c.ID, ExpiresAt: c.ExpiresAt.Time}, nil
}

// Revoke revokes token (which must verify) on behalf of by; a principal
// may revoke its own tokens.
func (s *Service) Revoke(ctx context.Context, by, token string) error {
	c, err := s.ParseToken(ctx, token)
	if err != nil {
		return err
	}
	if c.Subject != by {
		return fmt.Errorf("%w: %s may revoke only its own tokens", ErrForbidden, by)
	}
	if err := s.repo.RevokeToken(ctx, c.ID, c.Subject, by, c.ExpiresAt.Time); err != nil {
		return err
	}
	s.record(ctx, audit.Event{Actor: by, Action: "token.revoked", Target: c.Subject, Details: map[string]any{"jti": c.ID}})
	return nil
}

// RevokeJTI revokes a token by id (operators and tests).
func (s *Service) RevokeJTI(ctx context.Context, by, jti, principal string, expiresAt time.Time) error {
	if err := s.repo.RevokeToken(ctx, jti, principal, by, expiresAt); err != nil {
		return err
	}
	s.record(ctx, audit.Event{Actor: by, Action: "token.revoked", Target: principal, Details: map[string]any{"jti": jti}})
	return nil
}

// RotateSigningKey starts signing with a new key; tokens signed by the old
// one stay valid until they expire.
func (s *Service) RotateSigningKey(ctx context.Context, by string) (string, error) {
	kid, err := s.keys.rotate(ctx)
	if err != nil {
		return "", err
	}
	s.record(ctx, audit.Event{Actor: by, Action: "token.signing_key_rotated", Target: kid})
	return kid, nil
}

// JWKS returns the verification keys as a JSON Web Key Set.
func (s *Service) JWKS() map[string]any { return s.keys.jwks() }

// Principals lists every principal (no secrets: only hashes are stored).
func (s *Service) Principals(ctx context.Context) ([]store.Principal, error) {
	return s.repo.ListPrincipals(ctx)
}
