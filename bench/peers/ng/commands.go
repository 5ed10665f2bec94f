package ng

import (
	"context"
	"fmt"
	"maps"
)

// Ping checks that rtpengine answers ("pong").
func (c *Client) Ping(ctx context.Context) error {
	r, err := c.Do(ctx, Dict{"command": "ping"})
	if err != nil {
		return err
	}
	if r.Str("result") != "pong" {
		return fmt.Errorf("%w: ping answered %q", ErrFailed, r.Str("result"))
	}
	return nil
}

// Offer sends the caller's SDP of a new call and returns the SDP rtpengine
// rewrote for the callee (it names the ports the callee sends to). opts
// adds NG keys, e.g. {"record call": "yes"} or {"flags": []string{...}}.
func (c *Client) Offer(ctx context.Context, callID, fromTag, sdp string, opts Dict) (string, error) {
	return c.sdpCommand(ctx, Dict{"command": "offer", "call-id": callID, "from-tag": fromTag, "sdp": sdp}, opts)
}

// Answer sends the callee's SDP and returns the SDP rtpengine rewrote for
// the caller (it names the ports the caller sends to).
func (c *Client) Answer(ctx context.Context, callID, fromTag, toTag, sdp string, opts Dict) (string, error) {
	return c.sdpCommand(ctx, Dict{"command": "answer", "call-id": callID, "from-tag": fromTag, "to-tag": toTag, "sdp": sdp}, opts)
}

func (c *Client) sdpCommand(ctx context.Context, cmd, opts Dict) (string, error) {
	full := maps.Clone(opts)
	if full == nil {
		full = Dict{}
	}
	maps.Copy(full, cmd)
	r, err := c.Do(ctx, full)
	if err != nil {
		return "", err
	}
	sdp := r.Str("sdp")
	if sdp == "" {
		return "", fmt.Errorf("%w: %s reply without sdp", ErrMalformed, cmd["command"])
	}
	return sdp, nil
}

// Delete ends a call (every leg when fromTag is empty) and returns the
// reply, which holds the call's statistics. A recorded call's pcap file is
// finished when the call is deleted.
func (c *Client) Delete(ctx context.Context, callID, fromTag string) (Dict, error) {
	cmd := Dict{"command": "delete", "call-id": callID}
	if fromTag != "" {
		cmd["from-tag"] = fromTag
	}
	return c.Do(ctx, cmd)
}

// StartRecording turns recording on for a call that is already set up
// (the same as "record call": "yes" in its offer or answer).
func (c *Client) StartRecording(ctx context.Context, callID string) error {
	_, err := c.Do(ctx, Dict{"command": "start recording", "call-id": callID})
	return err
}
