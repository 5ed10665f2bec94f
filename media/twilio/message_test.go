package twilio

import (
	"errors"
	"strings"
	"testing"
)

const (
	testStream  = "MZ0123456789abcdef0123456789abcdef"
	testCall    = "CA0123456789abcdef0123456789abcdef"
	testAccount = "AC0123456789abcdef0123456789abcdef"
)

func TestParseDocumentedMessages(t *testing.T) {
	m, err := Parse([]byte(`{"event":"connected","protocol":"Call","version":"1.0.0"}`))
	if err != nil || m.Event != EventConnected || m.Protocol != "Call" {
		t.Fatalf("connected: %+v %v", m, err)
	}
	m, err = Parse([]byte(`{"event":"start","sequenceNumber":"1","start":{"accountSid":"` + testAccount + `","streamSid":"` + testStream +
		`","callSid":"` + testCall + `","tracks":["inbound","outbound"],"customParameters":{"queueId":"sales"},` +
		`"mediaFormat":{"encoding":"audio/x-mulaw","sampleRate":8000,"channels":1}},"streamSid":"` + testStream + `"}`))
	if err != nil || m.Seq != 1 || m.Start.CallSid != testCall || m.Start.Params["queueId"] != "sales" || len(m.Start.Tracks) != 2 {
		t.Fatalf("start: %+v %v", m, err)
	}
	m, err = Parse([]byte(`{"event":"media","sequenceNumber":"3","media":{"track":"outbound","chunk":"1","timestamp":"5","payload":"/39/fw=="},"streamSid":"` + testStream + `"}`))
	if err != nil || m.Media.Track != TrackOutbound || m.Media.Chunk != 1 || m.Media.TimestampMS != 5 || len(m.Media.Audio) != 4 {
		t.Fatalf("media: %+v %v", m.Media, err)
	}
	m, err = Parse([]byte(`{"event":"dtmf","streamSid":"` + testStream + `","sequenceNumber":"5","dtmf":{"track":"inbound_track","digit":"1"}}`))
	if err != nil || m.DTMF.Track != TrackInbound || m.DTMF.Digit != "1" {
		t.Fatalf("dtmf: %+v %v", m.DTMF, err)
	}
	m, err = Parse([]byte(`{"event":"mark","sequenceNumber":"4","streamSid":"` + testStream + `","mark":{"name":"my label"}}`))
	if err != nil || m.Mark != "my label" {
		t.Fatalf("mark: %+v %v", m, err)
	}
	m, err = Parse([]byte(`{"event":"stop","sequenceNumber":"5","streamSid":"` + testStream + `","stop":{"accountSid":"` + testAccount + `","callSid":"` + testCall + `"}}`))
	if err != nil || m.Stop.CallSid != testCall {
		t.Fatalf("stop: %+v %v", m, err)
	}
}

func TestParseRefuses(t *testing.T) {
	media := func(track, chunk, ts, payload string) string {
		return `{"event":"media","sequenceNumber":"3","streamSid":"` + testStream + `","media":{"track":"` + track +
			`","chunk":"` + chunk + `","timestamp":"` + ts + `","payload":"` + payload + `"}}`
	}
	start := func(format string) string {
		return `{"event":"start","sequenceNumber":"1","streamSid":"` + testStream + `","start":{"accountSid":"` + testAccount +
			`","streamSid":"` + testStream + `","callSid":"` + testCall + `","tracks":["inbound"],"mediaFormat":` + format + `}}`
	}
	cases := []struct {
		name, msg string
		want      error
	}{
		{"not json", `{"event":`, ErrMalformed},
		{"duplicate key", `{"event":"connected","event":"stop","protocol":"Call"}`, ErrMalformed},
		{"unknown event", `{"event":"clear","sequenceNumber":"2","streamSid":"` + testStream + `"}`, ErrUnknownEvent},
		{"no event", `{}`, ErrUnknownEvent},
		{"connected with stream", `{"event":"connected","protocol":"Call","streamSid":"` + testStream + `"}`, ErrMalformed},
		{"seq not decimal", strings.Replace(media("inbound", "1", "0", "AA=="), `"3"`, `"-3"`, 1), ErrMalformed},
		{"seq zero", strings.Replace(media("inbound", "1", "0", "AA=="), `"3"`, `"0"`, 1), ErrMalformed},
		{"bad stream sid", strings.Replace(media("inbound", "1", "0", "AA=="), "MZ", "XX", 1), ErrMalformed},
		{"media missing", `{"event":"media","sequenceNumber":"2","streamSid":"` + testStream + `"}`, ErrMalformed},
		{"two members", `{"event":"mark","sequenceNumber":"2","streamSid":"` + testStream + `","mark":{"name":"a"},"dtmf":{"track":"inbound_track","digit":"1"}}`, ErrMalformed},
		{"bad track", media("both", "1", "0", "AA=="), ErrMalformed},
		{"chunk zero", media("inbound", "0", "0", "AA=="), ErrMalformed},
		{"timestamp number", strings.Replace(media("inbound", "1", "0", "AA=="), `"timestamp":"0"`, `"timestamp":0`, 1), ErrMalformed},
		{"timestamp huge", media("inbound", "1", "99999999999999", "AA=="), ErrMalformed},
		{"payload not base64", media("inbound", "1", "0", "%%%"), ErrMalformed},
		{"payload empty", media("inbound", "1", "0", ""), ErrMalformed},
		{"payload too large", media("inbound", "1", "0", strings.Repeat("AAAA", MaxPayload/3+2)), ErrMalformed},
		{"dtmf digit", `{"event":"dtmf","sequenceNumber":"2","streamSid":"` + testStream + `","dtmf":{"track":"inbound_track","digit":"12"}}`, ErrMalformed},
		{"pcm", start(`{"encoding":"audio/l16","sampleRate":8000,"channels":1}`), ErrFormat},
		{"16k", start(`{"encoding":"audio/x-mulaw","sampleRate":16000,"channels":1}`), ErrFormat},
		{"stereo", start(`{"encoding":"audio/x-mulaw","sampleRate":8000,"channels":2}`), ErrFormat},
		{"no format", start(`{}`), ErrFormat},
		{"tracks twice", strings.Replace(start(`{"encoding":"audio/x-mulaw","sampleRate":8000,"channels":1}`), `["inbound"]`, `["inbound","inbound"]`, 1), ErrMalformed},
		{"start stream differs", strings.Replace(start(`{"encoding":"audio/x-mulaw","sampleRate":8000,"channels":1}`), `"streamSid":"`+testStream+`","callSid"`, `"streamSid":"MZ0123456789abcdef0123456789abcdee","callSid"`, 1), ErrMalformed},
		{"stop bad sid", `{"event":"stop","sequenceNumber":"5","streamSid":"` + testStream + `","stop":{"accountSid":"x","callSid":"` + testCall + `"}}`, ErrMalformed},
	}
	for _, c := range cases {
		if _, err := Parse([]byte(c.msg)); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
}
