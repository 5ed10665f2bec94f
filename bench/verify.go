package bench

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/mediaseal/mediaseal/ceremony/store"
	"github.com/mediaseal/mediaseal/internal/config"
	"github.com/mediaseal/mediaseal/playback"
	"github.com/mediaseal/mediaseal/playback/offline"
	"github.com/mediaseal/mediaseal/storage/seal"
)

// StreamRef ties a generated stream to where the gateway recorded it.
type StreamRef struct {
	RecordingID string
	// CallID finds the recording when the ingest does not name it to the
	// sender (AudioHook): the index's recording of that call.
	CallID string
	Track  uint8
	// SSRC is the stream's in the stamp check; 0 when the gateway chose it
	// (AudioHook wraps the audio in RTP itself).
	SSRC uint32
	Sent uint32 // packets the generator handed to the kernel
}

// Verification is what decrypting the recordings showed.
type Verification struct {
	Decrypted  bool  // recordings were opened with their DEKs and verified
	Recordings int   // recordings opened
	Incomplete int   // recordings whose status is not COMPLETE
	Recorded   int64 // distinct generated packets found, over every stream
	Foreign    int64 // packet records that are not the expected stream's
	Duplicates int64 // packets found twice
	Lossy      int   // streams with fewer packets recorded than sent
	IngestLag  Hist  // per packet: gateway arrival time − send time
	PerStream  []int64
	// Keys counts recordings by the key provider their envelope names
	// ("aws-kms", "local", with "+fallback" when the platform key stood in).
	Keys   map[string]int
	Errors []string `json:",omitempty"`
}

// maxErrors bounds the error list of a report.
const maxErrors = 20

// VerifyOffline opens the stopped gateway's stores (its config names them)
// in this process, decrypts every recording of refs through playback (the
// gateway's own key path, without a gateway) and counts, per stream, the distinct generated packets it
// holds. It also measures each packet's ingest lag: the recording's start
// time plus the record's arrival offset, minus the send time the payload
// carries (both clocks are this machine's).
func VerifyOffline(ctx context.Context, configPath string, refs []StreamRef, workers int) (*Verification, error) {
	cfg, err := config.Load(configPath)
	if err != nil {
		return nil, err
	}
	st, err := offline.Open(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("%w: open gateway data: %v", ErrVerify, err)
	}
	defer st.Close()
	if err := resolveCalls(ctx, st.Index, refs); err != nil {
		return nil, err
	}
	byRec := map[string][]int{} // recording → stream indexes
	var order []string
	for i, r := range refs {
		if _, ok := byRec[r.RecordingID]; !ok {
			order = append(order, r.RecordingID)
		}
		byRec[r.RecordingID] = append(byRec[r.RecordingID], i)
	}
	v := &Verification{Decrypted: true, PerStream: make([]int64, len(refs)), Keys: map[string]int{}}
	var mu sync.Mutex
	jobs := make(chan string)
	var wg sync.WaitGroup
	for range max(workers, 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var lag Hist
			for id := range jobs {
				r := verifyRecording(ctx, st.Playback, id, refs, byRec[id], &lag)
				mu.Lock()
				v.add(r, byRec[id])
				mu.Unlock()
			}
			mu.Lock()
			v.IngestLag.Merge(&lag)
			mu.Unlock()
		}()
	}
	for _, id := range order {
		jobs <- id
	}
	close(jobs)
	wg.Wait()
	for i, r := range refs {
		if v.PerStream[i] < int64(r.Sent) {
			v.Lossy++
		}
	}
	return v, nil
}

type recResult struct {
	status     seal.Status
	err        error
	got        []int64 // per stream of the recording
	foreign    int64
	duplicates int64
	key        string
}

func (v *Verification) add(r recResult, idx []int) {
	v.Recordings++
	if r.key != "" {
		v.Keys[r.key]++
	}
	if r.status != seal.StatusComplete {
		v.Incomplete++
	}
	if r.err != nil && len(v.Errors) < maxErrors {
		v.Errors = append(v.Errors, r.err.Error())
	}
	for j, i := range idx {
		v.PerStream[i] = r.got[j]
		v.Recorded += r.got[j]
	}
	v.Foreign += r.foreign
	v.Duplicates += r.duplicates
}

func verifyRecording(ctx context.Context, pb *playback.Service, id string, refs []StreamRef, idx []int, lag *Hist) recResult {
	res := recResult{got: make([]int64, len(idx))}
	rec, err := pb.Open(ctx, id)
	if err != nil {
		res.err = err
		return res
	}
	defer rec.Close()
	h := rec.Header()
	startedAt := h.Context.StartedAt
	res.key = h.Envelope.Key.Provider
	if h.Envelope.Key.Fallback {
		res.key += "+fallback"
	}
	byTrack := map[uint8]int{} // track → position in idx
	seen := make([][]uint64, len(idx))
	for j, i := range idx {
		byTrack[refs[i].Track] = j
		seen[j] = make([]uint64, (refs[i].Sent+63)/64+1)
	}
	res.status, res.err = rec.Records(func(r seal.Record) error {
		if r.Type != seal.RecordPacket {
			return nil
		}
		j, ok := byTrack[r.Track]
		st, valid := ParseStamp(r.Data)
		if !ok || !valid || (refs[idx[j]].SSRC != 0 && st.SSRC != refs[idx[j]].SSRC) || int(st.Index/64) >= len(seen[j]) {
			res.foreign++
			return nil
		}
		w, bit := st.Index/64, uint64(1)<<(st.Index%64)
		if seen[j][w]&bit != 0 {
			res.duplicates++
			return nil
		}
		seen[j][w] |= bit
		res.got[j]++
		lag.Add(startedAt + r.Arrival - st.Sent)
		return nil
	})
	if res.err == nil && res.status != seal.StatusComplete {
		res.err = fmt.Errorf("recording %s: status %s", id, res.status)
	}
	if res.err != nil && !errors.Is(res.err, ErrVerify) {
		res.err = fmt.Errorf("%w: %v", ErrVerify, res.err)
	}
	return res
}

// resolveCalls fills the RecordingID of refs named by call id only, from
// the index: each call must have exactly one recording.
func resolveCalls(ctx context.Context, idx *store.SQL, refs []StreamRef) error {
	found := map[string]string{}
	for i, r := range refs {
		if r.RecordingID != "" || r.CallID == "" {
			continue
		}
		id, ok := found[r.CallID]
		if !ok {
			recs, err := idx.ListRecordings(ctx, store.RecordingFilter{CallID: r.CallID, Limit: 2})
			if err != nil {
				return fmt.Errorf("%w: recordings of call %s: %v", ErrVerify, r.CallID, err)
			}
			if len(recs) != 1 {
				return fmt.Errorf("%w: call %s has %d recordings, want 1", ErrVerify, r.CallID, len(recs))
			}
			id = recs[0].ID
			found[r.CallID] = id
		}
		refs[i].RecordingID = id
	}
	return nil
}
