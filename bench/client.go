package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"
)

// benchQueue is the queue every bench call is announced on.
const benchQueue = "bench"

// Client speaks the gateway's session API.
type Client struct {
	Base  string // http://host:port
	Token string
	HTTP  *http.Client
	// Source is the sender host declared for every track; empty: the
	// address this host routes to the gateway from (localSource).
	Source string

	srcOnce sync.Once // resolves Source once; Create runs concurrently
	srcErr  error
}

// NewClient returns a client with a pooled transport sized for many
// concurrent session requests.
func NewClient(base, token string) *Client {
	tr := &http.Transport{MaxIdleConnsPerHost: 64, IdleConnTimeout: 30 * time.Second}
	return &Client{Base: strings.TrimRight(base, "/"), Token: token, HTTP: &http.Client{Transport: tr, Timeout: 5 * time.Minute}}
}

type trackSpec struct {
	Label  string   `json:"label"`
	Kind   string   `json:"kind"`
	Codec  string   `json:"codec"`
	Source string   `json:"source"`
	SRTP   *srtpAsk `json:"srtp,omitempty"`
}

// srtpAsk has the gateway generate each track's SRTP key.
type srtpAsk struct {
	Generate string `json:"generate"`
}

type createReq struct {
	CallID    string      `json:"callId"`
	QueueID   string      `json:"queueId"`
	Direction string      `json:"direction"`
	Tracks    []trackSpec `json:"tracks"`
}

// Session is what the gateway answered to a create.
type Session struct {
	SessionID   string `json:"sessionId"`
	RecordingID string `json:"recordingId"`
	Recorded    bool   `json:"recorded"`
	Tracks      []struct {
		Label string `json:"label"`
		RTP   string `json:"rtp"`
		SRTP  *struct {
			Crypto string `json:"crypto"`
		} `json:"srtp"`
	} `json:"tracks"`
	Created time.Time `json:"-"`
}

// Dests returns the RTP address of each track.
func (s *Session) Dests() ([]netip.AddrPort, error) {
	out := make([]netip.AddrPort, len(s.Tracks))
	for i, t := range s.Tracks {
		a, err := netip.ParseAddrPort(t.RTP)
		if err != nil {
			return nil, fmt.Errorf("%w: track %s address %q", ErrGateway, t.Label, t.RTP)
		}
		out[i] = a
	}
	return out, nil
}

// EndSummary is the part of the gateway's end-of-session summary the bench reads.
type EndSummary struct {
	Status      string           `json:"status"`
	Packets     int64            `json:"packets"`
	Dropped     map[string]int64 `json:"dropped"`
	Records     int64            `json:"records"`
	Chunks      int64            `json:"chunks"`
	SealedBytes int64            `json:"sealedBytes"`
}

func (c *Client) do(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.Base+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.Token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%w: %s %s: %d %s", ErrGateway, method, path, resp.StatusCode, strings.TrimSpace(string(b)))
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}

// Create opens a call with the given number of tracks of codec, each
// SRTP of suite srtpSuite with a key the gateway generates ("" plain).
func (c *Client) Create(ctx context.Context, callID, codec string, tracks int, srtpSuite string) (*Session, error) {
	c.srcOnce.Do(func() {
		if c.Source == "" {
			c.Source, c.srcErr = localSource(c.Base)
		}
	})
	if c.srcErr != nil {
		return nil, c.srcErr
	}
	req := createReq{CallID: callID, QueueID: benchQueue, Direction: "INBOUND"}
	for i := range tracks {
		t := trackSpec{Label: fmt.Sprintf("t%d", i), Kind: "audio", Codec: codec, Source: c.Source}
		if srtpSuite != "" {
			t.SRTP = &srtpAsk{Generate: srtpSuite}
		}
		req.Tracks = append(req.Tracks, t)
	}
	var s Session
	if err := c.do(ctx, http.MethodPost, "/v1/sessions", req, &s); err != nil {
		return nil, err
	}
	if !s.Recorded {
		return nil, fmt.Errorf("%w: call %s is not recorded by the gateway's policies", ErrGateway, callID)
	}
	s.Created = time.Now()
	return &s, nil
}

// End ends a session and returns its summary.
func (c *Client) End(ctx context.Context, id string) (EndSummary, error) {
	var sum EndSummary
	err := c.do(ctx, http.MethodDelete, "/v1/sessions/"+id, nil, &sum)
	return sum, err
}

// Metrics fetches /metrics (text exposition).
func (c *Client) Metrics(ctx context.Context) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.Base+"/metrics", nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.Token)
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	return io.ReadAll(io.LimitReader(resp.Body, 16<<20))
}

// Healthy reports whether /healthz answers 200.
func (c *Client) Healthy(ctx context.Context) bool {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.Base+"/healthz", nil)
	if err != nil {
		return false
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}
