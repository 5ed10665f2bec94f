package broker

import (
	"context"
	"time"

	"github.com/mediaseal/mediaseal/kms"
)

// Request asks for the DEK of one recording.
type Request struct {
	// Key is the policy's key reference.
	Key kms.KeyRef
	// Context is bound to the wrapped DEK (org, recording, policy, ...).
	Context kms.EncryptionContext
	// OnKeyUnavailable is the policy's choice; empty means PlatformKey.
	OnKeyUnavailable OnKeyUnavailable
	// PlatformKey overrides Config.PlatformKey for this request.
	PlatformKey kms.KeyRef
	// Unusable, when set, says the caller knows Key must not be used (e.g.
	// its registry state is DISABLED): neither its provider nor its pool is
	// asked, and OnKeyUnavailable decides with Unusable as the cause.
	Unusable error
}

// Result is a DEK and where it came from. The caller owns DataKey and
// must Wipe its plaintext once the recording's keys are derived.
type Result struct {
	DataKey *kms.DataKey
	// Key is the key actually used: Request.Key, or the platform key.
	Key        kms.KeyRef
	KeyVersion string
	// Context is what the wrapped DEK is bound to: the request's context,
	// or the pool's when Pooled. Store it in the recording header.
	Context  kms.EncryptionContext
	Pooled   bool
	Fallback bool
	// Reason and Cause say why it fell back ("" and nil otherwise).
	Reason  string
	Cause   error
	Latency time.Duration
}

// Pending is a request in flight. It never blocks its creator.
type Pending struct {
	done chan struct{}
	res  *Result
	err  error
}

// Done is closed when the result is ready.
func (p *Pending) Done() <-chan struct{} { return p.done }

// Result waits for the request and returns its outcome. On FAIL_CLOSED the
// error wraps ErrFailClosed and the cause.
func (p *Pending) Result() (*Result, error) {
	<-p.done
	return p.res, p.err
}

// Wait is Result bounded by ctx.
func (p *Pending) Wait(ctx context.Context) (*Result, error) {
	select {
	case <-p.done:
		return p.res, p.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
