package audiohook

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// SigInput is one member of a Signature-Input header (RFC 9421) in the
// profile AudioHook uses: a list of covered components and the created,
// expires, nonce, keyid and alg parameters.
type SigInput struct {
	Label      string
	Components []string
	Created    int64
	Expires    int64
	Nonce      string
	KeyID      string
	Alg        string
	// order is the parameters' order in the header: the signature base
	// re-encodes them in it (RFC 9421 §2.3).
	order []string
}

// ErrSigInput marks every Signature-Input parse failure.
var ErrSigInput = errors.New("audiohook: malformed signature-input")

// ParseSigInput parses a header holding exactly one labelled member;
// AudioHook sends one signature, so more than one is refused rather than
// guessed at.
func ParseSigInput(h string) (SigInput, error) {
	var s SigInput
	eq := strings.IndexByte(h, '=')
	if eq < 1 {
		return s, fmt.Errorf("%w: no label", ErrSigInput)
	}
	s.Label = strings.TrimSpace(h[:eq])
	rest := h[eq+1:]
	if !strings.HasPrefix(rest, "(") {
		return s, fmt.Errorf("%w: no component list", ErrSigInput)
	}
	end := strings.IndexByte(rest, ')')
	if end < 0 {
		return s, fmt.Errorf("%w: unterminated component list", ErrSigInput)
	}
	for _, c := range strings.Fields(rest[1:end]) {
		u, err := strconv.Unquote(c)
		if err != nil || u == "" || c[0] != '"' {
			return SigInput{}, fmt.Errorf("%w: component %q", ErrSigInput, c)
		}
		s.Components = append(s.Components, u)
	}
	params := rest[end+1:]
	for params != "" {
		if params[0] != ';' {
			return SigInput{}, fmt.Errorf("%w: expected ';' at %q", ErrSigInput, params)
		}
		params = params[1:]
		k, v, ok := strings.Cut(params, "=")
		if !ok {
			return SigInput{}, fmt.Errorf("%w: parameter without value", ErrSigInput)
		}
		var val string
		if strings.HasPrefix(v, `"`) {
			q := strings.IndexByte(v[1:], '"')
			if q < 0 {
				return SigInput{}, fmt.Errorf("%w: unterminated string", ErrSigInput)
			}
			val, params = v[1:q+1], v[q+2:]
		} else {
			n := strings.IndexByte(v, ';')
			if n < 0 {
				n = len(v)
			}
			val, params = v[:n], v[n:]
		}
		if err := s.set(k, val); err != nil {
			return SigInput{}, err
		}
	}
	if s.Created == 0 || s.KeyID == "" || len(s.Components) == 0 {
		return SigInput{}, fmt.Errorf("%w: created, keyid and components are required", ErrSigInput)
	}
	return s, nil
}

func (s *SigInput) set(k, v string) error {
	for _, o := range s.order {
		if o == k {
			return fmt.Errorf("%w: parameter %q twice", ErrSigInput, k)
		}
	}
	s.order = append(s.order, k)
	for i := 0; i < len(v); i++ {
		if v[i] < 0x20 || v[i] > 0x7e || v[i] == '\\' {
			return fmt.Errorf("%w: %s holds a character a structured-field string cannot", ErrSigInput, k)
		}
	}
	switch k {
	case "created", "expires":
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			return fmt.Errorf("%w: %s=%q", ErrSigInput, k, v)
		}
		if k == "created" {
			s.Created = n
		} else {
			s.Expires = n
		}
	case "nonce":
		s.Nonce = v
	case "keyid":
		s.KeyID = v
	case "alg":
		s.Alg = v
	default:
		return fmt.Errorf("%w: unknown parameter %q", ErrSigInput, k)
	}
	return nil
}

// Params is the signature's parameters as the signature base carries them
// ("@signature-params"): the component list, then each parameter in the
// header's order, strings quoted, integers bare.
func (s SigInput) Params() string {
	var b strings.Builder
	b.WriteByte('(')
	for i, c := range s.Components {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(strconv.Quote(c))
	}
	b.WriteByte(')')
	for _, k := range s.order {
		b.WriteByte(';')
		b.WriteString(k)
		b.WriteByte('=')
		switch k {
		case "created":
			b.WriteString(strconv.FormatInt(s.Created, 10))
		case "expires":
			b.WriteString(strconv.FormatInt(s.Expires, 10))
		case "nonce":
			b.WriteString(strconv.Quote(s.Nonce))
		case "keyid":
			b.WriteString(strconv.Quote(s.KeyID))
		case "alg":
			b.WriteString(strconv.Quote(s.Alg))
		}
	}
	return b.String()
}
