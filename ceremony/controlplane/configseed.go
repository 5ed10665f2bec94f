package controlplane

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"go.uber.org/zap"

	"github.com/mediaseal/mediaseal/ceremony/audit"
	"github.com/mediaseal/mediaseal/ceremony/store"
	"github.com/mediaseal/mediaseal/kms"
	"github.com/mediaseal/mediaseal/policy"
)

// A config file is no way around the ceremony: its keys and policies go
// through the same registry as the API's, and what the quorum guards
// (binding a key, putting a queue on or off a customer key) is never done
// from a file.
//
//   - keys: the platform key needs no bind. Any other config key is
//     registered in the store (UNBOUND) if its id is new; binding it
//     needs the key.bind quorum through the API. A config key whose id is
//     registered with another provider or reference refuses the start (a
//     file cannot re-point a key).
//   - policies: a config policy the store already holds unchanged is
//     fine. One that differs is ignored (the store wins, as always). A new
//     one is created only if it uses the platform key and no stored
//     customer-key policy covers any of its queues; otherwise it is
//     refused (not created) — creating it through the API takes the
//     policy.encryption_key quorum.
//
// Every config entry not applied is logged and audited (refused).

// seedPolicies registers the config's keys and creates its platform-key
// policies, as above.
func (s *Service) seedPolicies(ctx context.Context) error {
	var events []audit.Event
	kev, err := s.seedConfigKeys(ctx)
	if err != nil {
		return err
	}
	events = append(events, kev...)
	pev, err := s.seedConfigPolicies(ctx)
	if err != nil {
		return err
	}
	events = append(events, pev...)
	if len(events) == 0 {
		return nil
	}
	log, err := s.openAuditLog(ctx) // the caller holds store.LockFirstStart
	if err != nil {
		return err
	}
	for _, ev := range events {
		if _, err := log.Record(ctx, ev); err != nil {
			return fmt.Errorf("audit %s %s: %w", ev.Action, ev.Target, err)
		}
	}
	return nil
}

// isPlatformRef reports whether a policy's key reference is the platform
// key (the only key a config file may put a queue under).
func (s *Service) isPlatformRef(ref *policy.KeyReference) bool {
	return ref == nil || (ref.ProviderType == policy.ProviderPlatform && ref.KeyID == s.cfg.PlatformKeyID)
}

// isPlatformConfigKey reports whether a config key is the platform key
// itself, under any id.
func (s *Service) isPlatformConfigKey(k Key) bool {
	return k.ProviderType == policy.ProviderPlatform && k.ProviderKeyID == s.cfg.PlatformKeyID
}

func (s *Service) seedConfigKeys(ctx context.Context) ([]audit.Event, error) {
	var events []audit.Event
	for i, k := range s.cfg.Keys {
		if s.isPlatformConfigKey(k) {
			continue
		}
		cur, err := s.st.GetKey(ctx, k.ID)
		switch {
		case err == nil:
			if cur.KeyType != k.ProviderType || cur.Ref != k.ProviderKeyID {
				return nil, &RepointError{Index: i, Key: k.ID, StoredType: cur.KeyType, StoredRef: cur.Ref, ConfigType: k.ProviderType, ConfigRef: k.ProviderKeyID}
			}
			if cur.Binding.Status != store.BindingBound {
				s.log.Warn("config key is registered but not bound: no policy can use it until the key.bind quorum binds it (POST /api/v2/keys/{keyId})",
					zap.String("key", k.ID))
			}
			continue
		case !errors.Is(err, store.ErrNotFound):
			return nil, fmt.Errorf("config key %s: %w", k.ID, err)
		}
		name := k.Name
		if name == "" {
			name = k.ID
		}
		if _, err := s.st.CreateKey(ctx, store.Key{ID: k.ID, Name: name, KeyType: k.ProviderType, Region: k.Region,
			Ref: k.ProviderKeyID, Description: "registered from the config file; bind it with the key.bind quorum",
			State: string(kms.StateEnabled)}); err != nil && !errors.Is(err, store.ErrDuplicate) {
			return nil, fmt.Errorf("register config key %s: %w", k.ID, err)
		}
		s.log.Warn("config key registered UNBOUND: binding it needs the key.bind quorum (POST /api/v2/keys/{keyId} with X-Approval-Id)",
			zap.String("key", k.ID), zap.String("providerType", k.ProviderType))
		events = append(events, audit.Event{Actor: "system", Action: "key.registered", Target: k.ID, Outcome: audit.OutcomeSuccess,
			Details: map[string]any{"keyType": k.ProviderType, "region": k.Region, "source": "config", "bound": false}})
	}
	return events, nil
}

func (s *Service) seedConfigPolicies(ctx context.Context) ([]audit.Event, error) {
	stored, err := s.st.ListPolicies(ctx)
	if err != nil {
		return nil, fmt.Errorf("seed policies: %w", err)
	}
	byID := map[string]policy.Policy{}
	for _, sp := range stored {
		byID[sp.ID] = sp.Policy
	}
	var events []audit.Event
	refuse := func(p policy.Policy, why string) {
		s.log.Warn("config policy not applied", zap.String("policy", p.ID), zap.String("reason", why))
		events = append(events, audit.Event{Actor: "system", Action: "policy.config_refused", Target: p.ID,
			Outcome: audit.OutcomeRefused, Details: map[string]any{"reason": why, "source": "config"}})
	}
	for _, p := range s.cfg.Policies {
		if cur, ok := byID[p.ID]; ok {
			if !samePolicy(cur, p) {
				refuse(p, "the store holds a different version of this policy; the store's applies (change it through the API)")
			}
			continue
		}
		if !s.isPlatformRef(p.EncryptionKeyReference) {
			refuse(p, fmt.Sprintf("it names key %s: putting queues under a key other than the platform key needs the "+
				"policy.encryption_key quorum; create it through the API (POST /api/v2/recordings/policies)", p.EncryptionKeyReference.KeyID))
			continue
		}
		if q, other := s.coversCustomerQueue(p, stored); other != "" {
			refuse(p, fmt.Sprintf("queue %s is under customer-key policy %s in the store: a platform-key policy from a file "+
				"could take it off that key; create it through the API", q, other))
			continue
		}
		if _, err := s.st.CreatePolicy(ctx, p); err != nil && !errors.Is(err, store.ErrDuplicate) {
			return nil, fmt.Errorf("seed policy %s: %w", p.ID, err)
		}
	}
	return events, nil
}

// coversCustomerQueue names a queue where p could win over a stored
// policy with a key other than the platform key, and that policy; "" if
// none. A policy naming its queues always beats a wildcard one ("*" or no
// targets; policy.Match), so a wildcard p can only take calls from a
// wildcard customer-key policy. It over-approximates otherwise
// (conditions, which also rank, are ignored): a config file never risks
// moving a queue off its customer key.
func (s *Service) coversCustomerQueue(p policy.Policy, stored []store.StoredPolicy) (string, string) {
	all := func(ids []string) bool { return len(ids) == 0 || slices.Contains(ids, "*") }
	for _, sp := range stored {
		if s.isPlatformRef(sp.EncryptionKeyReference) {
			continue
		}
		switch {
		case all(sp.TargetIDs) && all(p.TargetIDs):
			return "*", sp.ID
		case all(p.TargetIDs):
			continue
		case all(sp.TargetIDs):
			return p.TargetIDs[0], sp.ID
		}
		for _, q := range p.TargetIDs {
			if slices.Contains(sp.TargetIDs, q) {
				return q, sp.ID
			}
		}
	}
	return "", ""
}

// samePolicy compares two policies as the API would show them, version
// aside.
func samePolicy(a, b policy.Policy) bool {
	a.Version, b.Version = 0, 0
	a.Normalize()
	b.Normalize()
	ja, err1 := json.Marshal(a)
	jb, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && string(ja) == string(jb)
}
