package broker

import (
	"context"
	"errors"
	"fmt"

	"github.com/mediaseal/mediaseal/kms"
)

// Acquire starts getting a DEK for req and returns at once. ctx is the
// session's: cancelling it abandons the request.
func (b *Broker) Acquire(ctx context.Context, req Request) *Pending {
	p := &Pending{done: make(chan struct{})}
	b.AcquireFunc(ctx, req, func(res *Result, err error) {
		p.res, p.err = res, err
		close(p.done)
	})
	return p
}

// AcquireFunc is Acquire handing the outcome to done instead of a Pending:
// done runs once, in the request's own goroutine (or before AcquireFunc
// returns when the broker is closed), so a caller needs no goroutine of
// its own to wait for the DEK. done should not block for long.
func (b *Broker) AcquireFunc(ctx context.Context, req Request, done func(*Result, error)) {
	b.mu.Lock()
	if b.stopCtx.Err() != nil {
		b.mu.Unlock()
		done(nil, ErrClosed)
		return
	}
	b.wg.Add(1)
	b.mu.Unlock()
	go func() {
		defer b.wg.Done()
		start := b.now()
		res, err := b.acquire(ctx, req)
		latency := b.now().Sub(start)
		outcome := OutcomeError
		switch {
		case err == nil && res.Pooled:
			outcome = OutcomePooled
		case err == nil && res.Fallback:
			outcome = OutcomeFallback
		case err == nil:
			outcome = OutcomeOK
		case errors.Is(err, ErrFailClosed):
			outcome = OutcomeFailClosed
		}
		if res != nil {
			res.Latency = latency
		}
		b.metrics.Request(req.Key, outcome, latency)
		done(res, err)
	}()
}

func (b *Broker) acquire(ctx context.Context, req Request) (*Result, error) {
	mode := req.OnKeyUnavailable
	if mode == "" {
		mode = PlatformKey
	}
	if mode != PlatformKey && mode != FailClosed {
		return nil, fmt.Errorf("broker: onKeyUnavailable %q is not %s or %s", mode, PlatformKey, FailClosed)
	}
	platform := req.PlatformKey
	if platform == (kms.KeyRef{}) {
		platform = b.cfg.PlatformKey
	}
	// A policy on the platform key has nothing to fall back to.
	if req.Key == platform {
		dk, err := b.generate(ctx, platform, req.Context)
		if err != nil {
			return nil, err
		}
		return &Result{DataKey: dk, Key: platform, KeyVersion: dk.KeyVersion, Context: req.Context}, nil
	}
	if req.Unusable != nil {
		return b.unavailable(ctx, req, mode, platform, req.Unusable)
	}
	if res := b.fromPool(req); res != nil {
		return res, nil
	}

	br := b.breakerFor(req.Key)
	var cause error
	if ok, probe := br.allow(b.now()); !ok {
		cause = fmt.Errorf("%w for key %s", ErrBreakerOpen, req.Key)
	} else {
		dk, err := b.generate(ctx, req.Key, req.Context)
		switch {
		case err == nil:
			b.metrics.BreakerState(req.Key, br.success())
			return &Result{DataKey: dk, Key: req.Key, KeyVersion: dk.KeyVersion, Context: req.Context}, nil
		case ctx.Err() != nil: // the session went away: no verdict on the KMS
			br.release(probe)
			return nil, fmt.Errorf("broker: key %s: %w", req.Key, ctx.Err())
		case availabilityFailure(err):
			b.metrics.BreakerState(req.Key, br.failure(b.now()))
		default: // the KMS answered (disabled, not found, ...): it is up
			b.metrics.BreakerState(req.Key, br.success())
		}
		cause = err
	}
	return b.unavailable(ctx, req, mode, platform, cause)
}

// unavailable applies the request's OnKeyUnavailable after its key failed
// with cause: fail closed, or a DEK under the platform key. Either way the
// audit hook hears of it.
func (b *Broker) unavailable(ctx context.Context, req Request, mode OnKeyUnavailable, platform kms.KeyRef, cause error) (*Result, error) {
	ev := Event{Time: b.now(), Key: req.Key, Mode: mode, Reason: reasonOf(cause), Cause: cause, Context: req.Context}
	if mode == FailClosed {
		ev.Outcome = OutcomeFailClosed
		b.emit(ctx, ev)
		return nil, fmt.Errorf("%w: key %s (%s): %w", ErrFailClosed, req.Key, ev.Reason, cause)
	}
	dk, err := b.generate(ctx, platform, req.Context)
	if err != nil {
		return nil, fmt.Errorf("broker: platform key %s failed after key %s failed (%v): %w", platform, req.Key, cause, err)
	}
	ev.Outcome, ev.PlatformKey = OutcomeFallback, platform
	b.emit(ctx, ev)
	return &Result{
		DataKey: dk, Key: platform, KeyVersion: dk.KeyVersion, Context: req.Context,
		Fallback: true, Reason: ev.Reason, Cause: cause,
	}, nil
}

func (b *Broker) emit(ctx context.Context, ev Event) {
	b.metrics.Fallback(ev.Key, ev.Reason)
	if b.audit != nil {
		b.audit(ctx, ev)
	}
}

type generated struct {
	dk  *kms.DataKey
	err error
}

// generate asks key's provider for a DEK, bounded by the timeout whatever
// the provider does with its context: a provider call still running at the
// deadline is abandoned and its late DEK, if any, wiped.
func (b *Broker) generate(ctx context.Context, key kms.KeyRef, ec kms.EncryptionContext) (*kms.DataKey, error) {
	p, ok := b.providers[key.Provider]
	if !ok || p == nil {
		return nil, fmt.Errorf("%w %s: %w", ErrNoProvider, key, kms.ErrNotFound)
	}
	ctx, cancel := context.WithTimeout(ctx, b.cfg.Timeout)
	defer cancel()
	stop := context.AfterFunc(b.stopCtx, cancel)
	defer stop()
	out := make(chan generated, 1)
	go func() {
		dk, err := p.GenerateDataKey(ctx, key, ec)
		out <- generated{dk, err}
	}()
	select {
	case g := <-out:
		if g.err != nil && errors.Is(g.err, context.DeadlineExceeded) && !errors.Is(g.err, kms.ErrUnavailable) {
			g.err = fmt.Errorf("%w: %w", kms.ErrUnavailable, g.err)
		}
		return g.dk, g.err
	case <-ctx.Done():
		go func() { // drain and wipe a late answer
			if g := <-out; g.dk != nil {
				g.dk.Wipe()
			}
		}()
		return nil, fmt.Errorf("%w: no answer from %s within %v: %w", kms.ErrUnavailable, key, b.cfg.Timeout, ctx.Err())
	}
}

// availabilityFailure reports errors that say the KMS could not serve the
// request (as opposed to refusing it); only these trip the breaker.
func availabilityFailure(err error) bool {
	return errors.Is(err, kms.ErrUnavailable) || errors.Is(err, kms.ErrThrottled) ||
		errors.Is(err, context.DeadlineExceeded)
}

// reasonOf is the short reason label of metrics and audit events.
func reasonOf(err error) string {
	switch {
	case errors.Is(err, ErrBreakerOpen):
		return "breaker_open"
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.Is(err, kms.ErrThrottled):
		return "throttled"
	case errors.Is(err, kms.ErrUnavailable):
		return "unavailable"
	case errors.Is(err, kms.ErrDisabled):
		return "disabled"
	case errors.Is(err, kms.ErrNotFound):
		return "not_found"
	case errors.Is(err, kms.ErrAccessDenied):
		return "access_denied"
	case errors.Is(err, kms.ErrRegionMismatch):
		return "region_mismatch"
	}
	return "error"
}
