package ng

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults of a Client's retransmission: rtpengine caches replies by
// cookie, so a retransmitted request is answered, not executed twice.
const (
	DefaultAttemptTimeout = 2 * time.Second
	DefaultAttempts       = 3
	maxDatagram           = 65535
)

// Client talks NG to one rtpengine over UDP. It is safe for concurrent use:
// replies are matched to requests by cookie.
type Client struct {
	// AttemptTimeout is how long one transmission waits for the reply.
	AttemptTimeout time.Duration
	// Attempts is how often a request is sent before ErrTimeout.
	Attempts int

	conn    *net.UDPConn
	prefix  string
	seq     atomic.Uint64
	mu      sync.Mutex
	pending map[string]chan Dict
	closed  chan struct{}
	once    sync.Once
	readErr error
	done    chan struct{}
}

// Dial opens a client to rtpengine's NG listener at addr (host:port).
func Dial(addr string) (*Client, error) {
	ua, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return nil, err
	}
	conn, err := net.DialUDP("udp", nil, ua)
	if err != nil {
		return nil, err
	}
	var r [4]byte
	_, _ = rand.Read(r[:])
	c := &Client{AttemptTimeout: DefaultAttemptTimeout, Attempts: DefaultAttempts, conn: conn,
		prefix: hex.EncodeToString(r[:]), pending: map[string]chan Dict{}, closed: make(chan struct{}), done: make(chan struct{})}
	go c.read()
	return c, nil
}

// Close stops the client; requests in flight fail with ErrClosed. Idempotent.
func (c *Client) Close() error {
	var err error
	c.once.Do(func() {
		close(c.closed)
		err = c.conn.Close()
		<-c.done
	})
	return err
}

func (c *Client) read() {
	defer close(c.done)
	buf := make([]byte, maxDatagram)
	for {
		n, err := c.conn.Read(buf)
		if err != nil {
			select {
			case <-c.closed:
				return
			default:
			}
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// ECONNREFUSED from an ICMP error: the request times out and
			// is retransmitted.
			continue
		}
		cookie, reply, err := ParseReply(buf[:n])
		if err != nil {
			continue // not ours to answer; the request times out
		}
		c.mu.Lock()
		ch := c.pending[cookie]
		delete(c.pending, cookie)
		c.mu.Unlock()
		if ch != nil {
			ch <- reply
		}
	}
}

// ParseReply splits an NG datagram into its cookie and dictionary.
func ParseReply(b []byte) (string, Dict, error) {
	i := bytes.IndexByte(b, ' ')
	if i <= 0 {
		return "", nil, fmt.Errorf("%w: no cookie", ErrMalformed)
	}
	v, err := Unmarshal(b[i+1:])
	if err != nil {
		return "", nil, err
	}
	d, ok := v.(Dict)
	if !ok {
		return "", nil, fmt.Errorf("%w: reply is a %T, not a dictionary", ErrMalformed, v)
	}
	return string(b[:i]), d, nil
}

// Do sends cmd (a dictionary holding at least "command") and returns the
// reply. A reply whose result is neither "ok" nor "pong" is ErrFailed with
// rtpengine's reason; no reply after every attempt is ErrTimeout.
func (c *Client) Do(ctx context.Context, cmd Dict) (Dict, error) {
	body, err := Marshal(cmd)
	if err != nil {
		return nil, err
	}
	cookie := c.prefix + "_" + strconv.FormatUint(c.seq.Add(1), 10)
	msg := append([]byte(cookie+" "), body...)
	ch := make(chan Dict, 1)
	c.mu.Lock()
	c.pending[cookie] = ch
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		delete(c.pending, cookie)
		c.mu.Unlock()
	}()
	for range max(c.Attempts, 1) {
		// A refused write (ICMP from a listener not up yet) is retried
		// like a lost datagram.
		_, _ = c.conn.Write(msg)
		t := time.NewTimer(c.AttemptTimeout)
		select {
		case reply := <-ch:
			t.Stop()
			return reply, resultErr(cmd, reply)
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-c.closed:
			t.Stop()
			return nil, ErrClosed
		case <-t.C:
		}
	}
	return nil, fmt.Errorf("%w: %v after %d attempts of %s", ErrTimeout, cmd["command"], max(c.Attempts, 1), c.AttemptTimeout)
}

func resultErr(cmd, reply Dict) error {
	switch r := reply.Str("result"); r {
	case "ok", "pong":
		return nil
	case "error":
		return fmt.Errorf("%w: %v: %s", ErrFailed, cmd["command"], reply.Str("error-reason"))
	default:
		return fmt.Errorf("%w: %v: result %q", ErrFailed, cmd["command"], r)
	}
}
