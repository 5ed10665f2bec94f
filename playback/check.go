package playback

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/mediaseal/mediaseal/kms/recordingkey"
	"github.com/mediaseal/mediaseal/storage/seal"
)

// Options qualify an export.
type Options struct {
	// Salvage exports what verifies of a recording that is not whole: the
	// verified prefix of a cut object, a recording the index does not
	// call complete, an object that disagrees with the index. The result
	// says so (Verified false, Problems); the caller must tell its reader.
	Salvage bool
	// Verified, when set, is called once the whole read is verified and
	// settled against the index, before the first byte is written (Tracks
	// and Packets are not filled in yet).
	Verified func(Result)
}

// finalIndex reports whether an index status closes a recording with
// everything it will ever hold.
func finalIndex(status string) bool {
	return status == StatusComplete || status == StatusRecovered
}

// openForExport opens recording id for an export. The index decides: a
// recording it does not call COMPLETE or RECOVERED is refused unless
// salvage is asked for; the stored object is hashed and compared with
// the index's size and SHA-256 before its DEK is even unwrapped, so a
// cut, extended, swapped or rolled-back object is refused without a KMS
// call; without salvage the reader is strict (a missing final chunk is an
// error, not a short read).
func (s *Service) openForExport(ctx context.Context, id string, salvage bool) (*Recording, Result, error) {
	res := Result{Salvage: salvage}
	idx, ok, err := s.d.Index.Recording(ctx, id)
	if err != nil {
		return nil, res, err
	}
	if !ok {
		return nil, res, fmt.Errorf("%w: %s (no index entry)", ErrRecordingNotFound, id)
	}
	if err := checkShredded(id, idx); err != nil {
		return nil, res, err
	}
	if err := s.checkKeyUsable(ctx, id, idx); err != nil {
		return nil, res, err
	}
	res.IndexStatus = idx.Status
	final := finalIndex(idx.Status)
	if !final {
		if !salvage {
			return nil, res, fmt.Errorf("%w: recording %s is %s in the index (exports need COMPLETE or RECOVERED; a salvage export reads its verified prefix)",
				ErrNotComplete, id, idx.Status)
		}
		res.Problems = append(res.Problems, "index status is "+idx.Status)
	}
	src, err := s.openObject(ctx, id, idx)
	if err != nil {
		return nil, res, err
	}
	if final {
		if err := checkObject(ctx, src, idx); err != nil {
			if !salvage || !errors.Is(err, ErrIntegrity) {
				closeQuiet(src.closer)
				return nil, res, err
			}
			res.Problems = append(res.Problems, err.Error())
		}
	}
	rec, err := s.openReader(ctx, id, idx, src, salvage)
	if err != nil && sealDamage(err) {
		err = fmt.Errorf("%w: %w", ErrIntegrity, err)
	}
	return rec, res, err
}

// checkObject hashes the whole object in one sequential read and compares
// its size and SHA-256 with the index (written when the upload was
// confirmed). The values come from the index only: the object store's
// own size and checksum metadata are the holder's to change.
func checkObject(ctx context.Context, src object, idx Entry) error {
	if idx.SHA256 == "" || idx.Bytes <= 0 {
		return fmt.Errorf("%w: recording %s: the index holds no size and SHA-256 to check the object against", ErrIntegrity, idx.ID)
	}
	rc, err := src.stream(ctx)
	if err != nil {
		return fmt.Errorf("recording %s: %w", idx.ID, err)
	}
	defer rc.Close()
	h := sha256.New()
	n, err := io.Copy(h, io.LimitReader(rc, idx.Bytes+1)) // one byte more shows an extension
	if err != nil {
		return fmt.Errorf("recording %s: hashing the object: %w", idx.ID, err)
	}
	if n != idx.Bytes || src.size != idx.Bytes {
		return fmt.Errorf("%w: recording %s: object is %d bytes (%d read, at most %d), the index says %d",
			ErrIntegrity, idx.ID, src.size, n, idx.Bytes+1, idx.Bytes)
	}
	// Neither value is secret (a hash of ciphertext): no constant time.
	if got := hex.EncodeToString(h.Sum(nil)); !strings.EqualFold(got, idx.SHA256) {
		return fmt.Errorf("%w: recording %s: object SHA-256 %s, the index says %s", ErrIntegrity, idx.ID, got, idx.SHA256)
	}
	return nil
}

// settle compares what the read of an export found with the index. It
// runs after the last chunk is verified and before the first byte of the
// export is written: an error refuses the export. A salvage export is
// never refused for damage; it records the damage in res.Problems.
func settle(idx Entry, res *Result, sum seal.Summary, rerr error) error {
	if rerr != nil {
		switch {
		case !sealDamage(rerr):
			return rerr
		case !res.Salvage:
			return fmt.Errorf("%w: recording %s: %w", ErrIntegrity, idx.ID, rerr)
		}
		// The chunks before the damage verified; nothing of the damaged
		// one was released.
		res.Problems = append(res.Problems, rerr.Error())
		sum.Status = seal.StatusTruncated
	}
	res.Status, res.Chunks = sum.Status, sum.Chunks
	if finalIndex(idx.Status) {
		var bad []string
		// A COMPLETE recording must end COMPLETE: a RECOVERED object lost
		// its tail. A RECOVERED one may end either way (a reseal closes
		// the recovered records with an ordinary final chunk).
		if idx.Status == StatusComplete && sum.Status != seal.StatusComplete {
			bad = append(bad, fmt.Sprintf("object ends %s, the index says %s", sum.Status, idx.Status))
		}
		if sum.Chunks != idx.Chunks {
			bad = append(bad, fmt.Sprintf("object has %d chunks, the index says %d", sum.Chunks, idx.Chunks))
		}
		if len(bad) > 0 && !res.Salvage {
			return fmt.Errorf("%w: recording %s: %s", ErrIntegrity, idx.ID, strings.Join(bad, "; "))
		}
		res.Problems = append(res.Problems, bad...)
	}
	res.Verified = finalIndex(idx.Status) && len(res.Problems) == 0 && sum.Status != seal.StatusTruncated
	return nil
}

// sealDamage reports whether err says the object's bytes are not what a
// writer of this recording produced, as opposed to a failure to read them.
func sealDamage(err error) bool {
	for _, e := range []error{seal.ErrBadMagic, seal.ErrUnsupportedVersion, seal.ErrUnsupportedSuite, seal.ErrHeaderMalformed,
		seal.ErrWrongKey, seal.ErrHeaderTampered, seal.ErrChunkAuth, seal.ErrChunkOrder, seal.ErrChunkForeign,
		seal.ErrTruncated, seal.ErrTrailingData, seal.ErrRecordMalformed, recordingkey.ErrContextMismatch} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}
