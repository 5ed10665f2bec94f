package bench

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// PcapCount is what reading a peer's pcap recordings showed.
type PcapCount struct {
	Files      int
	Bytes      int64 // size of the pcap files
	Recorded   int64 // distinct generated packets found, over every stream
	Foreign    int64 // packets that are not a generated stream's (RTCP, ...)
	Duplicates int64 // packets found twice
	Lossy      int   // streams with fewer packets recorded than sent
	Lag        Hist  // per packet: pcap timestamp − send time
	PerStream  []int64
	Errors     []string
}

// CountPcaps reads every pcap file in dir and counts, per stream (by SSRC,
// see index), the distinct generated packets it holds (by the payload
// index the generator stamped), with each packet's lag: the capture
// timestamp the recorder wrote minus the send time in the payload (both
// this machine's clock). sent is the number of packets each stream sent,
// in stream order.
func CountPcaps(dir string, index map[uint32]int, sent []uint32) (*PcapCount, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.pcap"))
	if err != nil {
		return nil, err
	}
	pc := &PcapCount{PerStream: make([]int64, len(sent))}
	seen := make([][]uint64, len(sent))
	for i, n := range sent {
		seen[i] = make([]uint64, (int(n)+63)/64)
	}
	for _, f := range files {
		if err := pc.readFile(f, index, sent, seen); err != nil {
			pc.Errors = append(pc.Errors, err.Error())
		}
	}
	for i, n := range sent {
		if pc.PerStream[i] < int64(n) {
			pc.Lossy++
		}
	}
	return pc, nil
}

func (pc *PcapCount) readFile(path string, index map[uint32]int, sent []uint32, seen [][]uint64) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil {
		pc.Bytes += fi.Size()
	}
	pc.Files++
	r, err := pcapgo.NewReader(bufio.NewReaderSize(f, 1<<20))
	if err != nil {
		return fmt.Errorf("%s: %w", filepath.Base(path), err)
	}
	link := r.LinkType()
	for {
		data, ci, err := r.ZeroCopyReadPacketData()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			// A file cut short (the recorder was killed) keeps what it has.
			return fmt.Errorf("%s: %w", filepath.Base(path), err)
		}
		payload, ok := udpPayload(link, data)
		if !ok {
			pc.Foreign++
			continue
		}
		st, ok := ParseStamp(payload)
		s, known := index[st.SSRC]
		// A packet the generator did not count as sent is not one of ours.
		if !ok || !known || st.Index >= sent[s] {
			pc.Foreign++
			continue
		}
		w, bit := &seen[s][st.Index/64], uint64(1)<<(st.Index%64)
		if *w&bit != 0 {
			pc.Duplicates++
			continue
		}
		*w |= bit
		pc.PerStream[s]++
		pc.Recorded++
		pc.Lag.Add(ci.Timestamp.UnixNano() - st.Sent)
	}
}

// udpPayload strips the link, IP and UDP headers of a captured datagram.
func udpPayload(link layers.LinkType, b []byte) ([]byte, bool) {
	switch link {
	case layers.LinkTypeEthernet:
		if len(b) < 14 {
			return nil, false
		}
		b = b[14:]
	case layers.LinkTypeRaw, layers.LinkTypeIPv4, layers.LinkTypeIPv6:
	default:
		return nil, false
	}
	if len(b) < 1 {
		return nil, false
	}
	switch b[0] >> 4 {
	case 4:
		ihl := int(b[0]&0x0f) * 4
		if ihl < 20 || len(b) < ihl+8 || b[9] != 17 {
			return nil, false
		}
		b = b[ihl:]
	case 6:
		if len(b) < 48 || b[6] != 17 { // no extension headers on this path
			return nil, false
		}
		b = b[40:]
	default:
		return nil, false
	}
	n := int(binary.BigEndian.Uint16(b[4:6]))
	if n < 8 || n > len(b) {
		return nil, false
	}
	return b[8:n], true
}
