package jobs

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/mediaseal/mediaseal/ceremony/store"
	"github.com/mediaseal/mediaseal/kms"
)

// Rotation reasons.
const (
	RotationOnDemand  = "on-demand"
	RotationScheduled = "scheduled"
	// RotationObserved is a rotation the provider made itself (AWS KMS
	// automatic rotation), seen through Describe.
	RotationObserved = "observed"
)

// DefaultRotationCheck is how often the scheduler looks for due keys.
const DefaultRotationCheck = time.Minute

// RotationStore is what the rotator needs of the store; *store.SQL
// implements it.
type RotationStore interface {
	GetKey(ctx context.Context, id string) (store.Key, error)
	ListKeys(ctx context.Context) ([]store.Key, error)
	RecordKeyRotation(ctx context.Context, r store.KeyRotation) error
	SetKeyRotationVersion(ctx context.Context, keyID string, slot int64, version string) error
	DeleteKeyRotation(ctx context.Context, keyID string, slot int64) error
	LastKeyRotation(ctx context.Context, keyID string) (store.KeyRotation, bool, error)
	UpdateKeyBinding(ctx context.Context, id string, b store.Binding) (store.Key, error)
}

var _ RotationStore = (*store.SQL)(nil)

// KeyRotator rotates registered keys on demand and on their period.
type KeyRotator struct {
	Store RotationStore
	// Providers are the adapters open on this gateway: a key's registry
	// type finds its provider there, and what the provider can do (rotate
	// on demand, rotate itself) is what it implements.
	Providers kms.Registry
	Auditor   Auditor
	Logger    *zap.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Timeout bounds each provider call (default DefaultKMSTimeout).
	Timeout time.Duration
	// Rotated, when set, hears of each rotation made here, so that DEKs
	// pre-fetched under the old version are dropped (kms.pool).
	Rotated func(kms.KeyRef)
}

// Rotation is one rotation made or observed.
type Rotation struct {
	KeyID    string    `json:"keyId"`
	Provider string    `json:"provider"`
	Ref      string    `json:"ref"`
	Version  string    `json:"version"`
	Reason   string    `json:"reason"`
	Actor    string    `json:"actor"`
	At       time.Time `json:"rotatedAt"`
}

func (k *KeyRotator) now() time.Time {
	if k.Now != nil {
		return k.Now()
	}
	return time.Now()
}

func (k *KeyRotator) audit(ctx context.Context, rot Rotation, err error) {
	if k.Auditor == nil {
		return
	}
	ev := Event{At: k.now().UTC(), Actor: rot.Actor, Action: ActionKeyRotated, Target: "key:" + rot.KeyID, Outcome: "success",
		Details: map[string]any{"provider": rot.Provider, "ref": rot.Ref, "version": rot.Version, "reason": rot.Reason}}
	if err != nil {
		ev.Outcome, ev.Details["error"] = "failure", err.Error()
	}
	k.Auditor.Record(ctx, ev)
}

func (k *KeyRotator) timeout() time.Duration {
	if k.Timeout > 0 {
		return k.Timeout
	}
	return DefaultKMSTimeout
}

// RotateKey rotates a registered key now. Older versions keep unwrapping.
func (k *KeyRotator) RotateKey(ctx context.Context, keyID, actor string) (Rotation, error) {
	key, err := k.Store.GetKey(ctx, keyID)
	if err != nil {
		return Rotation{}, err
	}
	return k.rotate(ctx, key, k.now().UnixNano(), actor, RotationOnDemand)
}

// rotate claims slot for key, then asks the provider for a new version.
func (k *KeyRotator) rotate(ctx context.Context, key store.Key, slot int64, actor, reason string) (Rotation, error) {
	p, name, ok := k.Providers.Provider(key.KeyType)
	rot := Rotation{KeyID: key.ID, Provider: name, Ref: key.Ref, Reason: reason, Actor: actor}
	if !ok {
		err := fmt.Errorf("%w: key type %q", ErrNoProvider, key.KeyType)
		k.audit(ctx, rot, err)
		return rot, err
	}
	r, ok := p.(kms.Rotator)
	if !ok {
		err := fmt.Errorf("%w: %q", ErrNotRotatable, name)
		k.audit(ctx, rot, err)
		return rot, err
	}
	rot.At = k.now().UTC()
	if err := k.Store.RecordKeyRotation(ctx, store.KeyRotation{KeyID: key.ID, Slot: slot, Actor: actor, Reason: reason, RotatedAt: rot.At}); err != nil {
		return rot, err // ErrDuplicate: another gateway claimed this rotation
	}
	ref := kms.KeyRef{Provider: name, KeyID: key.Ref}
	cctx, cancel := context.WithTimeout(ctx, k.timeout())
	defer cancel()
	v, err := r.Rotate(cctx, ref)
	if err == nil && v == "" {
		// Asynchronous rotation (AWS): the new version shows in Describe.
		if info, derr := p.Describe(cctx, ref); derr == nil {
			v = info.CurrentVersion
		}
	}
	if err != nil {
		if derr := k.Store.DeleteKeyRotation(context.WithoutCancel(ctx), key.ID, slot); derr != nil {
			err = errors.Join(err, derr)
		}
		err = fmt.Errorf("rotate %s: %w", ref, err)
		k.audit(ctx, rot, err)
		return rot, err
	}
	rot.Version = v
	if err := k.Store.SetKeyRotationVersion(ctx, key.ID, slot, v); err != nil {
		return rot, err
	}
	k.bindVersion(ctx, key, v)
	if k.Rotated != nil {
		k.Rotated(ref)
	}
	k.audit(ctx, rot, nil)
	return rot, nil
}

// bindVersion makes v the key's current version in the registry, so GET
// /api/v2/keys/{id} and jobs see the version new recordings are wrapped
// under, not the one the key had when it was bound. A failure is logged:
// the rotation itself happened and is recorded.
func (k *KeyRotator) bindVersion(ctx context.Context, key store.Key, v string) {
	if v == "" || key.Binding.Status != store.BindingBound || key.Binding.KMSVersion == v {
		return
	}
	b := key.Binding
	b.KMSVersion, b.CheckedAt = v, k.now().UTC()
	if _, err := k.Store.UpdateKeyBinding(ctx, key.ID, b); err != nil && k.Logger != nil {
		k.Logger.Warn("key rotated but its binding keeps the old version", zap.String("key", key.ID), zap.String("version", v), zap.Error(err))
	}
}

// rotatable reports whether a registry state allows rotation.
func rotatable(state string) bool {
	switch state {
	case "DISABLED", "PENDING_DELETION", "DELETED", "SHREDDED", "DESTROYED":
		return false
	}
	return true
}

// Tick rotates every key with autoRotate whose period has passed since its
// last rotation (or since it was bound or registered), and records
// rotations that self-rotating providers made. Several gateways may tick
// at once: each due rotation is claimed once.
func (k *KeyRotator) Tick(ctx context.Context) ([]Rotation, error) {
	keys, err := k.Store.ListKeys(ctx)
	if err != nil {
		return nil, err
	}
	var out []Rotation
	var errs []error
	for _, key := range keys {
		if !key.Rotation.AutoRotate || key.Rotation.PeriodDays <= 0 || !rotatable(key.State) {
			continue
		}
		last, seen, err := k.Store.LastKeyRotation(ctx, key.ID)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		p, name, ok := k.Providers.Provider(key.KeyType)
		if !ok {
			continue
		}
		if ar, ok := p.(kms.AutoRotator); ok {
			// The provider rotates the key itself on the period: make sure
			// that is on, then record the versions it makes.
			if err := k.ensureAutoRotation(ctx, key, ar, name); err != nil {
				errs = append(errs, err)
			}
			if rot, ok := k.observe(ctx, key, p, name, last, seen); ok {
				out = append(out, rot)
			}
			continue
		}
		since := key.CreatedAt
		if !key.Binding.BoundAt.IsZero() {
			since = key.Binding.BoundAt
		}
		if seen {
			since = last.RotatedAt
		}
		due := since.Add(time.Duration(key.Rotation.PeriodDays) * 24 * time.Hour)
		if k.now().Before(due) {
			continue
		}
		rot, err := k.rotate(ctx, key, due.UnixNano(), "scheduler", RotationScheduled)
		switch {
		case errors.Is(err, store.ErrDuplicate):
		case err != nil:
			errs = append(errs, err)
		default:
			out = append(out, rot)
		}
	}
	return out, errors.Join(errs...)
}

// ensureAutoRotation turns on the provider's own rotation of key, every
// PeriodDays, when it is off (never turned on, or turned off in the
// provider behind the registry's back), audited as the scheduler's act.
func (k *KeyRotator) ensureAutoRotation(ctx context.Context, key store.Key, ar kms.AutoRotator, name string) error {
	cctx, cancel := context.WithTimeout(ctx, k.timeout())
	defer cancel()
	ref := kms.KeyRef{Provider: name, KeyID: key.Ref}
	on, err := ar.AutoRotation(cctx, ref)
	if err != nil {
		return fmt.Errorf("rotation status of %s: %w", ref, err)
	}
	if on {
		return nil
	}
	err = ar.EnableAutoRotation(cctx, ref, key.Rotation.PeriodDays)
	if k.Auditor != nil {
		ev := Event{At: k.now().UTC(), Actor: "scheduler", Action: ActionKeyAutoRotationEnabled, Target: "key:" + key.ID, Outcome: "success",
			Details: map[string]any{"provider": name, "ref": key.Ref, "periodDays": key.Rotation.PeriodDays}}
		if err != nil {
			ev.Outcome, ev.Details["error"] = "failure", err.Error()
		}
		k.Auditor.Record(ctx, ev)
	}
	if err != nil {
		return fmt.Errorf("enable rotation of %s every %d days: %w", ref, key.Rotation.PeriodDays, err)
	}
	return nil
}

// observe records a version change of a self-rotating key.
func (k *KeyRotator) observe(ctx context.Context, key store.Key, p kms.Provider, name string, last store.KeyRotation, seen bool) (Rotation, bool) {
	cctx, cancel := context.WithTimeout(ctx, k.timeout())
	defer cancel()
	info, err := p.Describe(cctx, kms.KeyRef{Provider: name, KeyID: key.Ref})
	if err != nil || info.CurrentVersion == "" {
		return Rotation{}, false
	}
	prev := key.Binding.KMSVersion
	if seen {
		prev = last.Version
	}
	if info.CurrentVersion == prev {
		return Rotation{}, false
	}
	rot := Rotation{KeyID: key.ID, Provider: name, Ref: key.Ref, Version: info.CurrentVersion, Reason: RotationObserved,
		Actor: "provider", At: k.now().UTC()}
	err = k.Store.RecordKeyRotation(ctx, store.KeyRotation{KeyID: key.ID, Slot: rot.At.UnixNano(), Version: rot.Version,
		Actor: rot.Actor, Reason: rot.Reason, RotatedAt: rot.At})
	if err != nil {
		return Rotation{}, false
	}
	k.bindVersion(ctx, key, rot.Version)
	if k.Rotated != nil {
		k.Rotated(kms.KeyRef{Provider: name, KeyID: key.Ref})
	}
	k.audit(ctx, rot, nil)
	return rot, true
}

// Run ticks every interval (DefaultRotationCheck if <= 0) until ctx is done.
func (k *KeyRotator) Run(ctx context.Context, every time.Duration) {
	if every <= 0 {
		every = DefaultRotationCheck
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		rots, err := k.Tick(ctx)
		if k.Logger != nil {
			for _, r := range rots {
				k.Logger.Info("key rotated", zap.String("key", r.KeyID), zap.String("version", r.Version), zap.String("reason", r.Reason))
			}
			if err != nil && ctx.Err() == nil {
				k.Logger.Warn("key rotation check", zap.Error(err))
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Service is a Runner and a KeyRotator together: what the control-plane
// API needs.
type Service struct {
	*Runner
	*KeyRotator
}
