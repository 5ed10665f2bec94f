package whip

import (
	"bytes"
	"fmt"
	"strings"
)

// Frag is a parsed application/trickle-ice-sdpfrag body (RFC 8840 §9,
// as used by RFC 9725 §4.3).
type Frag struct {
	// Ufrag and Pwd are the client's ICE credentials; set in every WHIP
	// fragment, new ones mean an ICE restart.
	Ufrag, Pwd string
	// Candidates in order, each with the mid of the m= section it follows.
	Candidates []FragCandidate
	// EndOfCandidates is set by a=end-of-candidates.
	EndOfCandidates bool
}

// FragCandidate is one a=candidate line.
type FragCandidate struct {
	Mid       string
	Candidate string // without the "candidate:" prefix
}

// ice-char = ALPHA / DIGIT / "+" / "/" (RFC 8839 §5.4).
func iceChars(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '+' || c == '/') {
			return false
		}
	}
	return true
}

// setOnce stores v in *dst, refusing a second, different value.
func setOnce(dst *string, v, name string) error {
	if *dst != "" && *dst != v {
		return fmt.Errorf("%w: two different %s values", ErrBadFrag, name)
	}
	*dst = v
	return nil
}

// ParseFrag parses a trickle-ice-sdpfrag body. It accepts the lines RFC
// 8840 allows in a fragment (a=ice-ufrag, a=ice-pwd, a=ice-options,
// a=group, m=, a=mid, a=candidate, a=end-of-candidates), ignores other
// attributes and rejects anything else, and bounds the work by the
// number of lines.
func ParseFrag(b []byte) (Frag, error) {
	var f Frag
	if !bytes.ContainsFunc(b, func(r rune) bool { return r != '\r' && r != '\n' && r != ' ' }) {
		return f, fmt.Errorf("%w: empty fragment", ErrBadFrag)
	}
	lines := strings.Split(strings.ReplaceAll(string(b), "\r\n", "\n"), "\n")
	if len(lines) > maxFragLines {
		return f, fmt.Errorf("%w: %d lines (max %d)", ErrBadFrag, len(lines), maxFragLines)
	}
	mid := ""
	for n, line := range lines {
		if line == "" {
			continue
		}
		if len(line) > 1024 || strings.ContainsAny(line, "\r\x00") {
			return f, fmt.Errorf("%w: line %d: too long or contains CR/NUL", ErrBadFrag, n+1)
		}
		switch {
		case strings.HasPrefix(line, "m="):
			mid = "" // a new section; its a=mid follows
		case strings.HasPrefix(line, "a=ice-ufrag:"):
			v := line[len("a=ice-ufrag:"):]
			if len(v) < 4 || len(v) > 256 || !iceChars(v) {
				return f, fmt.Errorf("%w: line %d: ice-ufrag %q must be 4-256 ice-chars", ErrBadFrag, n+1, v)
			}
			if err := setOnce(&f.Ufrag, v, "ice-ufrag"); err != nil {
				return f, err
			}
		case strings.HasPrefix(line, "a=ice-pwd:"):
			v := line[len("a=ice-pwd:"):]
			if len(v) < 22 || len(v) > 256 || !iceChars(v) {
				return f, fmt.Errorf("%w: line %d: ice-pwd must be 22-256 ice-chars", ErrBadFrag, n+1)
			}
			if err := setOnce(&f.Pwd, v, "ice-pwd"); err != nil {
				return f, err
			}
		case strings.HasPrefix(line, "a=mid:"):
			mid = line[len("a=mid:"):]
			if mid == "" || len(mid) > 32 || strings.ContainsAny(mid, " \t") {
				return f, fmt.Errorf("%w: line %d: bad mid %q", ErrBadFrag, n+1, mid)
			}
		case strings.HasPrefix(line, "a=candidate:"):
			c := line[len("a=candidate:"):]
			if len(strings.Fields(c)) < 8 {
				return f, fmt.Errorf("%w: line %d: candidate has %d fields (want at least 8)", ErrBadFrag, n+1, len(strings.Fields(c)))
			}
			if len(f.Candidates) >= 64 {
				return f, fmt.Errorf("%w: more than 64 candidates", ErrBadFrag)
			}
			f.Candidates = append(f.Candidates, FragCandidate{Mid: mid, Candidate: c})
		case line == "a=end-of-candidates":
			f.EndOfCandidates = true
		case strings.HasPrefix(line, "a="):
			// a=ice-options, a=group and anything newer: no action needed
		default:
			return f, fmt.Errorf("%w: line %d: %.20q is not allowed in a fragment", ErrBadFrag, n+1, line)
		}
	}
	if (f.Ufrag == "") != (f.Pwd == "") {
		return f, fmt.Errorf("%w: ice-ufrag and ice-pwd must come together", ErrBadFrag)
	}
	return f, nil
}

// buildFrag renders the gateway's side of an ICE restart: new credentials
// and candidates for the bundle's first m= section.
func buildFrag(ufrag, pwd, mline, mid string, candidates []string) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "a=ice-ufrag:%s\r\na=ice-pwd:%s\r\n", ufrag, pwd)
	if mline != "" {
		fmt.Fprintf(&b, "%s\r\na=mid:%s\r\n", mline, mid)
	}
	for _, c := range candidates {
		fmt.Fprintf(&b, "a=candidate:%s\r\n", c)
	}
	b.WriteString("a=end-of-candidates\r\n")
	return []byte(b.String())
}
