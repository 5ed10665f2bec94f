package api

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/mediaseal/mediaseal/ceremony/store"
	"github.com/mediaseal/mediaseal/policy"
)

// policyJSON is a policy as the API shows it: the reference guide's
// schema plus id, version and timestamps.
type policyJSON struct {
	policy.Policy
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

func toPolicyJSON(sp store.StoredPolicy) policyJSON {
	if sp.TargetIDs == nil {
		sp.TargetIDs = []string{}
	}
	return policyJSON{Policy: sp.Policy, CreatedAt: sp.CreatedAt, UpdatedAt: sp.UpdatedAt}
}

// checkPolicy normalises and validates p and resolves its key reference
// against the keys registry (resolvePolicyKey): a key other than the
// platform key must be registered with the same provider type and bound,
// whatever its label.
func (s *server) checkPolicy(r *http.Request, p *policy.Policy) error {
	p.Normalize()
	if err := p.Validate(); err != nil {
		var fe *policy.FieldError
		if errors.As(err, &fe) {
			return fieldError(fe.Field, "%s (got %v)", fe.Msg, fe.Value)
		}
		return errorf(http.StatusBadRequest, CodeBadRequest, "%v", err)
	}
	_, err := s.resolvePolicyKey(r.Context(), p)
	return err
}

func (s *server) createPolicy(w http.ResponseWriter, r *http.Request) error {
	var p policy.Policy
	if err := s.decodeJSON(w, r, &p, false); err != nil {
		return err
	}
	if p.Version != 0 {
		return fieldError("version", "is assigned by the server; omit it when creating")
	}
	if err := s.checkPolicy(r, &p); err != nil {
		return err
	}
	sp, err := s.deps.Store.CreatePolicy(r.Context(), p)
	if errors.Is(err, store.ErrDuplicate) {
		return &Error{Status: http.StatusConflict, Code: CodeConflict, Field: "id", Message: fmt.Sprintf("policy %q exists", p.ID)}
	}
	if err != nil {
		return err
	}
	s.audit(r, "policy created", zap.String("policy", sp.ID), zap.Int64("version", sp.Version))
	w.Header().Set("Location", "/api/v2/recordings/policies/"+sp.ID)
	setETag(w, sp.Version)
	writeJSON(w, http.StatusCreated, toPolicyJSON(sp))
	return nil
}

func (s *server) listPolicies(w http.ResponseWriter, r *http.Request) error {
	list, err := s.deps.Store.ListPolicies(r.Context())
	if err != nil {
		return err
	}
	out := make([]policyJSON, 0, len(list))
	for _, sp := range list {
		out = append(out, toPolicyJSON(sp))
	}
	writeJSON(w, http.StatusOK, map[string]any{"entities": out, "total": len(out)})
	return nil
}

func (s *server) getPolicy(w http.ResponseWriter, r *http.Request) error {
	sp, err := s.deps.Store.GetPolicy(r.Context(), r.PathValue("id"))
	if err != nil {
		return policyStoreError(err, r.PathValue("id"))
	}
	setETag(w, sp.Version)
	writeJSON(w, http.StatusOK, toPolicyJSON(sp))
	return nil
}

func (s *server) updatePolicy(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	var p policy.Policy
	if err := s.decodeJSON(w, r, &p, false); err != nil {
		return err
	}
	if p.ID != "" && p.ID != id {
		return fieldError("id", "body id %q differs from the path id %q", p.ID, id)
	}
	p.ID = id
	expected, err := expectedVersion(r, p.Version, true)
	if err != nil {
		return err
	}
	p.Version = 0
	if err := s.checkPolicy(r, &p); err != nil {
		return err
	}
	sp, err := s.deps.Store.UpdatePolicy(r.Context(), p, expected)
	if err != nil {
		return policyStoreError(err, id)
	}
	s.audit(r, "policy changed", zap.String("policy", sp.ID), zap.Int64("version", sp.Version))
	setETag(w, sp.Version)
	writeJSON(w, http.StatusOK, toPolicyJSON(sp))
	return nil
}

func (s *server) deletePolicy(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	expected, err := expectedVersion(r, 0, false)
	if err != nil {
		return err
	}
	if err := s.deps.Store.DeletePolicy(r.Context(), id, expected); err != nil {
		return policyStoreError(err, id)
	}
	s.audit(r, "policy deleted", zap.String("policy", id))
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *server) listPolicyVersions(w http.ResponseWriter, r *http.Request) error {
	list, err := s.deps.Store.ListPolicyVersions(r.Context(), r.PathValue("id"))
	if err != nil {
		return policyStoreError(err, r.PathValue("id"))
	}
	out := make([]policyJSON, 0, len(list))
	for _, sp := range list {
		out = append(out, toPolicyJSON(sp))
	}
	writeJSON(w, http.StatusOK, map[string]any{"entities": out, "total": len(out)})
	return nil
}

func (s *server) getPolicyVersion(w http.ResponseWriter, r *http.Request) error {
	v, err := strconv.ParseInt(r.PathValue("version"), 10, 64)
	if err != nil || v <= 0 {
		return fieldError("version", "must be a positive integer (got %q)", r.PathValue("version"))
	}
	sp, err := s.deps.Store.GetPolicyVersion(r.Context(), r.PathValue("id"), v)
	if err != nil {
		return policyStoreError(err, r.PathValue("id"))
	}
	setETag(w, sp.Version)
	writeJSON(w, http.StatusOK, toPolicyJSON(sp))
	return nil
}

// expectedVersion reads the version a write is conditioned on: the
// If-Match header ("3" or "\"3\"") or the body's version; both must agree.
// A PUT without either is refused (428) so no change silently overwrites
// another.
func expectedVersion(r *http.Request, bodyVersion int64, required bool) (int64, error) {
	var header int64
	if h := r.Header.Get("If-Match"); h != "" {
		v, err := strconv.ParseInt(strings.Trim(strings.TrimPrefix(h, "W/"), `"`), 10, 64)
		if err != nil || v <= 0 {
			return 0, &Error{Status: http.StatusBadRequest, Code: CodeInvalidField, Field: "If-Match",
				Message: fmt.Sprintf("must be a policy version such as \"3\" (got %q)", h)}
		}
		header = v
	}
	switch {
	case header != 0 && bodyVersion != 0 && header != bodyVersion:
		return 0, fieldError("version", "body version %d differs from If-Match %d", bodyVersion, header)
	case header != 0:
		return header, nil
	case bodyVersion < 0:
		return 0, fieldError("version", "must be positive (got %d)", bodyVersion)
	case bodyVersion != 0:
		return bodyVersion, nil
	case required:
		return 0, errorf(http.StatusPreconditionRequired, CodePreconditionNeeded,
			"send the version you are changing as If-Match or as \"version\" in the body")
	}
	return 0, nil
}

func policyStoreError(err error, id string) error {
	switch {
	case errors.Is(err, store.ErrNotFound):
		return errorf(http.StatusNotFound, CodeNotFound, "policy %q not found", id)
	case errors.Is(err, store.ErrConflict):
		return errorf(http.StatusConflict, CodeConflict, "%v; read it again and retry", strings.TrimPrefix(err.Error(), "store: conflict: "))
	}
	return err
}

func setETag(w http.ResponseWriter, version int64) {
	w.Header().Set("ETag", strconv.Quote(strconv.FormatInt(version, 10)))
}

// audit logs a control-plane change with its principal; the hash-chained
// audit log replaces this in the ceremony work.
func (s *server) audit(r *http.Request, event string, fields ...zap.Field) {
	p, _ := PrincipalFrom(r.Context())
	s.log.Info("audit: "+event, append(fields, zap.String("principal", p.ID))...)
	s.auditEvent(r, event, fields)
}
