package strictjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// MaxDepth bounds nesting (the same bound as approvals.Canonical).
const MaxDepth = 32

var bom = []byte{0xEF, 0xBB, 0xBF}

// Error is a body refused by Check or Unmarshal. Path names the member
// ("keyProvider.region", "targetIds[2]"; "" for the body itself).
type Error struct {
	Path string
	// Unknown is true when the member names no field of the destination.
	Unknown bool
	Msg     string
}

func (e *Error) Error() string {
	if e.Path == "" {
		return "json: " + e.Msg
	}
	return fmt.Sprintf("json: %s: %s", e.Path, e.Msg)
}

func errorf(path, format string, a ...any) *Error {
	return &Error{Path: path, Msg: fmt.Sprintf(format, a...)}
}

// Check refuses a body that is not exactly one JSON value every reader
// reads the same way: a UTF-8 byte order mark, invalid UTF-8, a key
// repeated in one object, two keys of one object that differ only in
// case, a key written with escapes, a number out of float64 range,
// nesting deeper than MaxDepth, or anything but whitespace after the
// value.
func Check(body []byte) error {
	if bytes.HasPrefix(body, bom) {
		return errorf("", "body starts with a UTF-8 byte order mark; send plain UTF-8")
	}
	if !utf8.Valid(body) {
		return errorf("", "invalid UTF-8 at byte %d", invalidAt(body))
	}
	c := checker{body: body, dec: json.NewDecoder(bytes.NewReader(body))}
	c.dec.UseNumber()
	if err := c.value("", 0); err != nil {
		return err
	}
	if _, err := c.dec.Token(); !errors.Is(err, io.EOF) {
		return errorf("", "data after the JSON value")
	}
	return nil
}

func invalidAt(b []byte) int {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n <= 1 {
			return i
		}
		i += n
	}
	return len(b)
}

type checker struct {
	body []byte
	dec  *json.Decoder
}

func (c *checker) token(path string) (json.Token, error) {
	t, err := c.dec.Token()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errorf(path, "body ends in the middle of the JSON")
		}
		return nil, errorf(path, "malformed JSON near byte %d: %v", c.dec.InputOffset(), err)
	}
	return t, nil
}

func (c *checker) value(path string, depth int) error {
	if depth > MaxDepth {
		return errorf(path, "nested deeper than %d", MaxDepth)
	}
	t, err := c.token(path)
	if err != nil {
		return err
	}
	switch t := t.(type) {
	case json.Delim:
		switch t {
		case '{':
			return c.object(path, depth)
		case '[':
			for i := 0; c.dec.More(); i++ {
				if err := c.value(fmt.Sprintf("%s[%d]", path, i), depth+1); err != nil {
					return err
				}
			}
			_, err := c.token(path)
			return err
		}
		return errorf(path, "unexpected %v", t)
	case json.Number:
		if f, err := strconv.ParseFloat(string(t), 64); err != nil || math.IsInf(f, 0) {
			return errorf(path, "number %s is out of range", t)
		}
	}
	return nil
}

func (c *checker) object(path string, depth int) error {
	seen := map[string]bool{}
	for c.dec.More() {
		before := c.dec.InputOffset()
		kt, err := c.token(path)
		if err != nil {
			return err
		}
		k, _ := kt.(string) // the decoder yields only string keys
		at := join(path, k)
		// The raw key: the decoder has consumed the separator before it
		// ("{" or ",") and the quoted key itself.
		raw := strings.TrimLeft(string(c.body[before:c.dec.InputOffset()]), " \t\r\n,{")
		if strings.Contains(raw, `\`) {
			return errorf(at, "key %s is written with escapes; write member names plainly", raw)
		}
		if seen[k] {
			return errorf(at, "duplicate key %q", k)
		}
		for o := range seen {
			if strings.EqualFold(o, k) {
				return errorf(at, "keys %q and %q differ only in case", o, k)
			}
		}
		seen[k] = true
		if err := c.value(at, depth+1); err != nil {
			return err
		}
	}
	_, err := c.token(path)
	return err
}

func join(path, k string) string {
	if path == "" {
		return k
	}
	return path + "." + k
}
