package store

import (
	"context"
	"fmt"

	"github.com/mediaseal/mediaseal/policy"
)

// LoadPolicySet compiles the current version of every live policy into a
// matcher. Policies keep their stored id and version, so a Decision names
// the exact version a new session records under. Gateways sharing one
// database call it to pick up changes made through any of them.
func LoadPolicySet(ctx context.Context, repo PolicyRepository) (*policy.Set, error) {
	list, err := repo.ListPolicies(ctx)
	if err != nil {
		return nil, err
	}
	ps := make([]policy.Policy, len(list))
	for i, sp := range list {
		ps[i] = sp.Policy
	}
	set, err := policy.NewSet(ps)
	if err != nil {
		return nil, fmt.Errorf("store: stored policies do not compile: %w", err)
	}
	return set, nil
}
