package auth

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/mediaseal/mediaseal/ceremony/store"
)

var urlQueryUnescape = url.QueryUnescape

// authenticateClient checks a client id and secret in constant time.
func (s *Service) authenticateClient(r *http.Request, id, secret string) error {
	p, err := s.repo.GetPrincipal(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) || id == "" {
		s.hasher.verify(id, secret, dummyHash)
		return fmt.Errorf("%w: unknown client or wrong secret", ErrInvalidClient)
	}
	if err != nil {
		return err
	}
	if p.Disabled || !s.hasher.verify(p.ID, secret, p.SecretHash) {
		return fmt.Errorf("%w: unknown client or wrong secret", ErrInvalidClient)
	}
	return nil
}
