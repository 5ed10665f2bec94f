package jobs

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"path"

	"github.com/mediaseal/mediaseal/ceremony/store"
	"github.com/mediaseal/mediaseal/kms"
	"github.com/mediaseal/mediaseal/kms/recordingkey"
	"github.com/mediaseal/mediaseal/storage"
	"github.com/mediaseal/mediaseal/storage/seal"
)

// resealKey is where this job writes the resealed object of rec: next to
// the original, named for the job, so a resumed job overwrites its own
// unfinished attempt and recognises a finished one.
func (ex *execution) resealKey(rec store.Recording) string {
	return path.Join(path.Dir(rec.ObjectKey), rec.ID+".r-"+ex.job.ID+".seal")
}

// reseal decrypts rec's object and seals its records again under a fresh
// DEK into a new object, which it then reads back and compares record by
// record before offering the switch. The old object is deleted only after
// the index names the new one (see commit).
func (ex *execution) reseal(ctx context.Context, rec store.Recording, target string) outcome {
	p, ok := ex.r.deps.Provider(rec.KeyProvider)
	if !ok {
		return outcome{err: fmt.Errorf("%w: %q", ErrNoProvider, rec.KeyProvider)}
	}
	ref := kms.KeyRef{Provider: rec.KeyProvider, KeyID: rec.KeyID}
	newKey := ex.resealKey(rec)
	if err := storage.ValidateKey(newKey); err != nil {
		return outcome{err: err}
	}
	src, h, err := ex.open(ctx, p, rec, rec.ObjectKey, rec.WrappedDEK)
	if err != nil {
		return outcome{err: fmt.Errorf("reseal: open: %w", err)}
	}
	// The new DEK is generated for this recording, under its own context,
	// which the new header (format version 2) and the index record.
	ec := recordingkey.ForRecording(rec.OrgID, rec.ID, rec.PolicyID)
	ecBytes, err := recordingkey.Marshal(ec)
	if err != nil {
		return outcome{err: fmt.Errorf("reseal: %w", err)}
	}
	var dk *kms.DataKey
	var env seal.Envelope
	err = ex.kmsCall(ctx, func(ctx context.Context) (err error) {
		dk, env, err = recordingkey.Generate(ctx, p, ref, ec, rec.Fallback)
		return err
	})
	if err != nil {
		return outcome{err: fmt.Errorf("reseal: new data key: %w", err)}
	}
	if err := checkVersion(dk.KeyVersion, target); err != nil {
		dk.Wipe()
		return outcome{err: err}
	}
	info, srcDigest, err := ex.write(ctx, src, newKey, dk, seal.Header{Context: h.Context, KMSContext: ec, Envelope: env, MaxChunkSize: h.MaxChunkSize})
	if err != nil {
		ex.deleteObject(ctx, newKey)
		return outcome{err: fmt.Errorf("reseal: write: %w", err)}
	}
	// Read the new object back through the KMS, as any reader will: under
	// the index row it is about to have.
	next := rec
	next.KMSContext = ecBytes
	dst, _, err := ex.open(ctx, p, next, newKey, dk.Wrapped)
	var sum seal.Summary
	if err == nil {
		var d digest
		d.init()
		sum, err = dst.ScanRecords(d.add)
		if err == nil && d.sum() != srcDigest {
			err = fmt.Errorf("%w: %s differs from %s", ErrVerify, newKey, rec.ObjectKey)
		}
	}
	if err != nil {
		ex.deleteObject(ctx, newKey)
		return outcome{err: fmt.Errorf("reseal: verify: %w", err)}
	}
	return outcome{object: &store.ObjectChange{RecordingID: rec.ID, FromObjectKey: rec.ObjectKey, ObjectKey: newKey,
		KeyProvider: rec.KeyProvider, KeyID: rec.KeyID, KeyVersion: dk.KeyVersion, WrappedDEK: dk.Wrapped, KMSContext: ecBytes,
		SHA256: info.SHA256, Bytes: info.Size, Chunks: sum.Chunks},
		target: keyOf(rec.KeyProvider, rec.KeyID), version: dk.KeyVersion, bytes: rec.Bytes}
}

// open unwraps wrapped (the envelope the index holds for the object) and
// returns a verifying reader over the object at key.
func (ex *execution) open(ctx context.Context, p kms.Provider, rec store.Recording, key string, wrapped []byte) (*seal.Reader, *seal.Header, error) {
	info, err := ex.objects.Head(ctx, key)
	if err != nil {
		return nil, nil, err
	}
	ra := storage.NewReaderAt(ctx, ex.objects, key)
	h, err := seal.ParseHeader(io.NewSectionReader(ra, 0, info.Size))
	if err != nil {
		return nil, nil, err
	}
	// The header's recorded context, once it agrees with the index.
	want, err := indexed(rec)
	if err != nil {
		return nil, nil, err
	}
	ec, err := recordingkey.UnwrapContext(h, want)
	if err != nil {
		return nil, nil, err
	}
	var dek []byte
	err = ex.kmsCall(ctx, func(ctx context.Context) (err error) {
		env := envelopeOf(rec)
		env.WrappedDEK = wrapped
		dek, err = recordingkey.Unwrap(ctx, p, env, ec)
		return err
	})
	if err != nil {
		return nil, nil, fmt.Errorf("unwrap: %w", err)
	}
	defer clear(dek)
	rd, err := seal.NewReader(ra, info.Size, dek)
	if err != nil {
		return nil, nil, err
	}
	return rd, h, nil
}

// write streams src's records into a new seal object at key, returning
// what was stored and the digest of the records read.
func (ex *execution) write(ctx context.Context, src *seal.Reader, key string, dk *kms.DataKey, h seal.Header) (storage.ObjectInfo, [32]byte, error) {
	pr, pw := io.Pipe()
	sum := sha256.New()
	type result struct {
		info storage.ObjectInfo
		err  error
	}
	done := make(chan result, 1)
	go func() {
		info, err := ex.objects.Put(ctx, key, io.TeeReader(pr, sum), storage.PutOptions{})
		pr.CloseWithError(err) // unblocks the writer if Put gave up early
		done <- result{info, err}
	}()
	var d digest
	d.init()
	werr := func() error {
		w, err := seal.NewWriter(pw, dk.Plaintext, h, ex.r.deps.SealOptions...)
		dk.Wipe() // the writer has derived its keys
		if err != nil {
			return err
		}
		// Without salvage: a damaged or truncated source fails here and
		// nothing is switched.
		if _, err := src.Records(func(r seal.Record) error {
			if err := d.add(r); err != nil {
				return err
			}
			return w.WriteRecord(r)
		}); err != nil {
			return err
		}
		return w.Close()
	}()
	pw.CloseWithError(werr)
	res := <-done
	if werr != nil {
		return storage.ObjectInfo{}, [32]byte{}, werr
	}
	if res.err != nil {
		return storage.ObjectInfo{}, [32]byte{}, res.err
	}
	local := hex.EncodeToString(sum.Sum(nil))
	if res.info.SHA256 != "" && res.info.SHA256 != local {
		return storage.ObjectInfo{}, [32]byte{}, fmt.Errorf("%w: stored sha256 %s, wrote %s", ErrVerify, res.info.SHA256, local)
	}
	res.info.SHA256 = local
	return res.info, d.sum(), nil
}

// digest hashes a record stream: type, track, arrival and data of each.
type digest struct{ h hash.Hash }

func (d *digest) init() { d.h = sha256.New() }

func (d *digest) add(r seal.Record) error {
	var b [17]byte
	b[0] = byte(r.Type)
	binary.BigEndian.PutUint64(b[1:], uint64(r.Track))
	binary.BigEndian.PutUint64(b[9:], uint64(r.Arrival))
	d.h.Write(b[:])
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(len(r.Data)))
	d.h.Write(n[:])
	d.h.Write(r.Data)
	return nil
}

func (d *digest) sum() [32]byte { return [32]byte(d.h.Sum(nil)) }
