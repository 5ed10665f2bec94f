package approvals

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"

	"github.com/mediaseal/mediaseal/httpx/strictjson"
)

// maxDepth bounds nesting in canonicalised JSON.
const maxDepth = strictjson.MaxDepth

// Canonical returns the canonical form of a JSON value: objects with
// members sorted by key and no duplicate keys, no insignificant
// whitespace, integers in plain decimal and other numbers in Go's
// shortest 'g' form, strings re-encoded. Equal values give equal bytes;
// whatever strictjson.Check refuses (invalid UTF-8, a BOM, duplicate keys,
// keys differing only in case, escaped keys, trailing data, nesting deeper
// than 32) is an error, so no two different-looking inputs that a reader might
// interpret differently share a canonical form.
func Canonical(in []byte) ([]byte, error) {
	// The API's strict decoder accepts exactly what Check accepts: a
	// parameter document that could be read two ways (duplicate or
	// case-folded keys, escaped keys, a BOM) is never approved.
	if err := strictjson.Check(in); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	dec := json.NewDecoder(bytes.NewReader(in))
	dec.UseNumber()
	var out bytes.Buffer
	if err := canonValue(dec, &out, 0); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%w: trailing data after the JSON value", ErrInvalid)
	}
	return out.Bytes(), nil
}

func canonValue(dec *json.Decoder, out *bytes.Buffer, depth int) error {
	if depth > maxDepth {
		return fmt.Errorf("%w: nested deeper than %d", ErrInvalid, maxDepth)
	}
	tok, err := dec.Token()
	if err != nil {
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			return canonObject(dec, out, depth)
		case '[':
			out.WriteByte('[')
			for i := 0; dec.More(); i++ {
				if i > 0 {
					out.WriteByte(',')
				}
				if err := canonValue(dec, out, depth+1); err != nil {
					return err
				}
			}
			if _, err := dec.Token(); err != nil {
				return fmt.Errorf("%w: %v", ErrInvalid, err)
			}
			out.WriteByte(']')
			return nil
		}
		return fmt.Errorf("%w: unexpected %v", ErrInvalid, t)
	case string:
		writeString(out, t)
	case json.Number:
		s, err := canonNumber(t)
		if err != nil {
			return err
		}
		out.WriteString(s)
	case bool:
		out.WriteString(strconv.FormatBool(t))
	case nil:
		out.WriteString("null")
	}
	return nil
}

func canonObject(dec *json.Decoder, out *bytes.Buffer, depth int) error {
	members := map[string][]byte{}
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return fmt.Errorf("%w: %v", ErrInvalid, err)
		}
		k, ok := kt.(string)
		if !ok {
			return fmt.Errorf("%w: object key %v", ErrInvalid, kt)
		}
		if _, dup := members[k]; dup {
			return fmt.Errorf("%w: duplicate key %q", ErrInvalid, k)
		}
		var v bytes.Buffer
		if err := canonValue(dec, &v, depth+1); err != nil {
			return err
		}
		members[k] = v.Bytes()
	}
	if _, err := dec.Token(); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	keys := make([]string, 0, len(members))
	for k := range members {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			out.WriteByte(',')
		}
		writeString(out, k)
		out.WriteByte(':')
		out.Write(members[k])
	}
	out.WriteByte('}')
	return nil
}

func writeString(out *bytes.Buffer, s string) {
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)           // a string always encodes
	out.Truncate(out.Len() - 1) // Encode's newline
}

func canonNumber(n json.Number) (string, error) {
	if i, err := strconv.ParseInt(string(n), 10, 64); err == nil {
		return strconv.FormatInt(i, 10), nil
	}
	f, err := strconv.ParseFloat(string(n), 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return "", fmt.Errorf("%w: number %s out of range", ErrInvalid, n)
	}
	if f == math.Trunc(f) && math.Abs(f) < 1<<53 {
		return strconv.FormatInt(int64(f), 10), nil
	}
	return strconv.FormatFloat(f, 'g', -1, 64), nil
}

// Proposal is what a principal proposes.
type Proposal struct {
	Operation  string          `json:"operation"`
	Target     string          `json:"target"`
	Parameters json.RawMessage `json:"parameters"`
	Reason     string          `json:"reason"`
}

// CanonicalProposal returns the canonical JSON of p (parameters default to
// {}) and its SHA-256 digest in hex.
func CanonicalProposal(p Proposal) (canonical []byte, digest string, err error) {
	params := p.Parameters
	if len(bytes.TrimSpace(params)) == 0 || string(bytes.TrimSpace(params)) == "null" {
		params = json.RawMessage("{}")
	}
	cp, err := Canonical(params)
	if err != nil {
		return nil, "", fmt.Errorf("parameters: %w", err)
	}
	if len(cp) == 0 || cp[0] != '{' {
		return nil, "", fmt.Errorf("%w: parameters must be a JSON object", ErrInvalid)
	}
	doc, _ := json.Marshal(struct {
		Operation  string          `json:"operation"`
		Parameters json.RawMessage `json:"parameters"`
		Reason     string          `json:"reason"`
		Target     string          `json:"target"`
	}{p.Operation, cp, p.Reason, p.Target})
	if canonical, err = Canonical(doc); err != nil {
		return nil, "", err
	}
	sum := sha256.Sum256(canonical)
	return canonical, hex.EncodeToString(sum[:]), nil
}

// parametersOf returns the canonical parameters of a stored canonical
// proposal.
func parametersOf(canonical string) ([]byte, error) {
	var p Proposal
	if err := json.Unmarshal([]byte(canonical), &p); err != nil {
		return nil, err
	}
	return Canonical(p.Parameters)
}
