package seal

import (
	"bytes"
	"errors"
	"fmt"
	"sort"
)

// Bounds of the KMS encryption context a version 2 header records. A
// context names a handful of things (org, policy or key, a DEK or
// recording id); the bounds keep a hostile header from costing more than a
// few kilobytes to parse.
const (
	MaxKMSContextPairs = 16
	MaxKMSContextKey   = 64
	MaxKMSContextValue = 512
)

// validKMSContext checks c against the bounds: at least one pair, names
// non-empty.
func validKMSContext(c map[string]string) error {
	switch {
	case len(c) == 0:
		return errors.New("kms context is empty")
	case len(c) > MaxKMSContextPairs:
		return fmt.Errorf("kms context has %d pairs, limit %d", len(c), MaxKMSContextPairs)
	}
	for k, v := range c {
		if len(k) == 0 || len(k) > MaxKMSContextKey {
			return fmt.Errorf("kms context name of %d bytes (1..%d)", len(k), MaxKMSContextKey)
		}
		if len(v) > MaxKMSContextValue {
			return fmt.Errorf("kms context value of %q is %d bytes, limit %d", k, len(v), MaxKMSContextValue)
		}
	}
	return nil
}

// kmsContext encodes c canonically: u16 count, then the pairs sorted by
// name (bytewise), each as str name | str value.
func (e *encoder) kmsContext(c map[string]string) {
	if err := validKMSContext(c); err != nil {
		if e.err == nil {
			e.err = err
		}
		return
	}
	names := make([]string, 0, len(c))
	for k := range c {
		names = append(names, k)
	}
	sort.Strings(names)
	e.u16(uint16(len(names)))
	for _, k := range names {
		e.str("kms context name", k)
		e.str("kms context value", c[k])
	}
}

// kmsContext decodes what encoder.kmsContext writes and refuses every other
// encoding of a context (unsorted or repeated names, empty names, counts
// or lengths over the bounds), so one context has exactly one encoding.
func (d *decoder) kmsContext() map[string]string {
	n := int(d.u16())
	if d.err != nil {
		return nil
	}
	if n == 0 || n > MaxKMSContextPairs {
		d.err = fmt.Errorf("kms context has %d pairs (1..%d)", n, MaxKMSContextPairs)
		return nil
	}
	c := make(map[string]string, n)
	var prev []byte
	for i := 0; i < n && d.err == nil; i++ {
		k := d.take(int(d.u16()))
		v := d.take(int(d.u16()))
		if d.err != nil {
			return nil
		}
		switch {
		case len(k) == 0 || len(k) > MaxKMSContextKey:
			d.err = fmt.Errorf("kms context name of %d bytes (1..%d)", len(k), MaxKMSContextKey)
		case len(v) > MaxKMSContextValue:
			d.err = fmt.Errorf("kms context value of %d bytes, limit %d", len(v), MaxKMSContextValue)
		case i > 0 && bytes.Compare(prev, k) >= 0:
			d.err = errors.New("kms context names not sorted or repeated")
		}
		prev = k
		c[string(k)] = string(v)
	}
	if d.err != nil {
		return nil
	}
	return c
}

// MarshalKMSContext encodes c as a version 2 header records it, for a
// store that keeps the context next to a replaceable envelope (an index
// row).
func MarshalKMSContext(c map[string]string) ([]byte, error) {
	var e encoder
	e.kmsContext(c)
	if e.err != nil {
		return nil, fmt.Errorf("%w: %v", ErrHeaderInvalid, e.err)
	}
	return e.b, nil
}

// ParseKMSContext decodes what MarshalKMSContext wrote.
func ParseKMSContext(b []byte) (map[string]string, error) {
	d := decoder{b: b}
	c := d.kmsContext()
	if err := d.done(); err != nil {
		return nil, fmt.Errorf("%w: kms context: %v", ErrHeaderMalformed, err)
	}
	return c, nil
}
