package siprec

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func sample(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "siprec", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

const defaultRole = "extensiondata/role"

func TestParseMetadataSample(t *testing.T) {
	m, err := ParseMetadata(sample(t, "metadata-basic.xml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Participants) != 2 || len(m.Streams) != 2 || m.Partial {
		t.Fatalf("parsed %+v", m)
	}
	for path, want := range map[string]string{
		"session/extensiondata/callData/queue":     "support",
		"session/extensiondata/callData/direction": "inbound",
		"session/extensiondata/callData/callId":    "call-7f3a",
		"session/sipSessionID":                     "ab30317f1a784dc48ff824d0d3715d86;remote=47755a9de7794ba387653f2099600ef2",
		"session@session_id":                       "hVpd7YQgRW2nD22h7q60JQ==",
		"participant/nameID@aor":                   "sip:+441234567890@sbc.example.com",
		"session/extensiondata/callData/missing":   "",
	} {
		if got := m.Lookup(path); got != want {
			t.Errorf("Lookup(%q) = %q, want %q", path, got, want)
		}
	}
	st := m.StreamByLabel("2")
	if st == nil || m.Sender(st.ID).Name != "Agent Seven" || m.Sender(st.ID).Role(defaultRole) != "agent" {
		t.Fatalf("stream 2 sender wrong")
	}
	rs := roles(m, defaultRole)
	if rs["srfBElmCRp2QB23b7Mpk0w=="] != "caller" || rs["zSfPoSvdSDCmU3A3TRDxAw=="] != "agent" {
		t.Fatalf("roles %v", rs)
	}
	// A partial update renames the agent and keeps its streams.
	u, err := ParseMetadata(sample(t, "metadata-partial-update.xml"))
	if err != nil || !u.Partial {
		t.Fatalf("partial: %v", err)
	}
	merged := m.Merge(u)
	if p := merged.Sender(st.ID); p == nil || p.Name != "Agent Eight" || roles(merged, defaultRole)[p.ID] != "agent" {
		t.Fatalf("partial update lost the agent's stream or role: %+v", p)
	}
	if len(merged.Participants) != 2 || merged.Participants[1].Name != "Agent Eight" {
		t.Fatalf("merge: %+v", merged.Participants[1])
	}
}

func TestParseMetadataErrors(t *testing.T) {
	tests := []struct {
		name, xml string
		want      error
	}{
		{"not xml", "hello", ErrMetadata},
		{"unclosed", "<recording><session>", ErrMetadata},
		{"wrong root", "<metadata/>", ErrMetadata},
		{"participant without id", "<recording><participant/></recording>", ErrMetadata},
		{"duplicate stream", `<recording><stream stream_id="a"/><stream stream_id="a"/></recording>`, ErrMetadata},
		{"doctype", `<!DOCTYPE recording [<!ENTITY x "y">]><recording/>`, ErrMetadata},
		{"two roots", "<recording/><recording/>", ErrMetadata},
		{"deep", strings.Repeat("<a>", 100) + strings.Repeat("</a>", 100), ErrMetadata},
		{"unknown stream", string(sample(t, "metadata-unknown-stream.xml")), ErrUnknownStream},
		{"unknown participant", `<recording><participantstreamassoc participant_id="x"><send>s</send></participantstreamassoc></recording>`, ErrUnknownStream},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseMetadata([]byte(tt.xml))
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
		})
	}
}

const testSDP = "v=0\r\no=src 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n" +
	"m=audio 6000 RTP/AVP 8 0 101\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\na=label:1\r\na=sendonly\r\n" +
	"m=audio 6002 RTP/AVP 18 96\r\na=rtpmap:18 G729/8000\r\na=rtpmap:96 opus/48000/2\r\na=label:2\r\na=inactive\r\n" +
	"m=video 6004 RTP/AVP 97\r\na=rtpmap:97 VP8/90000\r\na=label:3\r\n"

func TestParseSDP(t *testing.T) {
	o, err := ParseSDP([]byte(testSDP))
	if err != nil {
		t.Fatal(err)
	}
	if len(o.Media) != 3 {
		t.Fatalf("%d media lines", len(o.Media))
	}
	c, ok := o.Media[0].pickCodec()
	if !ok || c.Name != "PCMA" || c.PT != 8 || c.DTMF == nil || *c.DTMF != 101 || o.Media[0].Inactive() {
		t.Fatalf("line 1: %+v %v", c, ok)
	}
	c, ok = o.Media[1].pickCodec()
	if !ok || c.Name != "opus" || c.PT != 96 || c.Rate != 48000 || !o.Media[1].Inactive() {
		t.Fatalf("line 2: %+v %v", c, ok)
	}
	if _, ok := o.Media[2].pickCodec(); ok {
		t.Fatal("video line has a recordable audio codec")
	}
	for _, bad := range []string{"", "x=0\r\n", "v=0\r\nm=audio\r\n", "v=0\r\nm=audio 99999 RTP/AVP 0\r\n", "v=0\r\ngarbage\r\n",
		"v=0\r\n" + strings.Repeat("m=audio 1 RTP/AVP 0\r\n", 20),
		// a bare CR would carry a line of the offer into the answer
		"v=0\r\nm=audio 6002 RTP/AVP 96\r\na=rtpmap:96 opus/48000/2\ra=inactive\r\n",
		"v=0\r\nm=audio 6002 RTP/AVP 0\x00\r\n"} {
		if _, err := ParseSDP([]byte(bad)); !errors.Is(err, ErrSDP) {
			t.Errorf("ParseSDP(%q) = %v, want ErrSDP", bad, err)
		}
	}
}

func multipartBody(boundary string, parts ...[2]string) string {
	var b strings.Builder
	for _, p := range parts {
		b.WriteString("--" + boundary + "\r\nContent-Type: " + p[0] + "\r\n\r\n" + p[1] + "\r\n")
	}
	b.WriteString("--" + boundary + "--\r\n")
	return b.String()
}

func TestSplitBody(t *testing.T) {
	meta := string(sample(t, "metadata-basic.xml"))
	ok := multipartBody("xyz", [2]string{typeSDP, testSDP}, [2]string{typeMetadata + `; charset="utf-8"`, meta}, [2]string{"application/pidf+xml", "<x/>"})
	tests := []struct {
		name, ct, body string
		want           error
		sdp, md        bool
	}{
		{"multipart", "multipart/mixed;boundary=xyz", ok, nil, true, true},
		{"sdp only", typeSDP, testSDP, nil, true, false},
		{"metadata only", typeMetadata, meta, nil, false, true},
		{"empty", "", "", nil, false, false},
		{"no boundary", "multipart/mixed", ok, ErrBody, false, false},
		{"wrong boundary", "multipart/mixed;boundary=abc", ok, ErrBody, false, false},
		{"truncated", "multipart/mixed;boundary=xyz", ok[:len(ok)-10], ErrBody, false, false},
		{"two sdp", "multipart/mixed;boundary=xyz", multipartBody("xyz", [2]string{typeSDP, testSDP}, [2]string{typeSDP, testSDP}), ErrBody, false, false},
		{"nothing usable", "multipart/mixed;boundary=xyz", multipartBody("xyz", [2]string{"text/plain", "hi"}), ErrBody, false, false},
		{"bad part type", "multipart/mixed;boundary=xyz", multipartBody("xyz", [2]string{";;", "hi"}), ErrBody, false, false},
		{"text/plain", "text/plain", "hello", ErrMediaType, false, false},
		{"bad content-type", "multipart/", "x", ErrMediaType, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := SplitBody(tt.ct, []byte(tt.body))
			if !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
			if err == nil && ((b.SDP != nil) != tt.sdp || (b.Metadata != nil) != tt.md) {
				t.Fatalf("sdp %v metadata %v", b.SDP != nil, b.Metadata != nil)
			}
		})
	}
}

func TestStatusMapping(t *testing.T) {
	for err, want := range map[error]int{ErrBody: 400, ErrNoMetadata: 400, ErrUnknownStream: 400, ErrNoCodec: 488,
		ErrMediaType: 415, wrap(ErrSDP, "x"): 400, errors.New("other"): 500} {
		if got, _ := Status(err); got != want {
			t.Errorf("Status(%v) = %d, want %d", err, got, want)
		}
	}
}

// The pre-RFC draft schema maps to the same participants, streams, senders
// and roles as the RFC 7865 form of the same call.
func TestParseMetadataDraftSchema(t *testing.T) {
	rfc, err := ParseMetadata(sample(t, "metadata-basic.xml"))
	if err != nil {
		t.Fatal(err)
	}
	draft, err := ParseMetadata(sample(t, "metadata-draft.xml"))
	if err != nil {
		t.Fatalf("draft schema refused: %v", err)
	}
	if len(draft.Participants) != 2 || len(draft.Streams) != 2 || len(draft.SessionIDs) != 1 || draft.SessionIDs[0] != rfc.SessionIDs[0] {
		t.Fatalf("draft parsed %+v", draft)
	}
	for i, p := range draft.Participants {
		q := rfc.Participants[i]
		if p.ID != q.ID || p.AoR != q.AoR || p.Name != q.Name || !slices.Equal(p.Send, q.Send) || !slices.Equal(p.Recv, q.Recv) {
			t.Errorf("participant %d: draft %+v, RFC %+v", i, p, q)
		}
	}
	for _, label := range []string{"1", "2"} {
		ds, rs := draft.StreamByLabel(label), rfc.StreamByLabel(label)
		if ds == nil || ds.ID != rs.ID || ds.SessionID != rs.SessionID || draft.Sender(ds.ID).ID != rfc.Sender(rs.ID).ID {
			t.Errorf("stream %s: draft %+v, RFC %+v", label, ds, rs)
		}
	}
	if r := roles(draft, defaultRole); r["zSfPoSvdSDCmU3A3TRDxAw=="] != "agent" {
		t.Errorf("draft roles %v", r)
	}
	// A draft participant naming a stream that is not there is refused
	// as in the RFC form.
	bad := strings.Replace(string(sample(t, "metadata-draft.xml")), "<send>UAAMm5GRQKSCMVvLyl4rFw==</send>", "<send>nope</send>", 1)
	if _, err := ParseMetadata([]byte(bad)); !errors.Is(err, ErrUnknownStream) {
		t.Fatalf("draft participant sending an unknown stream: %v", err)
	}
}
