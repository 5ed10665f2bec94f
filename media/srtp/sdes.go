package srtp

import (
	"encoding/base64"
	"errors"
	"fmt"
	"math/bits"
	"strconv"
	"strings"
)

// ErrCrypto means an a=crypto attribute is malformed or not usable; it is
// wrapped with the field at fault, never with key material.
var ErrCrypto = errors.New("srtp: unusable crypto attribute")

// maxAttr bounds an attribute value: several inline keys with MKIs fit well
// within it; anything longer is refused before it is split.
const maxAttr = 1024

// Crypto is one SDES a=crypto attribute (RFC 4568 §9.1) of a supported
// suite. Key holds the master key followed by the master salt. MKI is
// empty when the sender uses none; otherwise it holds the MKI value
// big-endian in MKILen bytes, as the packets carry it.
type Crypto struct {
	Tag   uint32
	Suite Suite
	Key   []byte
	MKI   []byte
	// Window is the replay window the sender asks for (WSH), 0: default.
	Window uint
}

// String describes c without its key.
func (c Crypto) String() string {
	return fmt.Sprintf("crypto tag %d %s mki %d bytes", c.Tag, c.Suite, len(c.MKI))
}

// Attribute renders c as the value of an a=crypto line ("1 SUITE inline:...").
func (c Crypto) Attribute() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d %s inline:%s", c.Tag, c.Suite, base64.StdEncoding.EncodeToString(c.Key))
	if len(c.MKI) > 0 {
		var v uint64
		for _, x := range c.MKI {
			v = v<<8 | uint64(x)
		}
		fmt.Fprintf(&b, "|%d:%d", v, len(c.MKI))
	}
	return b.String()
}

func cryptoErr(format string, a ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrCrypto}, a...)...)
}

// ParseCrypto parses the value of an a=crypto attribute (what follows
// "a=crypto:"). Only the first key-param is used unless the sender uses
// MKIs, in which case every key must carry one: the others are returned
// in more. Session parameters that weaken protection (UNENCRYPTED_*,
// UNAUTHENTICATED_SRTP) or that the receiver does not implement (KDR > 0,
// FEC) make the attribute unusable: fail closed rather than record media
// with less protection than the sender believes it has.
func ParseCrypto(v string) (c Crypto, more []Crypto, err error) {
	if len(v) > maxAttr {
		return Crypto{}, nil, cryptoErr("attribute longer than %d bytes", maxAttr)
	}
	f := strings.Fields(v)
	if len(f) < 3 {
		return Crypto{}, nil, cryptoErr("needs a tag, a suite and key parameters")
	}
	tag, err := strconv.ParseUint(f[0], 10, 32)
	if err != nil || len(f[0]) > 9 {
		return Crypto{}, nil, cryptoErr("bad tag")
	}
	suite, ok := ParseSuite(f[1])
	if !ok {
		return Crypto{}, nil, cryptoErr("suite not supported (want one of %v)", Suites)
	}
	c = Crypto{Tag: uint32(tag), Suite: suite}
	for _, p := range f[3:] {
		if c.Window, err = sessionParam(p, c.Window); err != nil {
			return Crypto{}, nil, err
		}
	}
	keys := strings.Split(f[2], ";")
	if len(keys) > 16 {
		return Crypto{}, nil, cryptoErr("more than 16 keys")
	}
	for i, kp := range keys {
		k, err := keyParam(suite, kp)
		if err != nil {
			return Crypto{}, nil, fmt.Errorf("key %d: %w", i+1, err)
		}
		k.Tag, k.Window = c.Tag, c.Window
		if i == 0 {
			c = k
			continue
		}
		if len(k.MKI) == 0 || len(k.MKI) != len(c.MKI) {
			return Crypto{}, nil, cryptoErr("key %d: several keys need MKIs of one length", i+1)
		}
		more = append(more, k)
	}
	return c, more, nil
}

// sessionParam checks one session parameter (RFC 4568 §6.3).
func sessionParam(p string, window uint) (uint, error) {
	name, val, _ := strings.Cut(p, "=")
	switch strings.ToUpper(name) {
	case "WSH":
		w, err := strconv.ParseUint(val, 10, 16)
		if err != nil || w < 64 {
			return 0, cryptoErr("bad WSH")
		}
		return uint(w), nil
	case "KDR":
		if val != "0" {
			return 0, cryptoErr("KDR other than 0 not supported")
		}
		return window, nil
	case "UNENCRYPTED_SRTP", "UNENCRYPTED_SRTCP", "UNAUTHENTICATED_SRTP":
		return 0, cryptoErr("session parameter %s refused: the gateway records only protected media", strings.ToUpper(name))
	default:
		return 0, cryptoErr("unknown session parameter")
	}
}

// keyParam parses "inline:<key||salt base64>[|lifetime][|mki:len]".
func keyParam(suite Suite, kp string) (Crypto, error) {
	method, info, ok := strings.Cut(kp, ":")
	if !ok || !strings.EqualFold(method, "inline") {
		return Crypto{}, cryptoErr("key method is not inline")
	}
	parts := strings.Split(info, "|")
	if len(parts) > 3 {
		return Crypto{}, cryptoErr("too many key fields")
	}
	kl, sl := suite.keyLens()
	key, err := base64.StdEncoding.DecodeString(parts[0])
	if err != nil {
		// Some senders omit the padding; RFC 4568 §6.1 keys are padded.
		key, err = base64.RawStdEncoding.DecodeString(parts[0])
	}
	if err != nil || len(key) != kl+sl {
		return Crypto{}, cryptoErr("key is not %d bytes of base64 for %s", kl+sl, suite)
	}
	c := Crypto{Suite: suite, Key: key}
	for _, p := range parts[1:] {
		if strings.Contains(p, ":") {
			if c.MKI != nil {
				return Crypto{}, cryptoErr("two MKIs")
			}
			if c.MKI, err = parseMKI(p); err != nil {
				return Crypto{}, err
			}
			continue
		}
		if err := checkLifetime(p); err != nil {
			return Crypto{}, err
		}
	}
	return c, nil
}

// parseMKI parses "value:length" into length big-endian bytes.
func parseMKI(p string) ([]byte, error) {
	vs, ls, _ := strings.Cut(p, ":")
	v, err1 := strconv.ParseUint(vs, 10, 64)
	n, err2 := strconv.Atoi(ls)
	// pion compares the MKI as bytes; a value wider than its length or a
	// length beyond 8 bytes (a uint64 value) is a malformed line.
	if err1 != nil || err2 != nil || n < 1 || n > 8 || bits.Len64(v) > 8*n {
		return nil, cryptoErr("bad MKI")
	}
	b := make([]byte, n)
	for i := n - 1; i >= 0; i-- {
		b[i] = byte(v)
		v >>= 8
	}
	return b, nil
}

// checkLifetime accepts a key lifetime ("2^31" or a decimal count). The
// receiver does not rekey on lifetime (pion refuses packets past the
// suite's limit); it only checks the field is well formed.
func checkLifetime(p string) error {
	if e, ok := strings.CutPrefix(p, "2^"); ok {
		n, err := strconv.Atoi(e)
		if err != nil || n < 1 || n > 48 {
			return cryptoErr("bad key lifetime")
		}
		return nil
	}
	if _, err := strconv.ParseUint(p, 10, 64); err != nil {
		return cryptoErr("bad key lifetime")
	}
	return nil
}
