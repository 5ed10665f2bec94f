package audit

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/mediaseal/mediaseal/ceremony/store"
)

// Report is the result of a verification.
type Report struct {
	// Entries is how many entries were checked; Head the last one.
	Entries  int64
	HeadSeq  int64
	HeadHash string
	// Checkpoints is how many signed checkpoints matched.
	Checkpoints int
	// Anchored is how many heads anchored outside the database matched;
	// AnchoredSeq is the newest one (0: no anchor was given or it was
	// empty, and truncation of the tail cannot be told).
	Anchored    int
	AnchoredSeq int64
	// BrokenSeq and Reason name the first broken entry (0 and "" if the
	// chain is intact).
	BrokenSeq int64
	BrokenID  string
	Reason    string
}

// verifier checks entries one by one in sequence order.
type verifier struct {
	keys map[string]ed25519.PublicKey
	cps  map[int64]store.AuditCheckpoint
	// anchored are the heads published outside the database, by seq.
	anchored map[int64]store.AuditCheckpoint
	// lastCP is the highest checkpoint seq; lastGoodCP the highest one
	// matched so far.
	lastCP, lastGoodCP int64
	rep                Report
	prev               string
}

func newVerifier(cps []store.AuditCheckpoint, keys map[string]ed25519.PublicKey, anchored []store.AuditCheckpoint) (*verifier, error) {
	v := &verifier{keys: keys, cps: map[int64]store.AuditCheckpoint{}, anchored: map[int64]store.AuditCheckpoint{}}
	for _, h := range anchored {
		if !VerifyCheckpoint(h, keys[h.Kid]) {
			return nil, fmt.Errorf("%w: the head anchored at entry %d (%s): signature does not verify under audit key %q (a forged anchor, or the wrong keys)",
				ErrBroken, h.Seq, h.At.Format(time.RFC3339), h.Kid)
		}
		if o, ok := v.anchored[h.Seq]; ok && o.Hash != h.Hash {
			return nil, fmt.Errorf("%w: two heads anchored at entry %d disagree (%s and %s): the chain was forked", ErrBroken, h.Seq, o.Hash, h.Hash)
		}
		v.anchored[h.Seq] = h
		v.rep.AnchoredSeq = max(v.rep.AnchoredSeq, h.Seq)
	}
	for _, c := range cps {
		if !VerifyCheckpoint(c, keys[c.Kid]) {
			return nil, fmt.Errorf("%w: checkpoint at entry %d: signature does not verify under audit key %q", ErrBroken, c.Seq, c.Kid)
		}
		v.cps[c.Seq] = c
		v.lastCP = max(v.lastCP, c.Seq)
	}
	return v, nil
}

func (v *verifier) fail(e store.AuditEntry, seq int64, format string, args ...any) error {
	v.rep.BrokenSeq, v.rep.BrokenID, v.rep.Reason = seq, e.ID, fmt.Sprintf(format, args...)
	if e.ID != "" && e.Seq == seq {
		return fmt.Errorf("%w: entry %d (id %s): %s", ErrBroken, seq, e.ID, v.rep.Reason)
	}
	return fmt.Errorf("%w: entry %d: %s", ErrBroken, seq, v.rep.Reason)
}

func (v *verifier) add(e store.AuditEntry) error {
	want := v.rep.HeadSeq + 1
	switch {
	case e.Seq > want:
		return v.fail(store.AuditEntry{}, want, "missing: the chain jumps from entry %d to %d (entry removed)", want-1, e.Seq)
	case e.Seq < want:
		return v.fail(e, e.Seq, "out of order after entry %d", want-1)
	}
	if got := EntryHash(e); got != e.Hash {
		return v.fail(e, e.Seq, "content does not match its hash (entry changed or moved)")
	}
	if e.PrevHash != v.prev {
		return v.fail(e, e.Seq, "does not link to entry %d (an entry before it was changed, removed or reordered)", e.Seq-1)
	}
	if c, ok := v.cps[e.Seq]; ok {
		if c.Hash != e.Hash {
			return v.fail(e, e.Seq, "differs from the checkpoint signed at %s: entries %d-%d were rewritten",
				c.At.Format(time.RFC3339), v.lastGoodCP+1, e.Seq)
		}
		v.lastGoodCP = e.Seq
		v.rep.Checkpoints++
	}
	if h, ok := v.anchored[e.Seq]; ok {
		if h.Hash != e.Hash {
			return v.fail(e, e.Seq, "differs from the head anchored outside the database at %s: entries %d-%d were rewritten",
				h.At.Format(time.RFC3339), v.lastGoodCP+1, e.Seq)
		}
		// Every anchored head was stored in the database first: one
		// missing there was deleted.
		if c, ok := v.cps[e.Seq]; !ok || c.Hash != h.Hash {
			return v.fail(e, e.Seq, "the checkpoint anchored outside the database at %s is missing from the database (checkpoints removed)",
				h.At.Format(time.RFC3339))
		}
		v.rep.Anchored++
	}
	v.prev = e.Hash
	v.rep.Entries++
	v.rep.HeadSeq, v.rep.HeadHash = e.Seq, e.Hash
	return nil
}

func (v *verifier) finish() (Report, error) {
	if v.rep.AnchoredSeq > v.rep.HeadSeq {
		return v.rep, v.fail(store.AuditEntry{}, v.rep.HeadSeq+1,
			"missing: a head anchored outside the database covers entry %d but the chain ends at %d (entries removed)", v.rep.AnchoredSeq, v.rep.HeadSeq)
	}
	if v.lastCP > v.rep.HeadSeq {
		return v.rep, v.fail(store.AuditEntry{}, v.rep.HeadSeq+1,
			"missing: a checkpoint covers entry %d but the chain ends at %d (entries removed)", v.lastCP, v.rep.HeadSeq)
	}
	return v.rep, nil
}

// KeyLister lists server keys; *store.SQL implements it.
type KeyLister interface {
	ListServerKeys(ctx context.Context, purpose string) ([]store.ServerKey, error)
}

// PublicKeys returns the audit keys recorded in the store by kid.
func PublicKeys(ctx context.Context, l KeyLister) (map[string]ed25519.PublicKey, error) {
	ks, err := l.ListServerKeys(ctx, store.KeyPurposeAuditSigning)
	if err != nil {
		return nil, err
	}
	out := map[string]ed25519.PublicKey{}
	for _, k := range ks {
		out[k.Kid] = ed25519.PublicKey(k.PublicKey)
	}
	return out, nil
}

// VerifyStore verifies the whole chain in repo against the signed
// checkpoints and the heads anchored outside the database, whose keys are
// given by kid. Only anchored heads let it detect the removal of the
// chain's tail together with its checkpoints; only keys from outside the
// database (not PublicKeys) let it detect a chain re-signed under a key
// the database's holder added.
func VerifyStore(ctx context.Context, repo Repository, keys map[string]ed25519.PublicKey, anchored ...store.AuditCheckpoint) (Report, error) {
	cps, err := repo.ListAuditCheckpoints(ctx)
	if err != nil {
		return Report{}, err
	}
	v, err := newVerifier(cps, keys, anchored)
	if err != nil {
		return Report{}, err
	}
	var after int64
	for {
		page, err := repo.ListAuditEntries(ctx, store.AuditFilter{AfterSeq: after, Limit: store.MaxListLimit})
		if err != nil {
			return v.rep, err
		}
		if len(page) == 0 {
			return v.finish()
		}
		for _, e := range page {
			if err := v.add(e); err != nil {
				return v.rep, err
			}
		}
		after = page[len(page)-1].Seq
	}
}

// exportLine is one line of an exported log (JSON lines): a key, a
// checkpoint or an entry.
type exportLine struct {
	Type       string                 `json:"type"`
	Key        *exportKey             `json:"key,omitempty"`
	Checkpoint *store.AuditCheckpoint `json:"checkpoint,omitempty"`
	Entry      *store.AuditEntry      `json:"entry,omitempty"`
}

type exportKey struct {
	Kid       string `json:"kid"`
	PublicKey []byte `json:"publicKey"`
}

// Export writes the audit keys, the checkpoints and every entry of repo to
// w as JSON lines, for offline verification with VerifyExport.
func Export(ctx context.Context, repo Repository, keys map[string]ed25519.PublicKey, w io.Writer) error {
	enc := json.NewEncoder(w)
	for kid, pub := range keys {
		if err := enc.Encode(exportLine{Type: "key", Key: &exportKey{kid, pub}}); err != nil {
			return err
		}
	}
	cps, err := repo.ListAuditCheckpoints(ctx)
	if err != nil {
		return err
	}
	for i := range cps {
		if err := enc.Encode(exportLine{Type: "checkpoint", Checkpoint: &cps[i]}); err != nil {
			return err
		}
	}
	var after int64
	for {
		page, err := repo.ListAuditEntries(ctx, store.AuditFilter{AfterSeq: after, Limit: store.MaxListLimit})
		if err != nil || len(page) == 0 {
			return err
		}
		for i := range page {
			if err := enc.Encode(exportLine{Type: "entry", Entry: &page[i]}); err != nil {
				return err
			}
		}
		after = page[len(page)-1].Seq
	}
}

// VerifyExport verifies an exported log against anchored heads (if any). Keys in pinned (if any) replace
// the keys the export carries, so a forged export cannot bring its own key.
func VerifyExport(r io.Reader, pinned map[string]ed25519.PublicKey, anchored ...store.AuditCheckpoint) (Report, error) {
	keys := map[string]ed25519.PublicKey{}
	var cps []store.AuditCheckpoint
	var entries []store.AuditEntry
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for n := 1; sc.Scan(); n++ {
		var l exportLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			return Report{}, fmt.Errorf("audit: export line %d: %w", n, err)
		}
		switch {
		case l.Type == "key" && l.Key != nil:
			keys[l.Key.Kid] = l.Key.PublicKey
		case l.Type == "checkpoint" && l.Checkpoint != nil:
			cps = append(cps, *l.Checkpoint)
		case l.Type == "entry" && l.Entry != nil:
			entries = append(entries, *l.Entry)
		default:
			return Report{}, fmt.Errorf("audit: export line %d: unknown record %q", n, l.Type)
		}
	}
	if err := sc.Err(); err != nil {
		return Report{}, err
	}
	if len(pinned) > 0 {
		keys = pinned
	}
	v, err := newVerifier(cps, keys, anchored)
	if err != nil {
		return Report{}, err
	}
	for _, e := range entries {
		if err := v.add(e); err != nil {
			return v.rep, err
		}
	}
	return v.finish()
}
