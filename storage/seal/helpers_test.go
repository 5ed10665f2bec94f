package seal

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"testing"
)

// testDEK and testRID are fixed so that objects are reproducible.
var (
	testDEK = bytes.Repeat([]byte{0x42}, 32)
	testRID = [32]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32}
)

func testHeader() Header {
	return Header{
		RecordingID: testRID,
		Context: Context{
			OrgID: "org-1", CallID: "call-42", QueueID: "support", PolicyID: "pol-7",
			PolicyVersion: 3, Direction: "inbound", StartedAt: 1_700_000_000_000_000_000,
			Tracks: []Track{
				{Label: "caller", Kind: "audio", Codec: "PCMU", ClockRate: 8000, PayloadType: 0},
				{Label: "agent", Kind: "audio", Codec: "opus", ClockRate: 48000, PayloadType: 111},
			},
		},
		Envelope: Envelope{
			Key:        KeyRef{Provider: "local", KeyID: "platform-1", KeyVersion: "v3"},
			WrappedDEK: bytes.Repeat([]byte{0xd0}, 60),
		},
	}
}

// testKMSContext is the context of a pooled DEK, as recordingkey builds it.
func testKMSContext() map[string]string {
	return map[string]string{"org": "org-1", "key": "local:platform-1", "dek": "5f0c6a1e9b2d4c7f8a3e1d0b2c4f6a8e"}
}

// testHeaderV2 is testHeader recording testKMSContext (format version 2).
func testHeaderV2() Header {
	h := testHeader()
	h.KMSContext = testKMSContext()
	return h
}

func manyPairs(n int) map[string]string {
	m := map[string]string{}
	for i := range n {
		m[fmt.Sprintf("k%02d", i)] = "v"
	}
	return m
}

// testRecords returns n deterministic records of varying size and type;
// packet payloads are mildly compressible, like real RTP.
func testRecords(n, dataLen int) []Record {
	recs := make([]Record, n)
	for i := range recs {
		r := Record{Type: RecordPacket, Track: uint8(i % 2), Arrival: int64(i) * 20_000_000}
		switch {
		case i%50 == 7:
			r = Record{Type: RecordPause, Arrival: r.Arrival}
		case i%50 == 9:
			r = Record{Type: RecordResume, Arrival: r.Arrival}
		case i%50 == 11:
			r = Record{Type: RecordEvent, Track: 1, Arrival: r.Arrival, Data: []byte(`{"dtmf":"5"}`)}
		default:
			r.Data = make([]byte, dataLen)
			for j := range r.Data {
				r.Data[j] = byte(j / 16)
			}
			if dataLen >= 4 {
				binary.BigEndian.PutUint32(r.Data, uint32(i))
			}
		}
		recs[i] = r
	}
	return recs
}

type writeOpts struct {
	maxChunk    int
	compression bool
	flushEvery  int // flush after every n records (0: never)
	noClose     bool
}

func writeObject(t testing.TB, h Header, recs []Record, o writeOpts) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := NewWriter(&buf, testDEK, h, WithMaxChunkSize(o.maxChunk), WithCompression(o.compression))
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range recs {
		if err := w.WriteRecord(r); err != nil {
			t.Fatal(err)
		}
		if o.flushEvery > 0 && (i+1)%o.flushEvery == 0 {
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
		}
	}
	if !o.noClose {
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	} else if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if got := w.Stats().SealedBytes; got != int64(buf.Len()) {
		t.Fatalf("Stats().SealedBytes = %d, wrote %d", got, buf.Len())
	}
	return buf.Bytes()
}

// readAll reads every record, copying Data.
func readAll(obj []byte, dek []byte, opts ...ReaderOption) ([]Record, Status, error) {
	r, err := NewReader(bytes.NewReader(obj), int64(len(obj)), dek, opts...)
	if err != nil {
		return nil, StatusUnknown, err
	}
	var got []Record
	st, err := r.Records(func(rec Record) error {
		rec.Data = bytes.Clone(rec.Data)
		got = append(got, rec)
		return nil
	})
	return got, st, err
}

func sameRecords(t testing.TB, got, want []Record) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d records, want %d", len(got), len(want))
	}
	for i := range got {
		g, w := got[i], want[i]
		if g.Type != w.Type || g.Track != w.Track || g.Arrival != w.Arrival || !bytes.Equal(g.Data, w.Data) {
			t.Fatalf("record %d: got %+v, want %+v", i, g, w)
		}
	}
}
