package seal

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

// The vectors in testdata/ were produced once with
//
//	go test ./storage/seal/ -run TestVectors -update
//
// from fixed inputs (DEK, recording id, records; the format uses no other
// randomness). TestVectors rebuilds every object and checks it byte for byte
// against its file, then reads every file and checks the outcome recorded in
// testdata/vectors.json, which is meant for other implementations too.

var update = flag.Bool("update", false, "rewrite testdata/ vectors")

type vectorRecord struct {
	Type    RecordType `json:"type"`
	Track   uint8      `json:"track"`
	Arrival int64      `json:"arrival"`
	Data    string     `json:"data"` // hex
}

type vector struct {
	File    string         `json:"file"`
	DEK     string         `json:"dek"` // hex
	Salvage bool           `json:"salvage,omitempty"`
	Status  string         `json:"status,omitempty"`
	Error   string         `json:"error,omitempty"`
	Records []vectorRecord `json:"records,omitempty"`
	Note    string         `json:"note"`
}

var vectorErrors = map[string]error{
	"ErrBadMagic": ErrBadMagic, "ErrUnsupportedVersion": ErrUnsupportedVersion,
	"ErrHeaderMalformed": ErrHeaderMalformed, "ErrWrongKey": ErrWrongKey,
	"ErrHeaderTampered": ErrHeaderTampered, "ErrChunkAuth": ErrChunkAuth,
	"ErrChunkOrder": ErrChunkOrder, "ErrChunkForeign": ErrChunkForeign,
	"ErrTruncated": ErrTruncated, "ErrTrailingData": ErrTrailingData,
}

func vectorRecords() []Record {
	return []Record{
		{Type: RecordPacket, Track: 0, Arrival: 0, Data: bytes.Repeat([]byte{0xff}, 40)},
		{Type: RecordPacket, Track: 1, Arrival: 1_000_000, Data: bytes.Repeat([]byte{0x7f}, 40)},
		{Type: RecordPacket, Track: 0, Arrival: 20_000_000, Data: bytes.Repeat([]byte{0xfe}, 40)},
		{Type: RecordEvent, Track: 0, Arrival: 25_000_000, Data: []byte(`{"dtmf":"1"}`)},
		{Type: RecordPacket, Track: 1, Arrival: 21_000_000, Data: bytes.Repeat([]byte{0x7e}, 40)},
		{Type: RecordPause, Arrival: 30_000_000},
		{Type: RecordResume, Arrival: 90_000_000},
		{Type: RecordPacket, Track: 0, Arrival: 100_000_000, Data: bytes.Repeat([]byte{0xfd}, 40)},
		{Type: RecordPacket, Track: 1, Arrival: 101_000_000, Data: bytes.Repeat([]byte{0x7d}, 40)},
		{Type: RecordPacket, Track: 0, Arrival: 120_000_000, Data: bytes.Repeat([]byte{0xfc}, 40)},
	}
}

// buildVectors returns every vector file's bytes and its manifest entry.
func buildVectors(t testing.TB) (map[string][]byte, []vector) {
	files := map[string][]byte{}
	var man []vector
	dek := hex.EncodeToString(testDEK)
	recs := vectorRecords()
	var vrecs []vectorRecord
	for _, r := range recs {
		vrecs = append(vrecs, vectorRecord{r.Type, r.Track, r.Arrival, hex.EncodeToString(r.Data)})
	}
	add := func(v vector, b []byte) {
		if v.DEK == "" {
			v.DEK = dek
		}
		files[v.File] = b
		man = append(man, v)
	}
	opts := writeOpts{maxChunk: 128, flushEvery: 4}
	call := writeObject(t, testHeader(), recs, opts)
	add(vector{File: "call.seal", Status: "COMPLETE", Records: vrecs, Note: "10 records, max chunk 128, flush every 4 records"}, call)
	zopts := opts
	zopts.compression = true
	add(vector{File: "call-zstd.seal", Status: "COMPLETE", Records: vrecs, Note: "as call.seal with zstd; incompressible chunks stay uncompressed"},
		writeObject(t, testHeader(), recs, zopts))
	add(vector{File: "empty.seal", Status: "COMPLETE", Note: "no records: header and one empty final chunk"},
		writeObject(t, testHeader(), nil, opts))

	crashOpts := opts
	crashOpts.noClose = true
	crash := writeObject(t, testHeader(), recs, crashOpts)
	add(vector{File: "crashed.seal", Error: "ErrTruncated", Note: "writer flushed and died: no final chunk"}, crash)
	add(vector{File: "crashed.seal", Salvage: true, Status: "TRUNCATED", Records: vrecs, Note: "salvage read of crashed.seal"}, crash)
	rec := bytes.Clone(crash)
	{
		r, err := NewReader(bytes.NewReader(rec), int64(len(rec)), testDEK, WithSalvage())
		if err != nil {
			t.Fatal(err)
		}
		_, pos, _ := r.scan(nil)
		p := prefix{index: uint32(len(r.locs)), typ: chunkRecovered, arrivalMax: pos.arrivalMax}
		rec = append(rec, r.cio.seal(make([]byte, prefixLen, prefixLen+tagLen), &p)...)
	}
	add(vector{File: "recovered.seal", Status: "RECOVERED", Records: vrecs, Note: "crashed.seal closed by Recover"}, rec)

	// Tampered variants of call.seal.
	r, err := NewReader(bytes.NewReader(call), int64(len(call)), testDEK)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.NumChunks(); err != nil {
		t.Fatal(err)
	}
	hl, authLen, locs := r.HeaderLen(), r.raw.authLen, r.locs
	chunk := func(i int) []byte { return call[locs[i].off:locs[i].end()] }
	join := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	flip := func(off int64, mask byte) []byte {
		b := bytes.Clone(call)
		b[off] ^= mask
		return b
	}
	hdr := call[:hl]
	other := testHeader()
	other.RecordingID[0] ^= 1
	otherObj := writeObject(t, other, recs, opts)
	tampered := []struct {
		name, err, note string
		b               []byte
	}{
		{"magic", "ErrBadMagic", "first byte changed", flip(0, 0x01)},
		{"version", "ErrUnsupportedVersion", "version 1 -> 3", flip(offVersion, 0x02)},
		{"header-context", "ErrHeaderTampered", "one bit of the org id", flip(fixedLen+3, 0x01)},
		{"header-recording-id", "ErrWrongKey", "recording id salts the key schedule", flip(offRecID, 0x80)},
		{"header-commitment", "ErrWrongKey", "", flip(int64(authLen-1), 0x01)},
		{"header-mac", "ErrHeaderTampered", "", flip(int64(authLen), 0x01)},
		{"prefix-index", "ErrChunkAuth", "chunk 1 index field", flip(locs[1].off+11, 0x04)},
		{"prefix-arrival", "ErrChunkAuth", "chunk 1 arrival max", flip(locs[1].off+31, 0x01)},
		{"prefix-type-final", "ErrChunkAuth", "chunk 1 type regular -> recovered-final", flip(locs[1].off+12, 0x02)},
		{"ciphertext", "ErrChunkAuth", "chunk 1 first payload byte", flip(locs[1].off+prefixLen, 0x01)},
		{"tag", "ErrChunkAuth", "chunk 1 last tag byte", flip(locs[1].end()-1, 0x80)},
		{"swap", "ErrChunkOrder", "chunks 1 and 2 swapped", join(hdr, chunk(0), chunk(2), chunk(1), call[locs[3].off:])},
		{"drop", "ErrChunkOrder", "chunk 1 removed", join(hdr, chunk(0), call[locs[2].off:])},
		{"duplicate", "ErrChunkOrder", "chunk 1 twice", join(call[:locs[2].off], chunk(1), call[locs[2].off:])},
		{"drop-final", "ErrTruncated", "final chunk removed", call[:locs[len(locs)-1].off]},
		{"splice", "ErrChunkForeign", "chunk 1 from a recording with another id, same DEK", join(hdr, chunk(0), otherObj[locs[1].off:locs[1].end()], call[locs[2].off:])},
		{"truncated-mid-chunk", "ErrTruncated", "", call[:locs[2].off+20]},
		{"trailing", "ErrTrailingData", "one zero byte appended", join(call, []byte{0})},
	}
	for _, tc := range tampered {
		add(vector{File: "tampered/" + tc.name + ".seal", Error: tc.err, Note: tc.note}, tc.b)
	}
	add(vector{File: "call.seal", DEK: hex.EncodeToString(bytes.Repeat([]byte{0x24}, 32)), Error: "ErrWrongKey", Note: "call.seal with another DEK"}, call)
	addV2Vectors(t, add, recs, vrecs, opts)
	return files, man
}

// addV2Vectors adds the format version 2 vectors: a header that records the
// KMS context its DEK was wrapped under, and its tampered variants.
func addV2Vectors(t testing.TB, add func(vector, []byte), recs []Record, vrecs []vectorRecord, opts writeOpts) {
	v2 := writeObject(t, testHeaderV2(), recs, opts)
	add(vector{File: "call-v2.seal", Status: "COMPLETE", Records: vrecs,
		Note: "as call.seal, format version 2: the header records the kms context {dek, key, org} after the context"}, v2)
	r, err := NewReader(bytes.NewReader(v2), int64(len(v2)), testDEK)
	if err != nil {
		t.Fatal(err)
	}
	ctxEnd := int64(r.raw.authLen - commitmentLen) // the last byte of the kms context's last value
	flip := func(off int64, mask byte) []byte {
		b := bytes.Clone(v2)
		b[off] ^= mask
		return b
	}
	add(vector{File: "tampered/v2-kms-context.seal", Error: "ErrHeaderTampered", Note: "call-v2.seal, one bit of the kms context's org"},
		flip(ctxEnd-1, 0x01))
	add(vector{File: "tampered/v2-as-v1.seal", Error: "ErrHeaderMalformed", Note: "call-v2.seal with version 2 -> 1: the kms context is trailing bytes"},
		flip(offVersion, 0x03))
}

func TestVectors(t *testing.T) {
	files, man := buildVectors(t)
	if *update {
		for name, b := range files {
			p := filepath.Join("testdata", name)
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		j, err := json.MarshalIndent(man, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile("testdata/vectors.json", append(j, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// The stored manifest is the reference; it must still be what the
	// code generates.
	j, err := os.ReadFile("testdata/vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var stored []vector
	if err := json.Unmarshal(j, &stored); err != nil {
		t.Fatal(err)
	}
	gen, _ := json.Marshal(man)
	st, _ := json.Marshal(stored)
	if !bytes.Equal(gen, st) {
		t.Fatal("testdata/vectors.json differs from the generated manifest")
	}
	for name, b := range files {
		got, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, b) {
			t.Errorf("%s: writer output differs from the stored vector (a format change, or for -zstd files a compressor change)", name)
		}
	}
	for _, v := range stored {
		t.Run(v.File, func(t *testing.T) {
			obj, err := os.ReadFile(filepath.Join("testdata", v.File))
			if err != nil {
				t.Fatal(err)
			}
			dek, _ := hex.DecodeString(v.DEK)
			var opts []ReaderOption
			if v.Salvage {
				opts = append(opts, WithSalvage())
			}
			got, st, err := readAll(obj, dek, opts...)
			if v.Error != "" {
				if !errors.Is(err, vectorErrors[v.Error]) {
					t.Fatalf("got %v, want %s", err, v.Error)
				}
				return
			}
			if err != nil || st.String() != v.Status {
				t.Fatalf("status %v, err %v; want %s", st, err, v.Status)
			}
			var want []Record
			for _, vr := range v.Records {
				d, _ := hex.DecodeString(vr.Data)
				want = append(want, Record{Type: vr.Type, Track: vr.Track, Arrival: vr.Arrival, Data: d})
			}
			sameRecords(t, got, want)
		})
	}
}
