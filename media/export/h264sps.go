package export

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// errSPS: a sequence parameter set this package cannot read.
var errSPS = errors.New("export: bad H.264 sequence parameter set")

// spsInfo is what the containers need from a sequence parameter set
// (ITU-T H.264 §7.3.2.1.1).
type spsInfo struct {
	profile, compat, level byte
	chromaFormat           uint32 // 1 (4:2:0) unless a high profile says otherwise
	bitDepthLuma           uint32 // minus 8
	bitDepthChroma         uint32 // minus 8
	width, height          int    // after cropping
	highProfile            bool   // carries chroma format and bit depths
}

// parseSPS reads an SPS NAL unit (header byte included) far enough to
// know the picture size.
func parseSPS(nal []byte) (spsInfo, error) {
	var s spsInfo
	if len(nal) < 4 || nal[0]&0x1F != nalSPS {
		return s, fmt.Errorf("%w: %d bytes", errSPS, len(nal))
	}
	s.profile, s.compat, s.level = nal[1], nal[2], nal[3]
	r := bitReader{b: nal[4:]}
	r.ue() // seq_parameter_set_id
	s.chromaFormat = 1
	switch s.profile {
	case 100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135:
		s.highProfile = true
		s.chromaFormat = r.ue()
		if s.chromaFormat == 3 {
			r.bit() // separate_colour_plane_flag
		}
		s.bitDepthLuma, s.bitDepthChroma = r.ue(), r.ue()
		r.bit()           // qpprime_y_zero_transform_bypass_flag
		if r.bit() == 1 { // seq_scaling_matrix_present_flag
			lists := 8
			if s.chromaFormat == 3 {
				lists = 12
			}
			for i := range lists {
				if r.bit() == 1 { // 4x4 lists first, then 8x8
					r.scalingList(16 + 48*min(1, i/6))
				}
			}
		}
	}
	r.ue()          // log2_max_frame_num_minus4
	switch r.ue() { // pic_order_cnt_type
	case 0:
		r.ue() // log2_max_pic_order_cnt_lsb_minus4
	case 1:
		r.bit() // delta_pic_order_always_zero_flag
		r.se()  // offset_for_non_ref_pic
		r.se()  // offset_for_top_to_bottom_field
		n := r.ue()
		if n > 255 {
			return s, fmt.Errorf("%w: %d reference frames in POC cycle", errSPS, n)
		}
		for range n {
			r.se()
		}
	}
	r.ue()  // max_num_ref_frames
	r.bit() // gaps_in_frame_num_value_allowed_flag
	wMbs, hMaps := r.ue()+1, r.ue()+1
	frameMbsOnly := r.bit()
	if frameMbsOnly == 0 {
		r.bit() // mb_adaptive_frame_field_flag
	}
	r.bit() // direct_8x8_inference_flag
	var cl, cr, ct, cb uint32
	if r.bit() == 1 { // frame_cropping_flag
		cl, cr, ct, cb = r.ue(), r.ue(), r.ue(), r.ue()
	}
	if r.err != nil {
		return s, r.err
	}
	if wMbs > 1024 || hMaps > 1024 || s.chromaFormat > 3 {
		return s, fmt.Errorf("%w: %dx%d macroblocks, chroma format %d", errSPS, wMbs, hMaps, s.chromaFormat)
	}
	// Crop units (Table 6-1 and equations 7-19 to 7-22).
	cropX, cropY := uint32(1), 2-frameMbsOnly
	switch s.chromaFormat {
	case 1:
		cropX, cropY = 2, 2*(2-frameMbsOnly)
	case 2:
		cropX = 2
	}
	w := int(wMbs*16) - int((cl+cr)*cropX)
	h := int((2-frameMbsOnly)*hMaps*16) - int((ct+cb)*cropY)
	if w <= 0 || h <= 0 {
		return s, fmt.Errorf("%w: cropped to %dx%d", errSPS, w, h)
	}
	s.width, s.height = w, h
	return s, nil
}

// avcConfig builds the AVCDecoderConfigurationRecord (ISO/IEC 14496-15
// §5.3.3.1) that Matroska's V_MPEG4/ISO/AVC carries as CodecPrivate, with
// 4-byte NAL unit lengths.
func avcConfig(sps, pps []byte) ([]byte, error) {
	s, err := parseSPS(sps)
	if err != nil {
		return nil, err
	}
	if len(sps) > 0xFFFF || len(pps) > 0xFFFF {
		return nil, fmt.Errorf("%w: parameter set of %d/%d bytes", errSPS, len(sps), len(pps))
	}
	b := make([]byte, 0, 11+len(sps)+len(pps)+4)
	b = append(b, 1, s.profile, s.compat, s.level, 0xFC|3, 0xE0|1)
	b = binary.BigEndian.AppendUint16(b, uint16(len(sps)))
	b = append(b, sps...)
	b = append(b, 1)
	b = binary.BigEndian.AppendUint16(b, uint16(len(pps)))
	b = append(b, pps...)
	if s.highProfile {
		b = append(b, 0xFC|byte(s.chromaFormat), 0xF8|byte(s.bitDepthLuma&7), 0xF8|byte(s.bitDepthChroma&7), 0)
	}
	return b, nil
}

// bitReader reads the RBSP of a NAL unit: emulation prevention bytes
// (0x000003) are skipped. Reading past the end sets err and yields zeros.
type bitReader struct {
	b     []byte
	pos   int // byte
	bit8  int // bit within b[pos], 0 = most significant
	zeros int // consecutive zero bytes before pos
	err   error
}

func (r *bitReader) bit() uint32 {
	if r.pos < len(r.b) && r.bit8 == 0 && r.zeros >= 2 && r.b[r.pos] == 3 {
		r.pos++ // emulation_prevention_three_byte
		r.zeros = 0
	}
	if r.pos >= len(r.b) {
		if r.err == nil {
			r.err = fmt.Errorf("%w: truncated", errSPS)
		}
		return 0
	}
	v := uint32(r.b[r.pos]>>(7-r.bit8)) & 1
	if r.bit8++; r.bit8 == 8 {
		if r.b[r.pos] == 0 {
			r.zeros++
		} else {
			r.zeros = 0
		}
		r.pos, r.bit8 = r.pos+1, 0
	}
	return v
}

// ue reads an unsigned Exp-Golomb code (§9.1); codes over 32 bits fail.
func (r *bitReader) ue() uint32 {
	n := 0
	for r.bit() == 0 {
		if n++; n > 31 || r.err != nil {
			if r.err == nil {
				r.err = fmt.Errorf("%w: Exp-Golomb code too long", errSPS)
			}
			return 0
		}
	}
	v := uint32(0)
	for range n {
		v = v<<1 | r.bit()
	}
	return v + (1<<n - 1)
}

// se reads a signed Exp-Golomb code (§9.1.1).
func (r *bitReader) se() int32 {
	k := r.ue()
	if k&1 == 1 {
		return int32((k + 1) / 2)
	}
	return -int32(k / 2)
}

// scalingList skips a scaling_list() of size entries (§7.3.2.1.1.1).
func (r *bitReader) scalingList(size int) {
	last, next := int32(8), int32(8)
	for range size {
		if next != 0 {
			next = (last + r.se() + 256) % 256
		}
		if next != 0 {
			last = next
		}
		if r.err != nil {
			return
		}
	}
}
