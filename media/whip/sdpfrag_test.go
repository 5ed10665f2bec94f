package whip

import (
	"errors"
	"strings"
	"testing"
)

func TestParseFrag(t *testing.T) {
	const pwd = "abcdefghijklmnopqrstuvwx"
	cand := "candidate:1 1 udp 2130706431 192.0.2.1 5000 typ host"
	for _, tc := range []struct {
		name, in string
		want     Frag
		err      string
	}{
		{name: "trickle", in: "a=ice-ufrag:EsAw\r\na=ice-pwd:" + pwd + "\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\na=" + cand + "\r\na=end-of-candidates\r\n",
			want: Frag{Ufrag: "EsAw", Pwd: pwd, Candidates: []FragCandidate{{Mid: "0", Candidate: cand[len("candidate:"):]}}, EndOfCandidates: true}},
		{name: "LF only, no credentials", in: "a=" + cand + "\n", want: Frag{Candidates: []FragCandidate{{Candidate: cand[len("candidate:"):]}}}},
		{name: "ignored attributes", in: "a=ice-options:trickle ice2\r\na=group:BUNDLE 0 1\r\na=end-of-candidates\r\n", want: Frag{EndOfCandidates: true}},
		{name: "mid resets at m=", in: "m=audio 9 X 0\r\na=mid:a\r\nm=video 9 X 0\r\na=" + cand + "\r\n", want: Frag{Candidates: []FragCandidate{{Candidate: cand[len("candidate:"):]}}}},
		{name: "empty", in: "\r\n", err: "empty"},
		{name: "session line", in: "v=0\r\n", err: "not allowed"},
		{name: "short ufrag", in: "a=ice-ufrag:ab\r\na=ice-pwd:" + pwd + "\r\n", err: "ice-ufrag"},
		{name: "bad ufrag char", in: "a=ice-ufrag:ab;cd\r\na=ice-pwd:" + pwd + "\r\n", err: "ice-ufrag"},
		{name: "short pwd", in: "a=ice-ufrag:abcd\r\na=ice-pwd:short\r\n", err: "ice-pwd"},
		{name: "ufrag without pwd", in: "a=ice-ufrag:abcd\r\n", err: "together"},
		{name: "two ufrags", in: "a=ice-ufrag:abcd\r\na=ice-ufrag:efgh\r\na=ice-pwd:" + pwd + "\r\n", err: "two different"},
		{name: "short candidate", in: "a=candidate:1 1 udp\r\n", err: "fields"},
		{name: "bad mid", in: "a=mid:\r\n", err: "mid"},
		{name: "NUL", in: "a=end-of-candidates\x00\r\n", err: "NUL"},
		{name: "too many lines", in: strings.Repeat("a=x\n", maxFragLines+1), err: "lines"},
		{name: "too many candidates", in: strings.Repeat("a="+cand+"\n", 65), err: "64"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseFrag([]byte(tc.in))
			if tc.err != "" {
				if !errors.Is(err, ErrBadFrag) || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want ErrBadFrag mentioning %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Ufrag != tc.want.Ufrag || got.Pwd != tc.want.Pwd || got.EndOfCandidates != tc.want.EndOfCandidates ||
				len(got.Candidates) != len(tc.want.Candidates) {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
			for i := range got.Candidates {
				if got.Candidates[i] != tc.want.Candidates[i] {
					t.Fatalf("candidate %d: %+v, want %+v", i, got.Candidates[i], tc.want.Candidates[i])
				}
			}
		})
	}
}

// FuzzParseFrag: no panic; a fragment that parses has well-formed fields
// and survives a round trip through buildFrag.
func FuzzParseFrag(f *testing.F) {
	f.Add([]byte("a=ice-ufrag:EsAw\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\na=candidate:1 1 udp 2130706431 192.0.2.1 5000 typ host\r\na=end-of-candidates\r\n"))
	f.Add([]byte("a=candidate:1 1 udp 1 ::1 9 typ host generation 0 ufrag x\n"))
	f.Add([]byte("a=ice-options:trickle\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		fr, err := ParseFrag(b)
		if err != nil {
			if !errors.Is(err, ErrBadFrag) {
				t.Fatalf("unwrapped error %v", err)
			}
			return
		}
		if (fr.Ufrag == "") != (fr.Pwd == "") || len(fr.Candidates) > 64 {
			t.Fatalf("inconsistent %+v", fr)
		}
		if fr.Ufrag == "" {
			return
		}
		var cands []string
		for _, c := range fr.Candidates {
			cands = append(cands, c.Candidate)
		}
		again, err := ParseFrag(buildFrag(fr.Ufrag, fr.Pwd, "m=audio 9 UDP/TLS/RTP/SAVPF 111", "0", cands))
		if err != nil || again.Ufrag != fr.Ufrag || again.Pwd != fr.Pwd || len(again.Candidates) != len(cands) || !again.EndOfCandidates {
			t.Fatalf("round trip: %+v, %v", again, err)
		}
	})
}

// FuzzAnalyzeOffer: arbitrary offers never panic, and an accepted one
// names a sending section with a recordable codec and a mid.
func FuzzAnalyzeOffer(f *testing.F) {
	f.Add([]byte("v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\na=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\na=sendonly\r\na=rtpmap:111 opus/48000/2\r\n"))
	f.Add([]byte("v=0\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		info, err := analyzeOffer(b)
		if err != nil {
			return
		}
		ok := false
		for _, m := range info.media {
			ok = ok || (m.sends && m.mid != "" && len(m.choices) > 0)
		}
		if !ok || info.ufrag == "" || info.pwd == "" {
			t.Fatalf("accepted offer without a recordable section: %+v", info)
		}
	})
}

func TestETagMatches(t *testing.T) {
	for _, tc := range []struct {
		ifMatch string
		want    bool
	}{{`"a1"`, true}, {`"b2", "a1"`, true}, {`"b2"`, false}, {`W/"a1"`, false}, {`a1`, false}} {
		if got := etagMatches(tc.ifMatch, `"a1"`); got != tc.want {
			t.Errorf("If-Match %s: %v, want %v", tc.ifMatch, got, tc.want)
		}
	}
}
