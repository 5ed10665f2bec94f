package recording

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"go.uber.org/zap"

	"github.com/mediaseal/mediaseal/kms"
	"github.com/mediaseal/mediaseal/kms/recordingkey"
	"github.com/mediaseal/mediaseal/storage"
	"github.com/mediaseal/mediaseal/storage/seal"
)

// Resume takes back what a previous process left in the spool: every
// file it left open is recovered (its process died), and every closed one
// is queued for upload. Run must be running; the caller holds the
// spool's lock, so no other live process owns those files.
func (s *Service) Resume(ctx context.Context) error {
	ents, err := s.d.Spool.Entries()
	if err != nil {
		return err
	}
	for _, e := range ents {
		r := s.restored(ctx, e)
		if e.State == storage.SpoolOpen {
			sum, err := s.recoverOne(ctx, r, e)
			if err != nil {
				s.log.Error("crash recovery failed; spool file kept", zap.String("recording", e.ID), zap.Error(err))
				continue
			}
			s.log.Info("recovered recording after crash", zap.String("recording", e.ID),
				zap.Int64("chunks", sum.Chunks), zap.String("status", sum.Status.String()))
		}
		s.upload(r)
	}
	return nil
}

// restored is a recording a previous process left in the spool: its id is
// the file's, its object key the one its index row was created with.
func (s *Service) restored(ctx context.Context, e storage.SpoolEntry) *Recording {
	r := &Recording{svc: s, id: e.ID, state: Active}
	switch e.State {
	case storage.SpoolComplete:
		r.state = Sealed
	case storage.SpoolRecovered:
		r.state = Recovered
	}
	if s.d.Index != nil {
		if row, err := s.d.Index.Get(ctx, e.ID); err == nil {
			r.key, r.chunks, r.start.RetainUntil = row.ObjectKey, row.Chunks, row.RetainUntil
		}
	}
	if r.key == "" {
		// No row to say (the store lost it, or its creation never landed):
		// the file's own sealed header names where it started.
		if h, err := readHeader(e.Path); err == nil {
			r.key = storage.RecordingKey(h.Context.OrgID, time.Unix(0, h.Context.StartedAt), e.ID)
			s.log.Warn("spooled recording has no index row; object key taken from its header", zap.String("recording", e.ID))
		}
	}
	return r
}

func readHeader(path string) (*seal.Header, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	h, err := seal.ParseHeader(f)
	if err != nil {
		return nil, fmt.Errorf("spool file %s is not a sealed recording: %w", path, err)
	}
	return h, nil
}

func (s *Service) keys() Keys {
	return Keys{Index: s.d.Index, OrgID: s.d.OrgID, Provider: s.d.Provider, Timeout: s.d.KMSTimeout}
}

// recoverOne closes a spool file left open: it verifies the chunks that
// made it to disk, cuts a torn tail and appends a recovered-final chunk,
// so the recording uploads as RECOVERED with everything up to the last
// flushed chunk.
func (s *Service) recoverOne(ctx context.Context, r *Recording, e storage.SpoolEntry) (seal.Summary, error) {
	f, err := os.OpenFile(e.Path, os.O_RDWR, 0)
	if err != nil {
		return seal.Summary{}, err
	}
	defer f.Close()
	h, err := seal.ParseHeader(f)
	if err != nil {
		return seal.Summary{}, fmt.Errorf("header: %w", err)
	}
	dek, err := s.keys().Unwrap(ctx, e.ID, h)
	if err != nil {
		return seal.Summary{}, err
	}
	defer clear(dek)
	sum, err := seal.Recover(f, dek)
	if err != nil {
		return sum, err
	}
	if err := f.Sync(); err != nil {
		return sum, err
	}
	if err := s.d.Spool.MarkRecovered(e.ID); err != nil {
		return sum, err
	}
	to := Recovered
	if sum.TornBytes > 0 {
		to = Truncated
	}
	if err := r.to(to); err != nil {
		return sum, err
	}
	r.mu.Lock()
	r.chunks = sum.Chunks
	r.mu.Unlock()
	s.ix.queue(indexOp{what: "recovered", id: e.ID, do: func(ctx context.Context, ix Index) error {
		return ix.Progress(ctx, Progress{ID: e.ID, Chunks: sum.Chunks, DurableAt: e.ModTime})
	}})
	return sum, nil
}

// Keys unwraps the DEKs of recordings (crash recovery, playback).
type Keys struct {
	// Index, when set, holds the current envelope of each recording and
	// the KMS context it was indexed with.
	Index Index
	// OrgID is this gateway's org: what a recording with no index row
	// must belong to.
	OrgID string
	// Provider returns the KMS provider of a name.
	Provider func(name string) (kms.Provider, bool)
	// Timeout bounds one unwrap (none when zero).
	Timeout time.Duration
}

// Unwrap returns the DEK of recording id, whose header is h. The index's
// envelope supersedes the header's (a rewrap replaces it there without
// touching the object). The context is the one recordingkey derives: the
// header's recorded one (format version 2) once it is the one the index
// recorded and its org and policy match the index's, else the legacy one.
func (k Keys) Unwrap(ctx context.Context, id string, h *seal.Header) ([]byte, error) {
	env := h.Envelope
	want := recordingkey.Recording{ID: id, OrgID: k.OrgID, PolicyID: h.Context.PolicyID}
	if k.Index != nil {
		row, err := k.Index.Get(ctx, id)
		switch {
		case err == nil:
			if len(row.Envelope.WrappedDEK) > 0 && row.Envelope.Key.KeyVersion != "" {
				env = row.Envelope
			}
			want.OrgID, want.PolicyID = row.OrgID, row.PolicyID
			if want.KMSContext, err = recordingkey.Unmarshal(row.KMSContext); err != nil {
				return nil, fmt.Errorf("recording %s: index: %w", id, err)
			}
		case !errors.Is(err, ErrNotFound):
			// An index that cannot answer is no licence to trust the
			// header alone: refuse, the caller retries.
			return nil, fmt.Errorf("recording %s: index: %w", id, err)
		}
	}
	ec, err := recordingkey.UnwrapContext(h, want)
	if err != nil {
		return nil, err
	}
	var p kms.Provider
	ok := k.Provider != nil
	if ok {
		p, ok = k.Provider(env.Key.Provider)
	}
	if !ok {
		return nil, fmt.Errorf("%w: provider %q is not configured", kms.ErrNotFound, env.Key.Provider)
	}
	if k.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, k.Timeout)
		defer cancel()
	}
	return recordingkey.Unwrap(ctx, p, env, ec)
}

// unwrittenRetry is how often recovery in place of a recording whose final
// chunk was not written waits for the spool to take writes again.
const unwrittenRetry = time.Second

// recoverUnwritten closes, in place and without a restart, the spool file
// of a recording whose final chunk could not be written in time (a full
// disk): once the spool can be written, recovery keeps the chunks that
// reached disk and adds a recovered-final chunk, and the recording
// uploads as RECOVERED instead of staying ACTIVE until the next start.
// It gives up when the service stops; the next start then recovers it.
func (s *Service) recoverUnwritten(r *Recording) {
	s.inPlace.Add(1)
	go func() {
		defer s.inPlace.Done()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go func() {
			select {
			case <-s.stop:
				cancel()
			case <-ctx.Done():
			}
		}()
		s.recoverInPlace(ctx, r)
	}()
}

func (s *Service) recoverInPlace(ctx context.Context, r *Recording) {
	log := s.log.With(zap.String("recording", r.id))
	for {
		if s.d.Spool.WriteErr() == nil {
			e, ok := s.d.Spool.Find(r.id)
			if !ok || e.State != storage.SpoolOpen {
				return // recovered or removed meanwhile
			}
			sum, err := s.recoverOne(ctx, r, e)
			if err == nil {
				log.Warn("recovered recording in place: its final chunk could not be written to the spool",
					zap.Int64("chunks", sum.Chunks), zap.String("status", sum.Status.String()))
				s.upload(r)
				return
			}
			if errors.Is(err, ErrTransition) {
				return
			}
			log.Warn("recovery in place failed; retrying", zap.Error(err))
		}
		select {
		case <-ctx.Done():
			log.Warn("recording left for recovery at next start: its final chunk was not written")
			return
		case <-time.After(unwrittenRetry):
		}
	}
}
