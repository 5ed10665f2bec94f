package s3store

import (
	"bytes"
	"crypto/sha256"
	"slices"
	"testing"
	"testing/iotest"
)

// TestPartReaderLayout checks where parts are cut: on the first boundary at
// or past the part size (never splitting a chunk), at the part size when
// no boundary is near, and never below the part size except the last.
func TestPartReaderLayout(t *testing.T) {
	const ps = 100
	tests := []struct {
		name   string
		size   int64
		bounds []int64
		want   []int64 // part lengths
	}{
		{"fixed, exact multiple", 300, nil, []int64{100, 100, 100}},
		{"fixed, short last", 250, nil, []int64{100, 100, 50}},
		{"smaller than a part", 99, nil, []int64{99}},
		{"empty", 0, nil, []int64{0}},
		{"boundaries every 30", 250, []int64{30, 60, 90, 120, 150, 180, 210, 240, 250}, []int64{120, 120, 10}},
		{"boundary exactly at part size", 250, []int64{100, 200, 250}, []int64{100, 100, 50}},
		{"one boundary then none", 330, []int64{130}, []int64{130, 100, 100}},
		{"boundary too far: fixed fallback", 500, []int64{450}, []int64{100, 100, 100, 150, 50}},
		{"boundaries past the end are ignored", 150, []int64{120, 900}, []int64{120, 30}},
		{"chunk ends where a part ends", 240, []int64{40, 80, 120, 160, 200, 240}, []int64{120, 120}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := bytes.Repeat([]byte{7}, int(tt.size))
			for _, oneByte := range []bool{false, true} {
				src := bytes.NewReader(data)
				pr := &partReader{r: src, partSize: ps, bounds: slices.Clone(tt.bounds), whole: sha256.New()}
				if oneByte {
					pr.r = iotest.OneByteReader(src) // a stream that trickles
				}
				var got []int64
				var buf []byte
				for {
					b, err := pr.next(buf)
					if err != nil {
						t.Fatal(err)
					}
					if len(b) == 0 && len(got) > 0 {
						break
					}
					got = append(got, int64(len(b)))
					if pr.eof {
						break
					}
					buf = b
				}
				if !slices.Equal(got, tt.want) {
					t.Fatalf("oneByte=%v: parts %v, want %v", oneByte, got, tt.want)
				}
				if want := sha256.Sum256(data); !bytes.Equal(pr.whole.Sum(nil), want[:]) || pr.off != tt.size {
					t.Fatalf("whole-stream hash or length wrong (off %d)", pr.off)
				}
			}
		})
	}
}

func TestConfigValidate(t *testing.T) {
	ok := Config{Bucket: "b", Region: "eu-west-2"}
	tests := []struct {
		name   string
		mutate func(*Config)
		field  string // "" means valid
	}{
		{"minimal", func(*Config) {}, ""},
		{"compatible server", func(c *Config) {
			c.Endpoint, c.PathStyle, c.AccessKeyID, c.SecretAccessKey = "http://127.0.0.1:7070", true, "a", "s"
		}, ""},
		{"no bucket", func(c *Config) { c.Bucket = "" }, "bucket"},
		{"no region", func(c *Config) { c.Region = "" }, "region"},
		{"part too small", func(c *Config) { c.PartSize = MinPartSize - 1 }, "partSize"},
		{"part too large", func(c *Config) { c.PartSize = MaxPartSize + 1 }, "partSize"},
		{"negative attempts", func(c *Config) { c.MaxAttempts = -1 }, "maxAttempts"},
		{"bad lock mode", func(c *Config) { c.LockMode = "governance" }, "lockMode"},
		{"half credentials", func(c *Config) { c.AccessKeyID = "a" }, "accessKeyID"},
		{"endpoint without scheme", func(c *Config) { c.Endpoint = "127.0.0.1:7070" }, "endpoint"},
		{"endpoint ftp", func(c *Config) { c.Endpoint = "ftp://x" }, "endpoint"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ok
			tt.mutate(&c)
			err := c.Validate()
			switch {
			case tt.field == "" && err != nil:
				t.Fatalf("Validate: %v", err)
			case tt.field != "" && (err == nil || !bytes.Contains([]byte(err.Error()), []byte(tt.field))):
				t.Fatalf("Validate = %v, want an error naming %s", err, tt.field)
			}
		})
	}
}
