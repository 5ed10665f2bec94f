package seal

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// encoder and decoder implement the header's field encoding: strings and
// byte strings as uint16 length + bytes, integers big-endian, fields in a
// fixed order with no tags. There is exactly one encoding of a value, so a
// parse-then-encode round trip reproduces the authenticated bytes.

type encoder struct {
	b   []byte
	err error
}

func (e *encoder) u8(v uint8)   { e.b = append(e.b, v) }
func (e *encoder) u16(v uint16) { e.b = binary.BigEndian.AppendUint16(e.b, v) }
func (e *encoder) u32(v uint32) { e.b = binary.BigEndian.AppendUint32(e.b, v) }
func (e *encoder) i64(v int64)  { e.b = binary.BigEndian.AppendUint64(e.b, uint64(v)) }

func (e *encoder) bytes(name string, v []byte) {
	if len(v) > math.MaxUint16 {
		if e.err == nil {
			e.err = fmt.Errorf("%s is %d bytes, limit %d", name, len(v), math.MaxUint16)
		}
		return
	}
	e.u16(uint16(len(v)))
	e.b = append(e.b, v...)
}

func (e *encoder) str(name, v string) { e.bytes(name, []byte(v)) }

func (e *encoder) context(c *Context) {
	e.str("org id", c.OrgID)
	e.str("call id", c.CallID)
	e.str("queue id", c.QueueID)
	e.str("policy id", c.PolicyID)
	e.i64(c.PolicyVersion)
	e.str("direction", c.Direction)
	e.i64(c.StartedAt)
	if len(c.Tracks) > MaxTracks {
		if e.err == nil {
			e.err = fmt.Errorf("%d tracks, limit %d", len(c.Tracks), MaxTracks)
		}
		return
	}
	e.u16(uint16(len(c.Tracks)))
	for i := range c.Tracks {
		t := &c.Tracks[i]
		e.str("track label", t.Label)
		e.str("track kind", t.Kind)
		e.str("track codec", t.Codec)
		e.u32(t.ClockRate)
		e.u8(t.PayloadType)
	}
}

func (e *encoder) envelope(v *Envelope) {
	e.str("key provider", v.Key.Provider)
	e.str("key id", v.Key.KeyID)
	e.str("key version", v.Key.KeyVersion)
	if v.Key.Fallback {
		e.u8(1)
	} else {
		e.u8(0)
	}
	e.bytes("wrapped DEK", v.WrappedDEK)
}

var errShort = errors.New("short field")

type decoder struct {
	b   []byte
	err error
}

func (d *decoder) take(n int) []byte {
	if d.err != nil {
		return nil
	}
	if len(d.b) < n {
		d.err = errShort
		return nil
	}
	v := d.b[:n:n]
	d.b = d.b[n:]
	return v
}

func (d *decoder) u8() uint8 {
	if v := d.take(1); v != nil {
		return v[0]
	}
	return 0
}

func (d *decoder) u16() uint16 {
	if v := d.take(2); v != nil {
		return binary.BigEndian.Uint16(v)
	}
	return 0
}

func (d *decoder) u32() uint32 {
	if v := d.take(4); v != nil {
		return binary.BigEndian.Uint32(v)
	}
	return 0
}

func (d *decoder) i64() int64 {
	if v := d.take(8); v != nil {
		return int64(binary.BigEndian.Uint64(v))
	}
	return 0
}

func (d *decoder) bytes() []byte {
	n := d.u16()
	v := d.take(int(n))
	if v == nil {
		return nil
	}
	return append([]byte(nil), v...)
}

func (d *decoder) str() string { return string(d.take(int(d.u16()))) }

func (d *decoder) context(c *Context) {
	c.OrgID = d.str()
	c.CallID = d.str()
	c.QueueID = d.str()
	c.PolicyID = d.str()
	c.PolicyVersion = d.i64()
	c.Direction = d.str()
	c.StartedAt = d.i64()
	n := int(d.u16())
	if n > MaxTracks {
		d.err = fmt.Errorf("%d tracks, limit %d", n, MaxTracks)
		return
	}
	// Each track takes at least 11 bytes; refuse counts the input cannot
	// hold before allocating for them.
	if n*11 > len(d.b) {
		d.err = errShort
		return
	}
	c.Tracks = nil
	if n > 0 {
		c.Tracks = make([]Track, n)
	}
	for i := range c.Tracks {
		t := &c.Tracks[i]
		t.Label = d.str()
		t.Kind = d.str()
		t.Codec = d.str()
		t.ClockRate = d.u32()
		t.PayloadType = d.u8()
	}
}

func (d *decoder) envelope(v *Envelope) {
	v.Key.Provider = d.str()
	v.Key.KeyID = d.str()
	v.Key.KeyVersion = d.str()
	switch d.u8() {
	case 0:
	case 1:
		v.Key.Fallback = true
	default:
		if d.err == nil {
			d.err = errors.New("fallback flag not 0 or 1")
		}
	}
	v.WrappedDEK = d.bytes()
}

// done reports a decoding error or bytes left over.
func (d *decoder) done() error {
	if d.err != nil {
		return d.err
	}
	if len(d.b) != 0 {
		return fmt.Errorf("%d trailing bytes", len(d.b))
	}
	return nil
}
