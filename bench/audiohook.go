package bench

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/mediaseal/mediaseal/media/audiohook"
)

// Ingest modes (RunConfig.Ingest).
const (
	IngestRTP       = "rtp"
	IngestAudioHook = "audiohook"
)

// modeAudioHook is Result.Mode of an AudioHook run.
const modeAudioHook = "audiohook"

// ahSession is one AudioHook client session of the bench.
type ahSession struct {
	conn      *websocket.Conn
	id        string
	call      string
	seq       int64
	serverSeq atomic.Int64
	closed    chan struct{} // the server answered close
	sent      uint32        // frames sent
}

// RunAudioHook opens cfg.Streams AudioHook sessions (stereo PCMU) on a
// spawned gateway, sends every session one 20 ms frame per ptime, closes
// them, and verifies the recordings by decryption: each frame's two
// channels carry the generator's stamp, so a lost frame is a missing
// packet of its track.
func RunAudioHook(ctx context.Context, cfg RunConfig) (*Result, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	if cfg.Spawn.Bin == "" {
		return nil, fmt.Errorf("%w: --ingest audiohook needs --spawn (the sessions are verified by decryption)", ErrConfig)
	}
	n := cfg.Streams
	dir, err := os.MkdirTemp("", "mediaseal-bench-audiohook-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	ig := audiohook.Integration{Name: "bench", APIKey: "bench-audiohook-key", Secret: make([]byte, 32)}
	_, _ = rand.Read(ig.Secret)
	secretFile := filepath.Join(dir, "audiohook.secret")
	if err := os.WriteFile(secretFile, []byte(base64.StdEncoding.EncodeToString(ig.Secret)), 0o600); err != nil {
		return nil, err
	}
	cfg.Spawn.Dir = filepath.Join(dir, "gw")
	if err := os.Mkdir(cfg.Spawn.Dir, 0o700); err != nil {
		return nil, err
	}
	cfg.Spawn.AudioHook = &SpawnAudioHook{APIKey: ig.APIKey, SecretFile: secretFile}
	sp, err := Spawn(ctx, cfg.Spawn)
	if err != nil {
		return nil, err
	}
	defer sp.Stop(5 * time.Minute)
	pid := sp.Pid()
	res := &Result{Mode: modeAudioHook, Streams: 2 * n, Calls: n, Codec: "PCMU", PtimeMs: float64(cfg.Ptime) / 1e6,
		DurationS: cfg.Duration.Seconds(), LoadAvgStart: LoadAvg(), Ingest: IngestAudioHook}
	if m, err := readMem(pid); err == nil {
		res.RSSIdle, res.RSSAnonIdle = m.rss, m.anon
	}

	url := "ws" + strings.TrimPrefix(sp.API, "http") + "/audiohook/v1"
	sessions := make([]*ahSession, n)
	errs := make([]error, n)
	t0 := time.Now()
	forEach(n, cfg.Concurrency, nil, func(i int) {
		sessions[i], errs[i] = openAudioHook(ctx, url, ig, fmt.Sprintf("bench-ah-%d-%d", t0.UnixNano(), i))
	})
	res.SessionsPerSec = round(float64(n)/time.Since(t0).Seconds(), 0)
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("open AudioHook sessions: %w", err)
	}

	smp := startSampler(pid, nil)
	var waitProfile func() error
	if cfg.ProfilePath != "" && cfg.Spawn.DebugAddr != "" {
		waitProfile = profileSteady(ctx, cfg.Spawn.DebugAddr, cfg.ProfilePath, cfg.Duration+cfg.Ramp)
	}
	cpu0, _ := CPUSeconds(pid)
	self0, _ := CPUSeconds(os.Getpid())
	start := time.Now().Add(100 * time.Millisecond)
	frames := cfg.packets()
	// A few senders each write their share of the sessions' frames at
	// every tick: a goroutine and a timer per session would cost the
	// machine more than the frames themselves.
	workers := min(n, 4*runtime.NumCPU())
	var wg sync.WaitGroup
	var mu sync.Mutex
	var late Hist
	var sendErrs atomic.Int64
	var niceErr atomic.Pointer[error]
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// At the generator's priority, as the RTP generator sends:
			// the gateway, not the sender, should absorb the contention.
			restore, err := prioritize(cfg.GenNice)
			if err != nil {
				niceErr.Store(&err)
			}
			defer restore()
			var mine []*ahSession
			var phases []time.Duration
			for i := w; i < n; i += workers {
				// Sessions are spread over the tick, as the RTP generator
				// spreads its streams: a burst of every frame at once would
				// measure the burst, not the schedule.
				mine, phases = append(mine, sessions[i]), append(phases, time.Duration(int64(cfg.Ptime)*int64(i)/int64(n)))
			}
			var h Hist
			sendErrs.Add(sendFrames(ctx, mine, phases, start, cfg.Ptime, frames, &h))
			mu.Lock()
			late.Merge(&h)
			mu.Unlock()
		}()
	}
	wg.Wait()
	wall := time.Since(start)
	time.Sleep(500 * time.Millisecond)
	cpu1, _ := CPUSeconds(pid)
	self1, _ := CPUSeconds(os.Getpid())
	peak := smp.stop()
	if waitProfile != nil {
		if err := waitProfile(); err != nil {
			res.Errors = append(res.Errors, "profile: "+err.Error())
		}
	}

	forEach(n, cfg.Concurrency, nil, func(i int) { sessions[i].close(ctx, cfg.Ptime) })
	var refs []StreamRef
	var sentFrames int64
	for _, s := range sessions {
		sentFrames += int64(s.sent)
		for track := range uint8(2) {
			refs = append(refs, StreamRef{CallID: s.call, Track: track, Sent: s.sent})
		}
	}
	res.SentPackets, res.SendErrors = 2*sentFrames, sendErrs.Load()
	res.GenLateness = late.Summarize()
	if e := niceErr.Load(); e != nil {
		res.Errors = append(res.Errors, fmt.Sprintf("sender nice %d: %v", cfg.GenNice, *e))
	} else {
		res.GenNice = cfg.GenNice
	}
	res.takeRecorderCPU(cpu1-cpu0, wall, res.SentPackets, cfg.Ptime)
	res.takeGeneratorCPU(self1-self0, wall, res.SentPackets)
	if sentFrames > 0 {
		res.CPUPerFrame = round((cpu1-cpu0)*1e6/float64(sentFrames), 2)
	}
	res.RSS, res.Threads = peak.rss, peak.threads
	res.RSSPerStream = round(float64(peak.rss-res.RSSIdle)/float64(res.Streams), 0)
	if res.RSSAnonIdle > 0 {
		res.RSSAnonPerStream = round(float64(peak.anon-res.RSSAnonIdle)/float64(res.Streams), 0)
	}
	res.OfferedPPS = round(float64(res.Streams)/cfg.Ptime.Seconds(), 0)
	if page, err := NewClient(sp.API, sp.Token).Metrics(ctx); err == nil {
		scrapeInto(res, page, false)
		scrapeInto(res, page, true)
	}
	if err := sp.Stop(5 * time.Minute); err != nil {
		res.Errors = append(res.Errors, "gateway stop: "+err.Error())
	}
	v, err := VerifyOffline(ctx, sp.ConfigPath, refs, cfg.VerifyWorkers)
	if err != nil {
		return nil, err
	}
	res.Verified = v.Incomplete == 0 && len(v.Errors) == 0
	res.Incomplete, res.RecordedPkts, res.LossyStreams = v.Incomplete, v.Recorded, v.Lossy
	res.RecordingKeys = v.Keys
	res.Errors = append(res.Errors, v.Errors...)
	res.LostPackets = res.SentPackets - res.RecordedPkts
	if res.SentPackets > 0 {
		res.LossRatio = float64(res.LostPackets) / float64(res.SentPackets)
	}
	res.RecordedPPS = round(float64(res.RecordedPkts)/max(cfg.Duration.Seconds(), wall.Seconds()), 0)
	res.LagP99 = res.FlushDelayP99 // placed by position: the flush is the lag
	res.Valid, res.InvalidReason = true, ""
	switch {
	case late.Quantile(0.99) > cfg.MaxLateness:
		res.Valid, res.InvalidReason = false, fmt.Sprintf("sender fell behind: p99 lateness %s > %s", late.Quantile(0.99).Round(time.Microsecond), cfg.MaxLateness)
	case res.SendErrors > 0:
		res.Valid, res.InvalidReason = false, fmt.Sprintf("%d sessions could not send every frame", res.SendErrors)
	}
	res.LoadAvgEnd = LoadAvg()
	return res, nil
}

// openAudioHook makes a signed upgrade and opens a stereo PCMU session.
func openAudioHook(ctx context.Context, url string, ig audiohook.Integration, call string) (*ahSession, error) {
	id := newBenchUUID()
	req, err := http.NewRequest(http.MethodGet, strings.Replace(url, "ws", "http", 1), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set(audiohook.HeaderOrganizationID, "bench")
	req.Header.Set(audiohook.HeaderSessionID, id)
	req.Header.Set(audiohook.HeaderCorrelationID, newBenchUUID())
	audiohook.Sign(req, ig, newBenchUUID(), time.Now(), 30*time.Second)
	dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(dctx, url, &websocket.DialOptions{HTTPHeader: req.Header})
	if err != nil {
		return nil, err
	}
	conn.SetReadLimit(1 << 20)
	s := &ahSession{conn: conn, id: id, call: call, closed: make(chan struct{})}
	opened := make(chan struct{})
	go s.read(opened)
	media := []audiohook.Media{{Type: "audio", Format: "PCMU", Channels: []string{audiohook.ChannelExternal, audiohook.ChannelInternal}, Rate: 8000}}
	if err := s.message(ctx, "open", "PT0S", map[string]any{"organizationId": "bench", "conversationId": call,
		"participant": map[string]any{"id": newBenchUUID(), "ani": "+15550100", "aniName": "bench", "dnis": "+15550199"},
		"media":       media, "customConfig": map[string]any{"queueId": "bench"}}); err != nil {
		return nil, err
	}
	select {
	case <-opened:
		return s, nil
	case <-s.closed:
		return nil, fmt.Errorf("session %s closed before opened", id)
	case <-time.After(30 * time.Second):
		return nil, fmt.Errorf("session %s: no opened", id)
	}
}

func newBenchUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// read follows the server's messages: their seq is acknowledged in the
// next client message; opened and closed are signalled.
func (s *ahSession) read(opened chan struct{}) {
	defer func() {
		select {
		case <-s.closed:
		default:
			close(s.closed)
		}
	}()
	for {
		_, b, err := s.conn.Read(context.Background())
		if err != nil {
			return
		}
		var m struct {
			Type string `json:"type"`
			Seq  int64  `json:"seq"`
		}
		if json.Unmarshal(b, &m) != nil {
			continue
		}
		s.serverSeq.Store(m.Seq)
		switch m.Type {
		case "opened":
			close(opened)
		case "closed", "disconnect":
			return
		}
	}
}

func (s *ahSession) message(ctx context.Context, typ, position string, params any) error {
	s.seq++
	b, _ := json.Marshal(map[string]any{"version": audiohook.Version, "id": s.id, "type": typ, "seq": s.seq,
		"serverseq": s.serverSeq.Load(), "position": position, "parameters": params})
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	return s.conn.Write(wctx, websocket.MessageText, b)
}

// sendFrames writes every session's frame at each tick from start, one
// tick per ptime, each session at its phase within the tick (ascending):
// each channel's 160 bytes start with the stamp (send time, frame index).
// A session whose write fails stops; it returns how many did.
func sendFrames(ctx context.Context, sessions []*ahSession, phases []time.Duration, start time.Time, ptime time.Duration, frames uint32, late *Hist) int64 {
	samples := int(ptime * 8000 / time.Second)
	frame := make([]byte, 2*samples)
	for i := range frame {
		frame[i] = 0xFF // μ-law silence
	}
	failed := make([]bool, len(sessions))
	var st [stampLen]byte
	for k := range frames {
		tick := start.Add(time.Duration(k) * ptime)
		for i, s := range sessions {
			if failed[i] {
				continue
			}
			// Frames due within a millisecond go together: a sleep per
			// frame would cost the sender more than the frame.
			due := tick.Add(phases[i])
			if d := time.Until(due); d > time.Millisecond {
				time.Sleep(d)
			}
			now := time.Now()
			late.Add(int64(now.Sub(due)))
			binary.BigEndian.PutUint64(st[:], uint64(now.UnixNano()))
			binary.BigEndian.PutUint32(st[8:], k)
			for j, b := range st {
				frame[2*j], frame[2*j+1] = b, b
			}
			if err := s.conn.Write(ctx, websocket.MessageBinary, frame); err != nil {
				failed[i] = true
				continue
			}
			s.sent++
		}
	}
	n := int64(0)
	for _, f := range failed {
		if f {
			n++
		}
	}
	return n
}

// close ends the session as a client does and waits for closed.
func (s *ahSession) close(ctx context.Context, ptime time.Duration) {
	pos := audiohook.FormatDuration(time.Duration(s.sent) * ptime)
	if s.message(ctx, "close", pos, map[string]any{"reason": "end"}) == nil {
		select {
		case <-s.closed:
		case <-time.After(30 * time.Second):
		}
	}
	_ = s.conn.Close(websocket.StatusNormalClosure, "")
}
