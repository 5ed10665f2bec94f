package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/mediaseal/mediaseal/ceremony/approvals"
	"github.com/mediaseal/mediaseal/policy"
)

// unnamedPolicyID stands for the id the store will give a policy created
// without one: it sorts before every valid id, the worst case for Match's
// tie-break (the new policy wins every tie), so no generated id can have
// an effect the gate did not see.
const unnamedPolicyID = "0"

// PolicyApprovalParams is the parameters of the policy.encryption_key
// approval for creating (version 0) or replacing (version = the current
// version) a policy: the whole normalised policy, so the value approved is
// the value that runs, and the version it replaces, so a policy changed
// after the approval refuses the claim.
func PolicyApprovalParams(p policy.Policy, version int64) (json.RawMessage, error) {
	p.Normalize()
	p.Version = 0
	m := map[string]any{"policy": p}
	if version != 0 {
		m["version"] = version
	}
	return canonicalParams(m)
}

// PolicyDeleteParams is the parameters of the approval to delete policy
// id at its current version.
func PolicyDeleteParams(id string, version int64) (json.RawMessage, error) {
	return canonicalParams(map[string]any{"delete": id, "version": version})
}

func canonicalParams(v any) (json.RawMessage, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("policy approval parameters: %w", err)
	}
	return approvals.Canonical(b)
}

// decodePolicyBody decodes a policy write's body with the strict reader
// the handler uses (strictUnmarshal over the same verified bytes), so the
// gate judges exactly the policy the handler will store.
func (s *server) decodePolicyBody(r *http.Request) (policy.Policy, error) {
	var p policy.Policy
	body, err := s.peekBody(r)
	if err != nil {
		return p, err
	}
	return p, strictUnmarshal(body, &p)
}

// policyGate gates a policy create, update or delete by its effect: with
// the matcher the gateway uses (policy.Set), it compares every queue's
// possible outcomes before and after the change, and any change that may
// move a call on or off a customer key, to another customer key, or to
// another failure mode or recording type under one needs the
// policy.encryption_key quorum; otherwise one that may keep a queue's
// recordings for less time needs the policy.retention quorum. Whatever it cannot check (bad body, store
// failure) is refused, never let through.
func (s *server) policyGate(r *http.Request) (approvals.Execution, bool, error) {
	ctx := r.Context()
	var (
		next    *policy.Policy
		id      string
		version int64
	)
	switch r.Method {
	case http.MethodPost, http.MethodPut:
		p, err := s.decodePolicyBody(r)
		if err != nil {
			return approvals.Execution{}, false, err
		}
		if r.Method == http.MethodPut {
			id = r.PathValue("id")
			if p.ID != "" && p.ID != id {
				return approvals.Execution{}, false, fieldError("id", "body id %q differs from the path id %q", p.ID, id)
			}
			p.ID = id
		} else if p.Version != 0 {
			return approvals.Execution{}, false, fieldError("version", "is assigned by the server; omit it when creating")
		}
		p.Version = 0
		if err := s.checkPolicy(r, &p); err != nil {
			return approvals.Execution{}, false, err
		}
		next, id = &p, p.ID
	case http.MethodDelete:
		id = r.PathValue("id")
	default:
		return approvals.Execution{}, false, errorf(http.StatusMethodNotAllowed, CodeMethodNotAllowed, "%s is not a policy write", r.Method)
	}
	stored, err := s.deps.Store.ListPolicies(ctx)
	if err != nil {
		return approvals.Execution{}, false, storeUnavailable(err)
	}
	var before, after []policy.Policy
	found := false
	for _, sp := range stored {
		before = append(before, sp.Policy)
		if sp.ID == id && id != "" {
			found, version = true, sp.Version
			continue // replaced or deleted
		}
		after = append(after, sp.Policy)
	}
	switch {
	case r.Method == http.MethodPost && found:
		return approvals.Execution{}, false, &Error{Status: http.StatusConflict, Code: CodeConflict, Field: "id", Message: fmt.Sprintf("policy %q exists", id)}
	case r.Method != http.MethodPost && !found:
		return approvals.Execution{}, false, errorf(http.StatusNotFound, CodeNotFound, "policy %q not found", id)
	}
	if next != nil {
		p := *next
		if p.ID == "" {
			p.ID = unnamedPolicyID
		}
		after = append(after, p)
	}
	affected, err := s.customerKeyEffect(r, before, after)
	if err != nil {
		return approvals.Execution{}, false, err
	}
	op, what := approvals.OpPolicyKey, "changes the customer key of"
	if len(affected) == 0 {
		// A change that keeps the keys may still shorten how long calls
		// to come are kept: deleting recordings is no one writer's call.
		if affected, err = s.retentionEffect(before, after); err != nil {
			return approvals.Execution{}, false, err
		}
		op, what = approvals.OpPolicyRetention, "shortens the retention of"
	}
	if len(affected) == 0 {
		return approvals.Execution{}, false, nil
	}
	if id == "" {
		return approvals.Execution{}, false, fieldError("id", "this policy %s queues %q: send an id, the change is approved by policy id", what, affected)
	}
	var params json.RawMessage
	if next != nil {
		params, err = PolicyApprovalParams(*next, version)
	} else {
		params, err = PolicyDeleteParams(id, version)
	}
	if err != nil {
		return approvals.Execution{}, false, err
	}
	return approvals.Execution{Operation: op, Target: id, Parameters: params}, true, nil
}

// retentionEffect lists the queues whose recordings to come the change
// from before to after may keep for less time (policy.RetentionEffect,
// with the organisation default the recorder uses).
func (s *server) retentionEffect(before, after []policy.Policy) ([]string, error) {
	a, err := policy.LiveSet(before, nil)
	if err != nil {
		return nil, storeUnavailable(fmt.Errorf("stored policies: %w", err))
	}
	b, err := policy.LiveSet(after, nil)
	if err != nil {
		return nil, errorf(http.StatusBadRequest, CodeBadRequest, "%v", err)
	}
	return policy.RetentionEffect(a, b, s.deps.OrgRetentionDays), nil
}

// customerKeyEffect lists the queues whose customer-key outcome the change
// from before to after may alter (policy.CustomerKeyEffect), with each
// policy's key resolved against the registry as the gateway does.
func (s *server) customerKeyEffect(r *http.Request, before, after []policy.Policy) ([]string, error) {
	keys, err := s.deps.Store.ListKeys(r.Context())
	if err != nil {
		return nil, storeUnavailable(err)
	}
	reg := make(map[string]policy.RegisteredKey, len(keys))
	for _, k := range keys {
		reg[k.ID] = k.Registered()
	}
	lookup := func(id string) (policy.RegisteredKey, bool, error) {
		k, ok := reg[id]
		return k, ok, nil
	}
	a, err := policy.LiveSet(before, nil)
	if err != nil {
		return nil, storeUnavailable(fmt.Errorf("stored policies: %w", err))
	}
	b, err := policy.LiveSet(after, nil)
	if err != nil {
		var fe *policy.FieldError
		if errors.As(err, &fe) {
			return nil, fieldError(fe.Field, "%s (got %v)", fe.Msg, fe.Value)
		}
		return nil, errorf(http.StatusBadRequest, CodeBadRequest, "%v", err)
	}
	outcome := func(p *policy.Policy) policy.Outcome {
		rk, err := policy.ResolveKey(p.EncryptionKeyReference, s.platformKeyID(), lookup)
		return policy.OutcomeOf(p, rk, err)
	}
	return policy.CustomerKeyEffect(a, b, outcome), nil
}
