package jobs

import (
	"context"
	"fmt"
	"time"

	"github.com/mediaseal/mediaseal/kms"
)

// ShredKey crypto-shreds every recording under ref: the key is destroyed
// in its provider first (so no envelope of it, in the index or in any
// object header, can be unwrapped again), then its recordings are marked
// SHREDDED in the index. It is the mechanism only: the quorum and the
// delay of a key deletion are checked before it is called. A key that
// protects a recording under legal hold is not destroyed (ErrLegalHold).
// A retry after a failure finishes the job.
func (r *Runner) ShredKey(ctx context.Context, ref kms.KeyRef, actor string) (int64, error) {
	ev := Event{At: time.Now().UTC(), Actor: actor, Action: ActionKeyShredded, Target: ref.String(), Outcome: "failure",
		Details: map[string]any{"provider": ref.Provider, "keyId": ref.KeyID}}
	fail := func(err error) (int64, error) {
		ev.Details["error"] = err.Error()
		r.deps.Auditor.Record(ctx, ev)
		return 0, err
	}
	if ref.Provider == "" || ref.KeyID == "" {
		return fail(fmt.Errorf("%w: empty key reference", ErrShredRefused))
	}
	if ref == r.deps.PlatformKey {
		return fail(fmt.Errorf("%w: %s is the platform key", ErrShredRefused, ref))
	}
	p, ok := r.deps.Provider(ref.Provider)
	if !ok {
		return fail(fmt.Errorf("%w: %q", ErrNoProvider, ref.Provider))
	}
	d, ok := p.(kms.Destroyer)
	if !ok {
		return fail(fmt.Errorf("%w: %q", ErrNotDestroyable, ref.Provider))
	}
	// A hold outranks a key deletion: destroying the key would destroy
	// held recordings as surely as deleting them. A store that cannot say
	// refuses too.
	held, err := r.deps.Store.HeldRecordingsOfKey(ctx, ref.Provider, ref.KeyID)
	if err != nil {
		return fail(fmt.Errorf("cannot tell whether %s protects held recordings: %w", ref, err))
	}
	if held > 0 {
		return fail(fmt.Errorf("%w: %s protects %d held recording(s); the deletion waits until their holds are released", ErrLegalHold, ref, held))
	}
	if err := d.DestroyKey(ctx, ref); err != nil {
		return fail(fmt.Errorf("destroy %s: %w", ref, err))
	}
	n, err := r.deps.Store.ShredRecordings(ctx, ref.Provider, ref.KeyID)
	if err != nil {
		return fail(fmt.Errorf("key %s destroyed but recordings not marked (retry): %w", ref, err))
	}
	ev.Outcome, ev.Details["recordings"] = "success", n
	r.deps.Auditor.Record(ctx, ev)
	return n, nil
}
