package export_test

import (
	"bytes"
	"fmt"
	"time"

	"github.com/pion/rtp"

	"github.com/mediaseal/mediaseal/media/export"
)

// A recording reader that calls back once per record feeds a Builder and a
// PCAPWriter directly; nothing is collected in between.
func Example() {
	h := export.Header{Start: time.Unix(1700000000, 0), Tracks: []export.Track{
		{Label: "caller", Kind: "audio", Codec: "PCMU", ClockRate: 8000, PayloadType: 0},
		{Label: "agent", Kind: "audio", Codec: "PCMU", ClockRate: 8000, PayloadType: 0},
	}}
	b, err := export.NewBuilder(h, export.Options{})
	if err != nil {
		panic(err)
	}
	var capture bytes.Buffer
	pw, err := export.NewPCAPWriter(&capture, h, export.PCAPOptions{})
	if err != nil {
		panic(err)
	}
	each := func(r export.Record) { // e.g. inside seal.Reader.Records
		b.Add(r)
		if err := pw.Add(r); err != nil {
			panic(err)
		}
	}
	for i := range 50 {
		for track := range uint8(2) {
			pkt, _ := (&rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: uint16(i),
				Timestamp: uint32(160 * i), SSRC: uint32(track) + 1}, Payload: make([]byte, 160)}).Marshal()
			each(export.Record{Type: export.RecordPacket, Track: track, Arrival: int64(i) * 20e6, Data: pkt})
		}
	}
	tl, err := b.Finish()
	if err != nil {
		panic(err)
	}
	st, err := pw.Flush()
	if err != nil {
		panic(err)
	}
	var wav bytes.Buffer
	if err := export.WriteWAVStereo(&wav, tl, "caller", "agent"); err != nil {
		panic(err)
	}
	s := tl.Tracks[0].Summary
	fmt.Println(s.Label, s.Media, s.Lost, s.Duration)
	fmt.Println("pcap packets:", st.Packets, "wav bytes:", wav.Len())
	// Output:
	// caller 50 0 1s
	// pcap packets: 100 wav bytes: 32044
}
