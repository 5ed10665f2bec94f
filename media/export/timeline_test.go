package export

import (
	"errors"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/pion/rtp"
)

// arrive reorders recs into the given arrival order; a record that now
// arrives after a later-sent one gets an arrival just after it, as a
// delayed packet would.
func arrive(recs []Record, order []int) []Record {
	out := make([]Record, 0, len(order))
	var prev int64 = -1
	for _, i := range order {
		r := recs[i]
		if r.Arrival <= prev {
			r.Arrival = prev + int64(time.Millisecond)
		}
		prev = r.Arrival
		out = append(out, r)
	}
	return out
}

// countLate counts packets that arrive after one sent later (by payload
// index, which the test streams number in sending order).
func countLate(t *testing.T, recs []Record) int {
	t.Helper()
	late, highest := 0, -1
	var first uint16
	for k, r := range recs {
		var p rtp.Packet
		if err := p.Unmarshal(r.Data); err != nil {
			t.Fatal(err)
		}
		if k == 0 {
			first = p.SequenceNumber
		}
		i := int(p.SequenceNumber - first)
		if i < highest {
			late++
		}
		highest = max(highest, i)
	}
	return late
}

func zeros(n int) []int16 { return make([]int16, n) }

func cat(parts ...[]int16) []int16 { return slices.Concat(parts...) }

func TestTimeline(t *testing.T) {
	const n = 50
	start := int64(100 * time.Millisecond)
	s := stream{ssrc: 0x1234, seq: 1000, ts: 5000, start: start}
	full := expectPCM(0, 0, n)
	second := time.Second

	tests := []struct {
		name string
		recs func(t *testing.T) []Record
		want []int16
		sum  Summary
	}{
		{
			name: "in order",
			recs: func(t *testing.T) []Record { return s.packets(t, 0, n) },
			want: full,
			sum:  Summary{Packets: 50, Media: 50, SSRCs: 1, Offset: 100 * time.Millisecond, Duration: second},
		},
		{
			name: "reordered and duplicated",
			recs: func(t *testing.T) []Record {
				recs := s.packets(t, 0, n)
				recs = append(recs, s.packet(t, 3), s.packet(t, 30)) // 50, 51: duplicates
				var order []int
				for i := 0; i < n; i++ {
					switch {
					case i == 12: // arrives after 20
					case i%5 == 0 && i+1 < n: // pairs swapped
						order = append(order, i+1, i)
						i++
					default:
						order = append(order, i)
					}
					if i == 22 {
						order = append(order, 12)
					}
					if i == 6 {
						order = append(order, 50) // duplicate of 3
					}
				}
				order = append(order, 51) // duplicate of 30 at the very end
				return arrive(recs, order)
			},
			want: full,
			sum: Summary{Packets: 52, Media: 50, Duplicates: 2, Reordered: 11, SSRCs: 1,
				Offset: 100 * time.Millisecond, Duration: second},
		},
		{
			name: "lost span of 5 packets",
			recs: func(t *testing.T) []Record {
				return append(s.packets(t, 0, 20), s.packets(t, 25, n)...)
			},
			want: cat(expectPCM(0, 0, 20), zeros(5*samples), expectPCM(0, 25, n)),
			sum:  Summary{Packets: 45, Media: 45, Lost: 5, SSRCs: 1, Offset: 100 * time.Millisecond, Duration: second},
		},
		{
			name: "pause and resume, sender timestamps continue",
			recs: func(t *testing.T) []Record {
				recs := s.packets(t, 0, 15)
				recs = append(recs, Record{Type: RecordPause, Track: AllTracks, Arrival: start + 15*ptime})
				recs = append(recs, Record{Type: RecordResume, Track: AllTracks, Arrival: start + 30*ptime - 1e6})
				return append(recs, s.packets(t, 30, n)...)
			},
			want: cat(expectPCM(0, 0, 15), zeros(15*samples), expectPCM(0, 30, n)),
			sum: Summary{Packets: 35, Media: 35, SSRCs: 1, Pauses: 1, Paused: 300*time.Millisecond - time.Millisecond,
				Offset: 100 * time.Millisecond, Duration: second},
		},
		{
			name: "pause and resume, sender timestamps frozen",
			recs: func(t *testing.T) []Record {
				recs := s.packets(t, 0, 15)
				recs = append(recs, Record{Type: RecordPause, Track: 0, Arrival: start + 15*ptime})
				recs = append(recs, Record{Type: RecordResume, Track: 0, Arrival: start + 30*ptime})
				// After the pause the sender carries on from seq/ts of packet 15.
				frozen := s
				frozen.seq -= 15
				frozen.ts -= 15 * samples
				return append(recs, frozen.packets(t, 30, n)...)
			},
			want: cat(expectPCM(0, 0, 15), zeros(15*samples), expectPCM(0, 30, n)),
			sum: Summary{Packets: 35, Media: 35, SSRCs: 1, Pauses: 1, Paused: 300 * time.Millisecond,
				Offset: 100 * time.Millisecond, Duration: second},
		},
		{
			name: "packets recorded while paused are dropped",
			recs: func(t *testing.T) []Record {
				recs := s.packets(t, 0, 15)
				recs = append(recs, Record{Type: RecordPause, Track: AllTracks, Arrival: start + 15*ptime - 1})
				recs = append(recs, s.packets(t, 15, 17)...)
				recs = append(recs, Record{Type: RecordResume, Track: AllTracks, Arrival: start + 30*ptime - 1})
				return append(recs, s.packets(t, 30, n)...)
			},
			want: cat(expectPCM(0, 0, 15), zeros(15*samples), expectPCM(0, 30, n)),
			sum: Summary{Packets: 37, Media: 35, DroppedPaused: 2, SSRCs: 1, Pauses: 1, Paused: 300 * time.Millisecond,
				Offset: 100 * time.Millisecond, Duration: second},
		},
		{
			name: "pause of another track changes nothing",
			recs: func(t *testing.T) []Record {
				recs := s.packets(t, 0, 15)
				recs = append(recs, Record{Type: RecordPause, Track: 1, Arrival: start + 15*ptime})
				recs = append(recs, s.packets(t, 15, 30)...)
				recs = append(recs, Record{Type: RecordResume, Track: 1, Arrival: start + 30*ptime})
				return append(recs, s.packets(t, 30, n)...)
			},
			want: full,
			sum:  Summary{Packets: 50, Media: 50, SSRCs: 1, Offset: 100 * time.Millisecond, Duration: second},
		},
		{
			name: "pause open at the end lasts until the recording ends",
			recs: func(t *testing.T) []Record {
				recs := s.packets(t, 0, 25)
				recs = append(recs, Record{Type: RecordPause, Track: AllTracks, Arrival: start + 25*ptime})
				return append(recs, Record{Type: RecordEvent, Track: AllTracks, Arrival: start + n*ptime},
					Record{Type: RecordPause, Track: 7, Arrival: start + n*ptime}) // unknown track: ignored
			},
			want: cat(expectPCM(0, 0, 25), zeros(25*samples)),
			sum: Summary{Packets: 25, Media: 25, SSRCs: 1, Pauses: 1, Paused: 500 * time.Millisecond,
				Offset: 100 * time.Millisecond, Duration: second},
		},
		{
			name: "resume with no media after it still counts",
			recs: func(t *testing.T) []Record {
				recs := s.packets(t, 0, 25)
				recs = append(recs, Record{Type: RecordPause, Track: AllTracks, Arrival: start + 25*ptime})
				return append(recs, Record{Type: RecordResume, Track: AllTracks, Arrival: start + n*ptime})
			},
			want: cat(expectPCM(0, 0, 25), zeros(25*samples)),
			sum: Summary{Packets: 25, Media: 25, SSRCs: 1, Pauses: 1, Paused: 500 * time.Millisecond,
				Offset: 100 * time.Millisecond, Duration: second},
		},
		{
			name: "pause before the first packet",
			recs: func(t *testing.T) []Record {
				recs := []Record{
					{Type: RecordPause, Track: AllTracks, Arrival: 0},
					{Type: RecordResume, Track: AllTracks, Arrival: start},
				}
				return append(recs, s.packets(t, 0, n)...)
			},
			want: full,
			sum: Summary{Packets: 50, Media: 50, SSRCs: 1, Pauses: 1, Paused: 100 * time.Millisecond,
				Offset: 100 * time.Millisecond, Duration: second},
		},
		{
			name: "new SSRC mid-call placed by arrival",
			recs: func(t *testing.T) []Record {
				b := stream{ssrc: 0xBEEF, seq: 40000, ts: 123456789, start: start + 25*ptime + int64(200*time.Millisecond), offset: 25}
				return append(s.packets(t, 0, 25), b.packets(t, 0, 25)...)
			},
			want: cat(expectPCM(0, 0, 25), zeros(1600), expectPCM(0, 25, n)),
			sum:  Summary{Packets: 50, Media: 50, SSRCs: 2, Offset: 100 * time.Millisecond, Duration: 1200 * time.Millisecond},
		},
		{
			name: "same SSRC restarts its numbering (media re-anchored)",
			recs: func(t *testing.T) []Record {
				b := stream{ssrc: s.ssrc, seq: s.seq + 20000, ts: 987654321, start: start + 25*ptime + int64(100*time.Millisecond), offset: 25}
				recs := append(s.packets(t, 0, 24), b.packet(t, 0))
				late := s.packet(t, 24) // the old numbering's last packet, late
				late.Arrival = b.start + 1
				recs = append(recs, late)
				return append(recs, b.packets(t, 1, 25)...)
			},
			want: cat(expectPCM(0, 0, 25), zeros(800), expectPCM(0, 25, n)),
			sum: Summary{Packets: 50, Media: 50, Reordered: 0, SSRCs: 1, Restarts: 1,
				Offset: 100 * time.Millisecond, Duration: 1100 * time.Millisecond},
		},
		{
			name: "old SSRC straggler after the switch",
			recs: func(t *testing.T) []Record {
				b := stream{ssrc: 0xBEEF, seq: 7, ts: 99, start: start + 25*ptime, offset: 25}
				recs := s.packets(t, 0, 24)
				late := s.packet(t, 24)
				late.Arrival = b.start + int64(5*time.Millisecond)
				recs = append(recs, b.packet(t, 0), late)
				return append(recs, b.packets(t, 1, 25)...)
			},
			want: full,
			sum:  Summary{Packets: 50, Media: 50, SSRCs: 2, Offset: 100 * time.Millisecond, Duration: second},
		},
		{
			name: "sequence number wraps at 65535, reordered across the wrap",
			recs: func(t *testing.T) []Record {
				w := s
				w.seq = 65530
				recs := w.packets(t, 0, n)
				order := []int{0, 1, 2, 3, 4, 6, 5} // seq 0 arrives before 65535
				for i := 7; i < n; i++ {
					order = append(order, i)
				}
				return arrive(recs, order)
			},
			want: full,
			sum:  Summary{Packets: 50, Media: 50, Reordered: 1, SSRCs: 1, Offset: 100 * time.Millisecond, Duration: second},
		},
		{
			name: "timestamp wraps at 2^32 with a loss across it",
			recs: func(t *testing.T) []Record {
				w := s
				w.ts = 1<<32 - 3*samples - 17
				return append(w.packets(t, 0, 2), w.packets(t, 6, n)...)
			},
			want: cat(expectPCM(0, 0, 2), zeros(4*samples), expectPCM(0, 6, n)),
			sum:  Summary{Packets: 46, Media: 46, Lost: 4, SSRCs: 1, Offset: 100 * time.Millisecond, Duration: second},
		},
		{
			name: "malformed records are counted and skipped",
			recs: func(t *testing.T) []Record {
				badPad := rtpBytes(t, 1, 1, 1, 0, []byte{1, 2, 3})
				badPad[0] |= 0x20 // padding bit, last byte 3 claims more than there is
				badPad[len(badPad)-1] = 200
				v0 := rtpBytes(t, 1, 1, 1, 0, payloadFor(0))
				v0[0] &^= 0xC0
				bad := []Record{
					{Type: RecordPacket, Arrival: start},
					{Type: RecordPacket, Arrival: start, Data: []byte{0x80, 0, 1}},
					{Type: RecordPacket, Arrival: start, Data: v0},
					{Type: RecordPacket, Arrival: start, Data: badPad},
					{Type: RecordPacket, Arrival: -5, Data: s.packet(t, 3).Data},
					{Type: RecordPacket, Track: 9, Arrival: start, Data: s.packet(t, 3).Data}, // no such track
					{Type: 77, Arrival: start},
				}
				recs := s.packets(t, 0, n)
				return slices.Concat(recs[:10], bad, recs[10:])
			},
			want: full,
			sum:  Summary{Packets: 55, Media: 50, Malformed: 5, SSRCs: 1, Offset: 100 * time.Millisecond, Duration: second},
		},
		{
			name: "telephone-event and RTCP are not audio and not loss",
			recs: func(t *testing.T) []Record {
				recs := s.packets(t, 0, 20)
				for i := 20; i < 30; i++ { // RFC 4733: same SSRC and numbering, event start timestamp
					recs = append(recs, Record{Type: RecordPacket, Arrival: start + int64(i)*ptime,
						Data: rtpBytes(t, s.ssrc, s.seq+uint16(i), s.ts+20*samples, 101, []byte{5, 0x8a, 0, 160})})
				}
				rr := []byte{0x81, 201, 0, 1, 0, 0, 0x12, 0x34, 0, 0, 0, 0}
				recs = append(recs, Record{Type: RecordPacket, Arrival: start + 30*ptime - 1, Data: rr})
				return append(recs, s.packets(t, 30, n)...)
			},
			want: cat(expectPCM(0, 0, 20), zeros(10*samples), expectPCM(0, 30, n)),
			sum:  Summary{Packets: 51, Media: 40, NonMedia: 11, SSRCs: 1, Offset: 100 * time.Millisecond, Duration: second},
		},
		{
			name: "network jitter up to 60 ms with reordering",
			recs: func(t *testing.T) []Record {
				rng := rand.New(rand.NewPCG(1, 2))
				recs := s.packets(t, 0, n)
				for i := range recs {
					if i > 0 { // packet 0 on time: it defines the offset
						recs[i].Arrival += rng.Int64N(int64(60 * time.Millisecond))
					}
				}
				slices.SortStableFunc(recs, func(a, b Record) int { return int(a.Arrival - b.Arrival) })
				return recs
			},
			want: full,
			sum:  Summary{Packets: 50, Media: 50, Reordered: -1, SSRCs: 1, Offset: 100 * time.Millisecond, Duration: second},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			recs := tt.recs(t)
			tl := build(t, []Track{pcmuTrack}, recs)
			tr := tl.Tracks[0]
			comparePCM(t, tr.PCM, tt.want)
			want := tt.sum
			want.Label = "caller"
			if want.Reordered < 0 {
				want.Reordered = countLate(t, recs)
				if want.Reordered == 0 {
					t.Fatal("test stream has no reordering")
				}
			}
			if tr.Summary != want {
				t.Fatalf("summary\n got %+v\nwant %+v", tr.Summary, want)
			}
			if tr.Length != int64(len(tr.PCM)) || tr.Offset != tr.Summary.Offset {
				t.Fatalf("length %d / %d samples, offset %v / %v", tr.Length, len(tr.PCM), tr.Offset, tr.Summary.Offset)
			}
		})
	}
}

// The same call rebuilt from any arrival order of the same packets gives
// the same PCM (as long as reordering stays within the jitter a network
// can produce).
func TestReorderInvariance(t *testing.T) {
	s := stream{ssrc: 9, seq: 65000, ts: 1<<32 - 8000, start: 0}
	recs := s.packets(t, 0, 400) // 8 s, both counters wrap
	want := build(t, []Track{pcmuTrack}, recs).Tracks[0].PCM
	rng := rand.New(rand.NewPCG(7, 7))
	for trial := range 20 {
		shuffled := slices.Clone(recs)
		// Shuffle within windows of 10 packets (200 ms), plus duplicates.
		for i := 0; i < len(shuffled); i += 10 {
			w := shuffled[max(i, 1):min(i+10, len(shuffled))] // packet 0 stays first: it fixes the offset
			rng.Shuffle(len(w), func(a, b int) { w[a], w[b] = w[b], w[a] })
		}
		for range 5 {
			shuffled = append(shuffled, recs[rng.IntN(len(recs))])
		}
		for i := range shuffled {
			shuffled[i].Arrival = int64(i) * ptime
		}
		got := build(t, []Track{pcmuTrack}, shuffled).Tracks[0]
		if got.Summary.Duplicates != 5 {
			t.Fatalf("trial %d: %d duplicates, want 5", trial, got.Summary.Duplicates)
		}
		if !slices.Equal(got.PCM, want) {
			t.Fatalf("trial %d: PCM differs from in-order (len %d vs %d)", trial, len(got.PCM), len(want))
		}
	}
}

func TestMaxDuration(t *testing.T) {
	s := stream{ssrc: 1, seq: 1, ts: 1}
	recs := append(s.packets(t, 0, 10), Record{Type: RecordPause, Track: AllTracks, Arrival: 10 * ptime},
		Record{Type: RecordResume, Track: AllTracks, Arrival: int64(2 * time.Hour)})
	recs = append(recs, stream{ssrc: 1, seq: 11, ts: 11 * samples, start: int64(2 * time.Hour)}.packets(t, 0, 10)...)
	_, err := Build(Header{Tracks: []Track{pcmuTrack}}, &SliceSource{Records: recs}, Options{MaxDuration: time.Hour})
	if !errors.Is(err, ErrTooLong) {
		t.Fatalf("err = %v, want ErrTooLong", err)
	}
	tl, err := Build(Header{Tracks: []Track{pcmuTrack}}, &SliceSource{Records: recs}, Options{MaxDuration: 3 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if d := tl.Tracks[0].Summary.Duration; d != 2*time.Hour+200*time.Millisecond {
		t.Fatalf("duration %v", d)
	}
}

func TestBadHeader(t *testing.T) {
	tests := []struct {
		name string
		h    Header
		o    Options
	}{
		{"zero clock rate", Header{Tracks: []Track{{Label: "x", Codec: "PCMU"}}}, Options{}},
		{"too many tracks", Header{Tracks: make([]Track, 255)}, Options{}},
		{"negative max duration", Header{}, Options{MaxDuration: -1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := NewBuilder(tt.h, tt.o); !errors.Is(err, ErrBadHeader) {
				t.Fatalf("err = %v, want ErrBadHeader", err)
			}
		})
	}
}

func TestSourceError(t *testing.T) {
	boom := errors.New("chunk 3: authentication failed")
	_, err := Build(Header{Tracks: []Track{pcmuTrack}}, errSource{boom}, Options{})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want wrapped %v", err, boom)
	}
}

type errSource struct{ err error }

func (e errSource) Next() (Record, error) { return Record{}, e.err }
