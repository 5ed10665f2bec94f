package jobs

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/mediaseal/mediaseal/ceremony/store"
	"github.com/mediaseal/mediaseal/kms"
	"github.com/mediaseal/mediaseal/kms/recordingkey"
	"github.com/mediaseal/mediaseal/storage/seal"
)

// contextOf is the KMS context rec's DEK is wrapped under, from the index
// alone (a rewrap reads nothing else): the recorded one, checked against
// the row's org and policy, or the legacy one.
func contextOf(rec store.Recording) (kms.EncryptionContext, error) {
	want, err := indexed(rec)
	if err != nil {
		return nil, err
	}
	return recordingkey.Recorded(want.KMSContext, want)
}

// envelopeOf is rec's current envelope as the index holds it.
func envelopeOf(rec store.Recording) seal.Envelope {
	return recordingkey.Envelope(kms.KeyRef{Provider: rec.KeyProvider, KeyID: rec.KeyID}, rec.KeyVersion, rec.Fallback, rec.WrappedDEK)
}

// indexed is what the index says of rec, for recordingkey's checks.
func indexed(rec store.Recording) (recordingkey.Recording, error) {
	recorded, err := recordingkey.Unmarshal(rec.KMSContext)
	if err != nil {
		return recordingkey.Recording{}, fmt.Errorf("recording %s: index: %w", rec.ID, err)
	}
	return recordingkey.Recording{ID: rec.ID, OrgID: rec.OrgID, PolicyID: rec.PolicyID, KMSContext: recorded}, nil
}

// classify says whether rec is skipped (and why) or changed. A non-nil
// error is the recording's own failure, except ErrTargetNotCurrent which
// fails the job.
func (ex *execution) classify(ctx context.Context, rec store.Recording) (skip string, target string, err error) {
	switch {
	case rec.Status == store.RecordingShredded:
		return SkipShredded, "", nil
	case rec.Status == store.RecordingActive:
		return SkipActive, "", nil
	case len(rec.WrappedDEK) == 0 || rec.KeyProvider == "" || rec.KeyID == "":
		return SkipNoEnvelope, "", nil
	}
	if ex.job.Spec.Mode == ModeReseal {
		if rec.ObjectKey == "" {
			return SkipNoObject, "", nil
		}
		if ex.resealKey(rec) == rec.ObjectKey {
			return SkipAtTarget, "", nil
		}
		if ex.r.deps.Busy(rec.ID) {
			return SkipBusy, "", nil
		}
	}
	target, err = ex.targetOf(ctx, rec)
	if err != nil {
		return "", "", err
	}
	if ex.job.Spec.Mode == ModeRewrap && target != "" && rec.KeyVersion == target {
		return SkipAtTarget, target, nil
	}
	return "", target, nil
}

// targetOf returns the version rec's key moves to: the key's current
// version as its provider describes it; failing that the requested
// targetKeyVersion; failing that the version a first rewrap reported ("":
// not known yet).
func (ex *execution) targetOf(ctx context.Context, rec store.Recording) (string, error) {
	key := keyOf(rec.KeyProvider, rec.KeyID)
	ex.mu.Lock()
	cur, ok := ex.described[key]
	ex.mu.Unlock()
	if !ok {
		p, found := ex.r.deps.Provider(rec.KeyProvider)
		if !found {
			return "", fmt.Errorf("%w: %q (recording %s)", ErrNoProvider, rec.KeyProvider, rec.ID)
		}
		var info *kms.KeyInfo
		err := ex.kmsCall(ctx, func(ctx context.Context) (err error) {
			info, err = p.Describe(ctx, kms.KeyRef{Provider: rec.KeyProvider, KeyID: rec.KeyID})
			return err
		})
		if err != nil {
			return "", fmt.Errorf("describe %s: %w", key, err)
		}
		cur = info.CurrentVersion
		ex.mu.Lock()
		ex.described[key] = cur
		ex.mu.Unlock()
	}
	want := ex.job.Spec.TargetKeyVersion
	if rec.Fallback {
		want = "" // a fallback recording moves to the platform key's current version
	}
	switch {
	case cur != "" && want != "" && want != cur:
		return "", fmt.Errorf("%w: key %s is at version %q, not %q; rotate it first", ErrTargetNotCurrent, key, cur, want)
	case cur != "":
		return cur, nil
	case want != "":
		return want, nil
	}
	if t := ex.target(key); t != "" {
		return t, nil
	}
	return ex.probe(ctx, rec, key)
}

// probe learns the version a provider that does not describe versions
// (local-kms) wraps under now, by rewrapping rec's envelope without
// storing the result: nothing changes, but at-target recordings can be
// skipped and counted exactly.
func (ex *execution) probe(ctx context.Context, rec store.Recording, key string) (string, error) {
	p, ok := ex.r.deps.Provider(rec.KeyProvider)
	if !ok {
		return "", fmt.Errorf("%w: %q", ErrNoProvider, rec.KeyProvider)
	}
	ec, err := contextOf(rec)
	if err != nil {
		return "", err
	}
	var version string
	err = ex.kmsCall(ctx, func(ctx context.Context) (err error) {
		env, err := recordingkey.Rewrap(ctx, p, envelopeOf(rec), ec)
		clear(env.WrappedDEK)
		version = env.Key.KeyVersion
		return err
	})
	if err != nil {
		return "", fmt.Errorf("learn the current version of %s: %w", key, err)
	}
	if version == "" {
		return "", nil
	}
	ex.mu.Lock()
	ex.learned[key] = version
	ex.mu.Unlock()
	return version, nil
}

// target is the learned target of key ("" if none yet).
func (ex *execution) target(key string) string {
	ex.mu.Lock()
	defer ex.mu.Unlock()
	return ex.learned[key]
}

// process classifies rec and, unless it is skipped, changes it (without
// committing).
func (ex *execution) process(ctx context.Context, rec store.Recording) outcome {
	skip, target, err := ex.classify(ctx, rec)
	if err != nil {
		return outcome{err: err}
	}
	if skip != "" {
		return outcome{skip: skip}
	}
	if err := ex.limiter.Wait(ctx); err != nil {
		return outcome{err: err}
	}
	if ex.job.Spec.Mode == ModeReseal {
		return ex.reseal(ctx, rec, target)
	}
	return ex.rewrap(ctx, rec, target)
}

// rewrap asks the provider for a new envelope of rec's DEK under the key's
// current version. Nothing is read from object storage.
func (ex *execution) rewrap(ctx context.Context, rec store.Recording, target string) outcome {
	p, ok := ex.r.deps.Provider(rec.KeyProvider)
	if !ok {
		return outcome{err: fmt.Errorf("%w: %q", ErrNoProvider, rec.KeyProvider)}
	}
	ec, err := contextOf(rec)
	if err != nil {
		return outcome{err: err}
	}
	var env seal.Envelope
	err = ex.kmsCall(ctx, func(ctx context.Context) (err error) {
		env, err = recordingkey.Rewrap(ctx, p, envelopeOf(rec), ec)
		return err
	})
	wrapped, version := env.WrappedDEK, env.Key.KeyVersion
	if err != nil {
		return outcome{err: fmt.Errorf("rewrap: %w", err)}
	}
	if err := checkVersion(version, target); err != nil {
		return outcome{err: err}
	}
	return outcome{envelope: &store.EnvelopeChange{RecordingID: rec.ID, FromVersion: rec.KeyVersion, ToVersion: version, WrappedDEK: wrapped},
		target: keyOf(rec.KeyProvider, rec.KeyID), version: version, bytes: rec.Bytes}
}

// checkVersion refuses an envelope whose version is unknown or not the target.
func checkVersion(version, target string) error {
	if version == "" {
		return errors.New("the provider did not report the key version of the new envelope")
	}
	if target != "" && version != target {
		return fmt.Errorf("the provider wrapped under version %q, not the target %q (was the key rotated during the job?)", version, target)
	}
	return nil
}

// kmsCall runs f with the per-call timeout, retrying with jittered
// exponential backoff while the provider throttles.
func (ex *execution) kmsCall(ctx context.Context, f func(ctx context.Context) error) error {
	backoff := minBackoff
	for attempt := 0; ; attempt++ {
		cctx, cancel := context.WithTimeout(ctx, ex.r.cfg.KMSTimeout)
		err := f(cctx)
		cancel()
		if err == nil || !errors.Is(err, kms.ErrThrottled) || attempt >= ex.r.cfg.MaxThrottleRetries {
			return err
		}
		ex.throttled.Add(1)
		d := backoff/2 + rand.N(backoff/2+1)
		select {
		case <-time.After(d):
		case <-ctx.Done():
			return ctx.Err()
		}
		backoff = min(2*backoff, maxBackoff)
	}
}
