package codec

import (
	"encoding/binary"
	"errors"
	"os"
	"testing"
)

// Known answers from ITU-T G.711 (and the widely used Sun reference tables):
// the extremes, the zero codes and a few steps of every segment boundary.
func TestKnownAnswers(t *testing.T) {
	tests := []struct {
		name string
		dec  func(byte) int16
		in   byte
		want int16
	}{
		{"ulaw max negative", ULawToLinear, 0x00, -32124},
		{"ulaw max positive", ULawToLinear, 0x80, 32124},
		{"ulaw zero", ULawToLinear, 0xFF, 0},
		{"ulaw negative zero", ULawToLinear, 0x7F, 0},
		{"ulaw smallest positive", ULawToLinear, 0xFE, 8},
		{"ulaw smallest negative", ULawToLinear, 0x7E, -8},
		{"ulaw segment 1 start", ULawToLinear, 0xEF, 132},
		{"ulaw segment 7 start", ULawToLinear, 0x8F, 16764},
		{"alaw smallest positive", ALawToLinear, 0xD5, 8},
		{"alaw smallest negative", ALawToLinear, 0x55, -8},
		{"alaw max positive", ALawToLinear, 0xAA, 32256},
		{"alaw max negative", ALawToLinear, 0x2A, -32256},
		{"alaw segment 1 start", ALawToLinear, 0xC5, 264},
		{"alaw segment 2 start", ALawToLinear, 0xF5, 528},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.dec(tt.in); got != tt.want {
				t.Fatalf("decode(%#02x) = %d, want %d", tt.in, got, tt.want)
			}
		})
	}
}

// testdata/{mulaw,alaw}.s16le are every code byte 0..255 decoded by ffmpeg's
// pcm_mulaw/pcm_alaw decoders (an independent implementation), little endian.
func TestFullTablesMatchReference(t *testing.T) {
	tests := []struct {
		file string
		dec  func(dst []int16, payload []byte) []int16
	}{
		{"testdata/mulaw.s16le", DecodeULaw},
		{"testdata/alaw.s16le", DecodeALaw},
	}
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			raw, err := os.ReadFile(tt.file)
			if err != nil {
				t.Fatal(err)
			}
			if len(raw) != 512 {
				t.Fatalf("%s: %d bytes, want 512", tt.file, len(raw))
			}
			got := tt.dec([]int16{7}, all) // appends after existing content
			if len(got) != 257 || got[0] != 7 {
				t.Fatalf("decode did not append: len %d first %d", len(got), got[0])
			}
			for i := range 256 {
				want := int16(binary.LittleEndian.Uint16(raw[2*i:]))
				if got[i+1] != want {
					t.Errorf("code %#02x: got %d, want %d", i, got[i+1], want)
				}
			}
		})
	}
}

// Every code except μ-law's negative zero must survive decode→encode, and
// the decoded values must be strictly monotonic within each sign half.
func TestRoundTripAndMonotonic(t *testing.T) {
	for i := range 256 {
		b := byte(i)
		if b != 0x7F {
			if got := LinearToULaw(ULawToLinear(b)); got != b {
				t.Errorf("ulaw %#02x -> %d -> %#02x", b, ULawToLinear(b), got)
			}
		}
		if got := LinearToALaw(ALawToLinear(b)); got != b {
			t.Errorf("alaw %#02x -> %d -> %#02x", b, ALawToLinear(b), got)
		}
	}
	// μ-law: 0x80..0xFF positive, decreasing magnitude as the code rises.
	for c := 0x80; c < 0xFF; c++ {
		if ULawToLinear(byte(c)) <= ULawToLinear(byte(c+1)) {
			t.Fatalf("ulaw not monotonic at %#02x", c)
		}
	}
	// Encoding is monotonic in the input and saturates at the extremes.
	prev := LinearToULaw(-32768)
	if prev != 0x00 || LinearToULaw(32767) != 0x80 {
		t.Fatalf("ulaw extremes: %#02x %#02x", prev, LinearToULaw(32767))
	}
	if LinearToALaw(-32768) != 0x2A || LinearToALaw(32767) != 0xAA {
		t.Fatalf("alaw extremes: %#02x %#02x", LinearToALaw(-32768), LinearToALaw(32767))
	}
}

// Quantisation error of encode→decode stays within half a step of the
// segment the sample falls in (G.711 step is 2^(seg+1) in 14-bit units).
func TestEncodeError(t *testing.T) {
	for s := -32768; s <= 32767; s += 7 {
		for _, c := range []struct {
			name string
			enc  func(int16) byte
			dec  func(byte) int16
			tol  int
		}{
			{"ulaw", LinearToULaw, ULawToLinear, 1024},
			{"alaw", LinearToALaw, ALawToLinear, 1024},
		} {
			got := int(c.dec(c.enc(int16(s))))
			d := got - s
			if d < 0 {
				d = -d
			}
			limit := max(abs(s)/16, 16) // ≈ half a step, relative for G.711
			if d > limit && d > c.tol {
				t.Fatalf("%s: %d -> %d (error %d > %d)", c.name, s, got, d, limit)
			}
		}
	}
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

func TestLookup(t *testing.T) {
	tests := []struct {
		name    string
		wantErr error
		first   int16 // decoding of byte 0x00
	}{
		{"PCMU", nil, -32124},
		{"pcmu", nil, -32124},
		{"PCMA", nil, -5504},
		{"opus", ErrUnsupported, 0},
		{"", ErrUnsupported, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Lookup(tt.name)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if got := f(nil, []byte{0}); len(got) != 1 || got[0] != tt.first {
				t.Fatalf("decode 0x00 = %v, want [%d]", got, tt.first)
			}
		})
	}
}

func BenchmarkDecodeULaw(b *testing.B) {
	payload := make([]byte, 160)
	for i := range payload {
		payload[i] = byte(i)
	}
	dst := make([]int16, 0, 160)
	b.ReportAllocs()
	b.SetBytes(int64(len(payload)))
	for b.Loop() {
		dst = DecodeULaw(dst[:0], payload)
	}
}
