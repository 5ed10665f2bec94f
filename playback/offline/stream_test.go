package offline

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"github.com/mediaseal/mediaseal/kms/recordingkey"
	"github.com/mediaseal/mediaseal/recording"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mediaseal/mediaseal/ceremony/store"
	"github.com/mediaseal/mediaseal/kms"
	"github.com/mediaseal/mediaseal/kms/local"
	"github.com/mediaseal/mediaseal/playback"
	"github.com/mediaseal/mediaseal/storage"
	"github.com/mediaseal/mediaseal/storage/fs"
	"github.com/mediaseal/mediaseal/storage/seal"
)

// realStores is playback over real parts: a SQLite index, a filesystem
// object store and the local keyring.
type realStores struct {
	unwraps atomic.Int64 // DEK unwraps asked of the keyring
	st      *store.SQL
	objects storage.Store
	ring    *local.Keyring
	svc     *playback.Service
}

func newRealStores(t *testing.T) *realStores { return newRealStoresWith(t, nil) }

// newRealStoresWith is newRealStores with playback reading the objects
// through wrap (a fault injected between the store and playback).
func newRealStoresWith(t *testing.T, wrap func(storage.Store) storage.Store) *realStores {
	t.Helper()
	dir := t.TempDir()
	st, err := store.Open(t.Context(), store.Config{SQLitePath: filepath.Join(dir, "index.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	objects, err := fs.New(filepath.Join(dir, "objects"))
	if err != nil {
		t.Fatal(err)
	}
	ring, err := local.Open(filepath.Join(dir, "keyring"), "eu-west-1")
	if err != nil {
		t.Fatal(err)
	}
	if err := ring.EnsureKey("platform"); err != nil {
		t.Fatal(err)
	}
	r := &realStores{st: st, objects: objects, ring: ring}
	u := recording.Keys{Index: store.RecordingIndex{SQL: st}, OrgID: "org", Timeout: 5 * time.Second,
		Provider: kms.Registry{local.ProviderName: ring}.ByName}
	keys := playback.KeysFunc(func(ctx context.Context, id string, h *seal.Header) ([]byte, error) {
		r.unwraps.Add(1)
		return u.Unwrap(ctx, id, h)
	})
	var read storage.Store = objects
	if wrap != nil {
		read = wrap(objects)
	}
	svc, err := playback.New(playback.Deps{Objects: read, Index: Index(st, ProviderOf), Keys: keys,
		Platform: kms.KeyRef{Provider: local.ProviderName, KeyID: "platform"}})
	if err != nil {
		t.Fatal(err)
	}
	r.svc = svc
	return r
}

// record seals a two-track PCMU call of length d, one chunk a second,
// stores it and indexes it COMPLETE, as a gateway would.
func (r *realStores) record(t *testing.T, id string, d time.Duration) { r.recordLate(t, id, d, -1) }

// recordLate is record with packet late of the first track arriving 100
// packets (2 s) after its time (-1: none).
func (r *realStores) recordLate(t *testing.T, id string, d time.Duration, late int64) {
	t.Helper()
	ctx := t.Context()
	ref := kms.KeyRef{Provider: local.ProviderName, KeyID: "platform"}
	dk, err := r.ring.GenerateDataKey(ctx, ref, recordingkey.ForRecording("org", id, "pol"))
	if err != nil {
		t.Fatal(err)
	}
	defer dk.Wipe()
	path := filepath.Join(t.TempDir(), id)
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := seal.Header{Context: seal.Context{OrgID: "org", PolicyID: "pol", StartedAt: time.Unix(1e9, 0).UnixNano(), Tracks: []seal.Track{
		{Label: "caller", Kind: "audio", Codec: "PCMU", ClockRate: 8000}, {Label: "agent", Kind: "audio", Codec: "PCMU", ClockRate: 8000}}},
		Envelope: seal.Envelope{Key: seal.KeyRef{Provider: ref.Provider, KeyID: ref.KeyID, KeyVersion: dk.KeyVersion}, WrappedDEK: dk.Wrapped}}
	w, err := seal.NewWriter(f, dk.Plaintext, h)
	if err != nil {
		t.Fatal(err)
	}
	pkt := make([]byte, 12+160)
	pkt[0] = 0x80
	put := func(i int64, tr uint8, arrival int64) {
		binary.BigEndian.PutUint16(pkt[2:], uint16(i))
		binary.BigEndian.PutUint32(pkt[4:], uint32(i*160))
		pkt[11] = tr
		if err := w.WriteRecord(seal.Record{Type: seal.RecordPacket, Track: tr, Arrival: arrival, Data: pkt}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range int64(d / (20 * time.Millisecond)) {
		for tr := range uint8(2) {
			if tr == 0 && i == late {
				continue
			}
			put(i, tr, i*int64(20*time.Millisecond))
		}
		if late >= 0 && i == late+100 {
			put(late, 0, i*int64(20*time.Millisecond))
		}
		if i%50 == 49 {
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	hash := sha256.New()
	if _, err := io.Copy(hash, f); err != nil {
		t.Fatal(err)
	}
	f.Seek(0, io.SeekStart)
	key := "recordings/" + id
	info, err := r.objects.Put(ctx, key, f, storage.PutOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sum := hex.EncodeToString(hash.Sum(nil))
	if err := r.st.CreateRecording(ctx, store.Recording{ID: id, OrgID: "org", PolicyID: "pol", KeyProvider: ref.Provider, KeyID: ref.KeyID,
		KeyVersion: dk.KeyVersion, WrappedDEK: dk.Wrapped, ObjectKey: key}); err != nil {
		t.Fatal(err)
	}
	if err := r.st.FinishRecording(ctx, id, store.RecordingComplete, w.Stats().Chunks, info.Size, sum, key); err != nil {
		t.Fatal(err)
	}
}

// peakHeap tracks the live heap while an export writes.
type peakHeap struct {
	n    int
	peak uint64
}

func (p *peakHeap) Write(b []byte) (int, error) {
	if p.n++; p.n%64 == 0 {
		p.sample()
	}
	return len(b), nil
}

func (p *peakHeap) sample() {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	p.peak = max(p.peak, m.HeapAlloc)
}

func exportPeak(t *testing.T, svc *playback.Service, id string) (uint64, playback.Result) {
	return exportPeakAs(t, svc, id, playback.FormatPCAP)
}

func exportPeakAs(t *testing.T, svc *playback.Service, id, format string) (uint64, playback.Result) {
	runtime.GC()
	p := &peakHeap{}
	p.sample()
	base := p.peak
	res, err := svc.Export(context.Background(), id, format, "", playback.Options{}, p)
	if err != nil {
		t.Fatal(err)
	}
	p.sample()
	return p.peak - min(base, p.peak), res
}

// TestPCAPExportStreamsInConstantMemory: exporting a call ten times as
// long as another as PCAP needs no more heap: the records go from the
// verified chunk to the writer and nothing holds them (the old export
// copied every record into memory first: ~12 MB more for 10 minutes).
func TestPCAPExportStreamsInConstantMemory(t *testing.T) {
	r := newRealStores(t)
	r.record(t, "short", time.Minute)
	r.record(t, "long", 10*time.Minute)
	defer debug.SetGCPercent(debug.SetGCPercent(5)) // HeapAlloc close to the live heap
	exportPeak(t, r.svc, "short")                   // warm up
	short, sres := exportPeak(t, r.svc, "short")
	long, lres := exportPeak(t, r.svc, "long")
	t.Logf("peak heap above the start: 1 min %d KiB, 10 min %d KiB", short>>10, long>>10)
	if sres.Packets != 2*3000 || lres.Packets != 2*30000 || !lres.Verified {
		t.Fatalf("exported %d and %d packets (verified %v)", sres.Packets, lres.Packets, lres.Verified)
	}
	if long > short+2<<20 {
		t.Fatalf("heap grows with the recording: %d KiB for 1 min, %d KiB for 10 min", short>>10, long>>10)
	}
}

// TestWAVExportStreamsInConstantMemory: a mono and a stereo WAV of a
// 60-minute call need no more heap than those of a 10-minute one: the
// export plans, measures and writes in three reads and keeps no packet
// (the Builder it replaces held every payload: ~60 MB more for the hour).
func TestWAVExportStreamsInConstantMemory(t *testing.T) {
	r := newRealStores(t)
	r.record(t, "short", 10*time.Minute)
	r.record(t, "long", 60*time.Minute)
	defer debug.SetGCPercent(debug.SetGCPercent(5)) // HeapAlloc close to the live heap
	for _, format := range []string{playback.FormatWAV, playback.FormatWAVStereo} {
		exportPeakAs(t, r.svc, "short", format) // warm up
		short, sres := exportPeakAs(t, r.svc, "short", format)
		long, lres := exportPeakAs(t, r.svc, "long", format)
		t.Logf("%s: peak heap above the start: 10 min %d KiB, 60 min %d KiB", format, short>>10, long>>10)
		if !lres.Verified || lres.WAVFallback != "" || sres.WAVFallback != "" || len(lres.Tracks) != 2 ||
			lres.Tracks[0].Media != 180000 || lres.Tracks[1].Duration != 60*time.Minute {
			t.Fatalf("%s: %+v", format, lres)
		}
		if long > short+2<<20 {
			t.Fatalf("%s: heap grows with the recording: %d KiB for 10 min, %d KiB for 60 min", format, short>>10, long>>10)
		}
	}
}

// A recording the WAV export cannot stream (a packet 100 behind its
// neighbours, beyond the reorder window) is built in memory instead, and
// the result says why; the late packet still lands in its place.
func TestWAVExportFallbackSaysWhy(t *testing.T) {
	r := newRealStores(t)
	r.recordLate(t, "late", time.Minute, 500)
	r.record(t, "ontime", time.Minute)
	var late, ontime bytes.Buffer
	res, err := r.svc.Export(t.Context(), "late", playback.FormatWAVStereo, "", playback.Options{}, &late)
	if err != nil || !res.Verified || res.WAVFallback == "" {
		t.Fatalf("export of a call with a packet 100 late: %v %+v", err, res)
	}
	t.Logf("fallback: %s", res.WAVFallback)
	if res.Tracks[0].Packets != 3000 || res.Tracks[0].Lost != 0 {
		t.Fatalf("late packet not placed: %+v", res.Tracks[0])
	}
	res, err = r.svc.Export(t.Context(), "ontime", playback.FormatWAVStereo, "", playback.Options{}, &ontime)
	if err != nil || res.WAVFallback != "" {
		t.Fatalf("export of the same call in order: %v %+v", err, res)
	}
	if !bytes.Equal(late.Bytes(), ontime.Bytes()) {
		t.Fatalf("the late packet's call exports other audio (%d against %d bytes)", late.Len(), ontime.Len())
	}
}

// swappingStore serves an object whose last kilobyte has one byte flipped
// once swap is set: the stored object changing under an export.
type swappingStore struct {
	storage.Store
	swap atomic.Bool
}

func (s *swappingStore) Get(ctx context.Context, key string, off, n int64) (io.ReadCloser, error) {
	rc, err := s.Store.Get(ctx, key, off, n)
	if err != nil || !s.swap.Load() {
		return rc, err
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		return nil, err
	}
	info, err := s.Store.Head(ctx, key)
	if err != nil {
		return nil, err
	}
	if at := info.Size - 512 - off; at >= 0 && at < int64(len(b)) {
		b[at] ^= 1
	}
	return io.NopCloser(bytes.NewReader(b)), nil
}

// swapOnWrite sets swap at the first byte the export writes out.
type swapOnWrite struct {
	s *swappingStore
	n int
}

func (w *swapOnWrite) Write(b []byte) (int, error) {
	w.s.swap.Store(true)
	w.n += len(b)
	return len(b), nil
}

// TestExportObjectChangedMidway: a PCAP export verifies the whole
// recording, then streams it in a second read; a WAV export streams in its
// third (writing) read. An object that changes after the verifying read
// (the store's holder swapping it) fails the export with ErrIntegrity when
// the changed chunk is read, instead of ending as if it were whole.
func TestExportObjectChangedMidway(t *testing.T) {
	for _, format := range []string{playback.FormatPCAP, playback.FormatWAVStereo} {
		var sw *swappingStore
		r := newRealStoresWith(t, func(st storage.Store) storage.Store { sw = &swappingStore{Store: st}; return sw })
		r.record(t, "call", 2*time.Minute)
		out := &swapOnWrite{s: sw}
		_, err := r.svc.Export(t.Context(), "call", format, "", playback.Options{}, out)
		if !errors.Is(err, playback.ErrIntegrity) || !strings.Contains(err.Error(), "changed while it was exported") {
			t.Fatalf("%s export of an object changed midway: %v (%d bytes written)", format, err, out.n)
		}
		// The same object, unchanged, exports whole.
		sw.swap.Store(false)
		res, err := r.svc.Export(t.Context(), "call", format, "", playback.Options{}, io.Discard)
		if err != nil || !res.Verified || res.WAVFallback != "" || (format == playback.FormatPCAP && res.Packets != 2*6000) {
			t.Fatalf("unchanged %s export: %v %+v", format, err, res)
		}
	}
}
