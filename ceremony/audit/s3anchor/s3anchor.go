// Package s3anchor anchors the audit log's signed heads in an S3 bucket
// with object lock: each head is its own object, locked in COMPLIANCE mode
// until its retention ends, so neither the database's holder nor the
// bucket's (root account included) can delete or overwrite it before
// then. Give the gateway's credentials s3:PutObject, s3:PutObjectRetention,
// s3:GetObject and s3:ListBucket on the prefix, and no s3:DeleteObject:
// in a versioned bucket a delete leaves the locked version but hides it
// from a plain listing.
package s3anchor

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/mediaseal/mediaseal/ceremony/audit"
	"github.com/mediaseal/mediaseal/ceremony/store"
	"github.com/mediaseal/mediaseal/storage"
	s3store "github.com/mediaseal/mediaseal/storage/s3"
)

// LockMode is the object-lock mode of every head: COMPLIANCE, which no
// one can shorten or lift.
const LockMode = "COMPLIANCE"

// Anchor publishes heads as objects <prefix><seq, 20 digits>.json.
type Anchor struct {
	st        *s3store.Store
	bucket    string
	prefix    string
	retention time.Duration
	now       func() time.Time
}

var _ audit.Anchor = (*Anchor)(nil)

// New returns an anchor in cfg's bucket (cfg.LockMode is forced to
// COMPLIANCE); retention is how long each head stays locked.
func New(ctx context.Context, cfg s3store.Config, prefix string, retention time.Duration) (*Anchor, error) {
	if retention <= 0 {
		return nil, fmt.Errorf("s3anchor: retention must be positive (got %s)", retention)
	}
	if err := storage.ValidatePrefix(prefix); err != nil {
		return nil, fmt.Errorf("s3anchor: prefix %q: %w", prefix, err)
	}
	cfg.LockMode = LockMode
	st, err := s3store.New(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return &Anchor{st: st, bucket: cfg.Bucket, prefix: prefix, retention: retention, now: time.Now}, nil
}

func (a *Anchor) key(seq int64) string { return fmt.Sprintf("%s%020d.json", a.prefix, seq) }

// Publish stores head as a locked object. A second head at the same
// sequence (another gateway on the same database) becomes another
// version; both stay locked.
func (a *Anchor) Publish(ctx context.Context, head store.AuditCheckpoint) error {
	line, err := audit.EncodeHead(head)
	if err != nil {
		return err
	}
	_, err = a.st.Put(ctx, a.key(head.Seq), bytes.NewReader(line), storage.PutOptions{Size: int64(len(line)), RetainUntil: a.now().Add(a.retention)})
	if err != nil {
		return fmt.Errorf("s3anchor: head %d: %w", head.Seq, err)
	}
	return nil
}

// Heads returns the newest anchored head (the listing is in key order,
// which is sequence order). A head whose content names another sequence
// than its key is an error, not a head: it would let an older head stand
// in for a newer one.
func (a *Anchor) Heads(ctx context.Context) ([]store.AuditCheckpoint, error) {
	objs, err := a.st.List(ctx, a.prefix)
	if err != nil {
		return nil, fmt.Errorf("s3anchor: list %s: %w", a, err)
	}
	for i := len(objs) - 1; i >= 0; i-- {
		name := strings.TrimSuffix(strings.TrimPrefix(objs[i].Key, a.prefix), ".json")
		seq, err := strconv.ParseInt(name, 10, 64)
		if err != nil || objs[i].Key != a.key(seq) {
			continue // not a head of ours
		}
		r, err := a.st.Get(ctx, objs[i].Key, 0, -1)
		if err != nil {
			return nil, fmt.Errorf("s3anchor: get %s: %w", objs[i].Key, err)
		}
		b, err := io.ReadAll(io.LimitReader(r, 64<<10))
		r.Close()
		if err != nil {
			return nil, fmt.Errorf("s3anchor: read %s: %w", objs[i].Key, err)
		}
		hs, err := audit.DecodeHeads(b)
		if err != nil || len(hs) != 1 || hs[0].Seq != seq {
			return nil, fmt.Errorf("s3anchor: %s does not hold the head of entry %d (%v)", objs[i].Key, seq, err)
		}
		return hs, nil
	}
	return nil, nil
}

func (a *Anchor) String() string { return "s3://" + a.bucket + "/" + a.prefix }
