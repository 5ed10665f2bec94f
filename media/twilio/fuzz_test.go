package twilio

import (
	"errors"
	"testing"
)

func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"event":"connected","protocol":"Call","version":"1.0.0"}`))
	f.Add([]byte(`{"event":"start","sequenceNumber":"1","start":{"accountSid":"` + testAccount + `","streamSid":"` + testStream +
		`","callSid":"` + testCall + `","tracks":["inbound","outbound"],"customParameters":{"queueId":"q"},` +
		`"mediaFormat":{"encoding":"audio/x-mulaw","sampleRate":8000,"channels":1}},"streamSid":"` + testStream + `"}`))
	f.Add([]byte(`{"event":"media","sequenceNumber":"3","media":{"track":"inbound","chunk":"1","timestamp":"5","payload":"/39/fw=="},"streamSid":"` + testStream + `"}`))
	f.Add([]byte(`{"event":"dtmf","streamSid":"` + testStream + `","sequenceNumber":"5","dtmf":{"track":"inbound_track","digit":"#"}}`))
	f.Add([]byte(`{"event":"stop","sequenceNumber":"5","streamSid":"` + testStream + `","stop":{"accountSid":"` + testAccount + `","callSid":"` + testCall + `"}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Parse(b)
		if err != nil {
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrUnknownEvent) && !errors.Is(err, ErrFormat) {
				t.Fatalf("unclassified error %v", err)
			}
			return
		}
		switch m.Event {
		case EventConnected:
		case EventMedia:
			if m.Media == nil || len(m.Media.Audio) == 0 || len(m.Media.Audio) > MaxPayload || m.Seq < 1 {
				t.Fatalf("accepted media %+v", m.Media)
			}
		case EventStart:
			if m.Start == nil || len(m.Start.Tracks) == 0 {
				t.Fatalf("accepted start %+v", m.Start)
			}
		case EventDTMF, EventMark, EventStop:
			if m.Stream == "" {
				t.Fatal("accepted message without stream")
			}
		default:
			t.Fatalf("accepted event %q", m.Event)
		}
	})
}
