package siprec

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

func FuzzMetadata(f *testing.F) {
	for _, n := range []string{"metadata-basic.xml", "metadata-three-streams.xml", "metadata-partial-update.xml", "metadata-unknown-stream.xml", "metadata-draft.xml"} {
		f.Add(sample(f, n))
	}
	f.Add([]byte(`<recording><participant participant_id="a"><nameID aor="x"/></participant></recording>`))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ParseMetadata(b)
		if err != nil {
			return
		}
		// Whatever parses must be usable without panics.
		m.Lookup("session/extensiondata/callData/queue")
		m.Lookup("participant@participant_id")
		roles(m, defaultRole)
		for _, s := range m.Streams {
			m.Sender(s.ID)
		}
		m.Merge(m)
	})
}

func FuzzSplitBody(f *testing.F) {
	f.Add("multipart/mixed;boundary=xyz", []byte(multipartBody("xyz", [2]string{typeSDP, testSDP}, [2]string{typeMetadata, "<recording/>"})))
	f.Add(typeSDP, []byte(testSDP))
	f.Add("multipart/mixed; boundary=\"a b\"", []byte("--a b\r\n\r\n--a b--"))
	f.Fuzz(func(t *testing.T, ct string, b []byte) {
		body, err := SplitBody(ct, b)
		if err != nil {
			return
		}
		if len(body.SDP) > len(b) || len(body.Metadata) > len(b) {
			t.Fatalf("parts larger than the body")
		}
	})
}

func FuzzSDP(f *testing.F) {
	f.Add([]byte(testSDP))
	f.Add([]byte("v=0\r\nm=audio 0 RTP/AVP 0\r\na=inactive\r\n"))
	f.Add([]byte("v=0\r\nc=IN IP4 127.0.0.1\r\nm=audio 7000 RTP/SAVP 0\r\na=crypto:2 F8_128_HMAC_SHA1_80 inline:AAAA\r\n" +
		"a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz|2^20|1:4\r\na=label:1\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		o, err := ParseSDP(b)
		if err != nil {
			return
		}
		for _, m := range o.Media {
			if c, ok := m.pickCodec(); ok && strings.ContainsAny(c.rtpmapStr, "\r\n") {
				t.Fatalf("codec description with a line break: %q", c.rtpmapStr)
			}
			// The accepted a=crypto is one the line offered, and its
			// answer attribute (from the same tag and suite) is one line.
			if v, tag, suite, ok := m.pickCrypto(); ok {
				st := &stream{}
				if !slices.Contains(m.crypto, v) || !sdesStream(st, m) || strings.ContainsAny(st.answerCrypto, "\r\n") ||
					!strings.HasPrefix(st.answerCrypto, fmt.Sprintf("%d %s inline:", tag, suite)) {
					t.Fatalf("crypto %q (tag %d %s) answered %q", v, tag, suite, st.answerCrypto)
				}
			}
		}
	})
}
