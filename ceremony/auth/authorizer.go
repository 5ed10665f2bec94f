package auth

import (
	"context"
	"fmt"
	"net/http"
	"slices"

	"github.com/mediaseal/mediaseal/ceremony/audit"
	"github.com/mediaseal/mediaseal/httpx"
)

// Authorize authenticates the request's bearer token and checks that it
// carries scope; a personal session never gets a ceremony scope. Errors
// wrap ErrUnauthenticated or ErrForbidden. Refusals of a presented token
// are audited.
func (s *Service) Authorize(r *http.Request, scope string) (Identity, error) {
	tok, err := httpx.BearerToken(r)
	if err != nil {
		return Identity{}, err // wraps ErrUnauthenticated
	}
	return s.authorize(r.Context(), tok, scope, r.Method+" "+r.URL.Path, sourceOf(r))
}

func (s *Service) authorize(ctx context.Context, tok, scope, what, source string) (Identity, error) {
	id, err := s.Authenticate(ctx, tok)
	if err != nil {
		// Unauthenticated: aggregated by source address (failures.go).
		s.failures.failed(ctx, FailureBearerToken, source, "access.refused", what, err.Error())
		return Identity{}, err
	}
	if err := CheckScope(id, scope); err != nil {
		s.record(ctx, audit.Event{Actor: id.Principal, Action: "access.refused", Target: what, Outcome: audit.OutcomeRefused,
			Details: map[string]any{"scope": scope, "jti": id.JTI, "reason": err.Error()}})
		return Identity{}, err
	}
	return id, nil
}

// CheckScope says whether id may use scope.
func CheckScope(id Identity, scope string) error {
	if IsCeremonyScope(scope) && id.Kind != "SERVICE" {
		return fmt.Errorf("%w: %s needs a service account: personal sessions cannot run ceremonies", ErrForbidden, scope)
	}
	if !slices.Contains(id.Scopes, scope) {
		return fmt.Errorf("%w: token of %s lacks scope %s", ErrForbidden, id.Principal, scope)
	}
	return nil
}

// CheckToken is the session API's TokenChecker: it authorizes a bearer
// token for scope.
func (s *Service) CheckToken(token, scope string) error {
	_, err := s.authorize(context.Background(), token, scope, "session-api", "session-api")
	return err
}
