package ng

import (
	"fmt"
	"slices"
	"strconv"
)

// maxDepth bounds the nesting of decoded lists and dictionaries, so a
// hostile or corrupt datagram cannot exhaust the stack.
const maxDepth = 32

// Dict is a bencoded dictionary as decoded: values are string, int64,
// []any or Dict.
type Dict map[string]any

// Str returns the string under key ("" when absent or not a string).
func (d Dict) Str(key string) string {
	s, _ := d[key].(string)
	return s
}

// Marshal encodes v: string, []byte, int, int64, bool (as "yes"/"no", as NG
// flags are written), []string, []any, Dict and map[string]any. Dictionary
// keys are written sorted, as bencode requires.
func Marshal(v any) ([]byte, error) {
	return appendValue(nil, v, 0)
}

func appendValue(b []byte, v any, depth int) ([]byte, error) {
	if depth > maxDepth {
		return nil, fmt.Errorf("%w: nested deeper than %d", ErrUnsupported, maxDepth)
	}
	switch x := v.(type) {
	case string:
		return appendString(b, x), nil
	case []byte:
		return appendString(b, string(x)), nil
	case int:
		return appendInt(b, int64(x)), nil
	case int64:
		return appendInt(b, x), nil
	case bool:
		if x {
			return appendString(b, "yes"), nil
		}
		return appendString(b, "no"), nil
	case []string:
		b = append(b, 'l')
		for _, s := range x {
			b = appendString(b, s)
		}
		return append(b, 'e'), nil
	case []any:
		b = append(b, 'l')
		for _, e := range x {
			var err error
			if b, err = appendValue(b, e, depth+1); err != nil {
				return nil, err
			}
		}
		return append(b, 'e'), nil
	case Dict:
		return appendDict(b, x, depth)
	case map[string]any:
		return appendDict(b, x, depth)
	default:
		return nil, fmt.Errorf("%w: %T", ErrUnsupported, v)
	}
}

func appendDict(b []byte, d map[string]any, depth int) ([]byte, error) {
	keys := make([]string, 0, len(d))
	for k := range d {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b = append(b, 'd')
	for _, k := range keys {
		b = appendString(b, k)
		var err error
		if b, err = appendValue(b, d[k], depth+1); err != nil {
			return nil, err
		}
	}
	return append(b, 'e'), nil
}

func appendString(b []byte, s string) []byte {
	b = strconv.AppendInt(b, int64(len(s)), 10)
	b = append(b, ':')
	return append(b, s...)
}

func appendInt(b []byte, n int64) []byte {
	b = append(b, 'i')
	b = strconv.AppendInt(b, n, 10)
	return append(b, 'e')
}

// Unmarshal decodes one bencoded value that fills b exactly. Dictionary
// keys are accepted in any order (rtpengine does not sort them); a key
// given twice is malformed.
func Unmarshal(b []byte) (any, error) {
	d := decoder{b: b}
	v, err := d.value(0)
	if err != nil {
		return nil, err
	}
	if d.pos != len(b) {
		return nil, fmt.Errorf("%w: %d trailing bytes", ErrMalformed, len(b)-d.pos)
	}
	return v, nil
}

type decoder struct {
	b   []byte
	pos int
}

func (d *decoder) fail(what string) error {
	return fmt.Errorf("%w: %s at byte %d", ErrMalformed, what, d.pos)
}

func (d *decoder) value(depth int) (any, error) {
	if depth > maxDepth {
		return nil, d.fail("nesting too deep")
	}
	if d.pos >= len(d.b) {
		return nil, d.fail("unexpected end")
	}
	switch c := d.b[d.pos]; {
	case c == 'i':
		return d.integer()
	case c >= '0' && c <= '9':
		return d.str()
	case c == 'l':
		d.pos++
		list := []any{}
		for {
			if d.pos >= len(d.b) {
				return nil, d.fail("unterminated list")
			}
			if d.b[d.pos] == 'e' {
				d.pos++
				return list, nil
			}
			v, err := d.value(depth + 1)
			if err != nil {
				return nil, err
			}
			list = append(list, v)
		}
	case c == 'd':
		d.pos++
		dict := Dict{}
		for {
			if d.pos >= len(d.b) {
				return nil, d.fail("unterminated dictionary")
			}
			if d.b[d.pos] == 'e' {
				d.pos++
				return dict, nil
			}
			if c := d.b[d.pos]; c < '0' || c > '9' {
				return nil, d.fail("dictionary key is not a string")
			}
			k, err := d.str()
			if err != nil {
				return nil, err
			}
			if _, dup := dict[k]; dup {
				return nil, d.fail(fmt.Sprintf("duplicate key %q", k))
			}
			v, err := d.value(depth + 1)
			if err != nil {
				return nil, err
			}
			dict[k] = v
		}
	default:
		return nil, d.fail(fmt.Sprintf("unexpected byte %q", c))
	}
}

// digits reads an unsigned decimal without leading zeros up to the byte
// end and consumes end.
func (d *decoder) digits(end byte) (string, error) {
	start := d.pos
	for d.pos < len(d.b) && d.b[d.pos] != end {
		if c := d.b[d.pos]; c < '0' || c > '9' {
			return "", d.fail(fmt.Sprintf("unexpected byte %q in a number", c))
		}
		d.pos++
	}
	if d.pos >= len(d.b) {
		return "", d.fail("unterminated number")
	}
	s := string(d.b[start:d.pos])
	d.pos++ // end
	if s == "" || (len(s) > 1 && s[0] == '0') {
		return "", d.fail(fmt.Sprintf("bad number %q", s))
	}
	return s, nil
}

func (d *decoder) integer() (int64, error) {
	d.pos++ // 'i'
	neg := d.pos < len(d.b) && d.b[d.pos] == '-'
	if neg {
		d.pos++
	}
	s, err := d.digits('e')
	if err != nil {
		return 0, err
	}
	if neg && s == "0" {
		return 0, d.fail("negative zero")
	}
	if neg {
		s = "-" + s
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, d.fail(fmt.Sprintf("integer %s out of range", s))
	}
	return n, nil
}

func (d *decoder) str() (string, error) {
	s, err := d.digits(':')
	if err != nil {
		return "", err
	}
	n, err := strconv.Atoi(s)
	if err != nil || n > len(d.b)-d.pos {
		return "", d.fail(fmt.Sprintf("string of %s bytes past the end", s))
	}
	v := string(d.b[d.pos : d.pos+n])
	d.pos += n
	return v, nil
}
