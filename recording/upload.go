package recording

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"

	"go.uber.org/zap"

	"github.com/mediaseal/mediaseal/storage"
	"github.com/mediaseal/mediaseal/storage/uploader"
)

// upload hands a closed recording to the uploader under the object key it
// was given at creation.
func (s *Service) upload(r *Recording) {
	if s.up == nil {
		return // no object store: the file stays in the spool
	}
	if r.key == "" {
		s.log.Error("spooled recording has no object key (no index row, unreadable header); left in the spool", zap.String("recording", r.id))
		return
	}
	e, ok := s.d.Spool.Find(r.id)
	if !ok || e.State == storage.SpoolOpen {
		s.log.Error("closed recording not in the spool", zap.String("recording", r.id), zap.Bool("found", ok))
		return
	}
	s.mu.Lock()
	s.queued[r.key] = r
	s.mu.Unlock()
	// The object lock retention is the one the index row was created
	// with, so the object store refuses to delete it early whatever the
	// database later says.
	s.up.Enqueue(uploader.Item{Key: r.key, Path: e.Path, Queued: e.ModTime,
		Options: storage.PutOptions{RetainUntil: r.start.RetainUntil}})
}

// uploaded is the uploader's Done: the object is confirmed in storage
// (size and SHA-256 read back). The recording is UPLOADED; its final row
// is queued, and once it has landed the recording is INDEXED and its
// spool copy goes.
func (s *Service) uploaded(_ context.Context, it uploader.Item) error {
	s.mu.Lock()
	r := s.queued[it.Key]
	s.mu.Unlock()
	if r == nil {
		return nil // already done by an earlier call
	}
	closed := r.State()
	status, err := indexStatus(closed)
	if err != nil {
		return nil // UPLOADED already: Done called again
	}
	// The index's size and SHA-256 are what exports hold the stored object
	// to, so they come from the spool file this gateway wrote, not from
	// the store's metadata, which its holder can rewrite (the uploader has
	// already checked that the stored object matches the file).
	sum, size, err := hashFile(it.Path)
	if err != nil {
		return err
	}
	if err := r.to(Uploaded); err != nil {
		return err
	}
	r.mu.Lock()
	chunks := r.chunks
	r.mu.Unlock()
	s.ix.queue(indexOp{what: "finish", id: r.id,
		do: func(ctx context.Context, ix Index) error {
			err := ix.Finish(ctx, r.id, status, chunks, size, sum, r.key)
			if errors.Is(err, ErrNotFound) {
				// No row to finish (its creation was abandoned by an
				// earlier process): the object is stored; say so loudly.
				s.log.Error("stored recording has no index row", zap.String("recording", r.id), zap.String("key", r.key))
				return nil
			}
			return err
		},
		then: func() { s.indexed(r, status) }})
	return nil
}

// indexed ends a recording's life cycle: the spool copy goes.
func (s *Service) indexed(r *Recording, status string) {
	if r.to(Indexed) != nil {
		return
	}
	s.mu.Lock()
	delete(s.queued, r.key)
	s.mu.Unlock()
	e, ok := s.d.Spool.Find(r.id)
	if !ok {
		return
	}
	if err := s.d.Spool.Remove(e); err != nil {
		s.log.Error("stored recording not removed from the spool", zap.String("recording", r.id), zap.Error(err))
		return
	}
	s.log.Info("recording stored", zap.String("recording", r.id), zap.String("key", r.key),
		zap.Int64("bytes", e.Size), zap.String("status", status))
}

// hashFile returns the hex SHA-256 and the size of the file at path.
func hashFile(path string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, fmt.Errorf("hash %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}
