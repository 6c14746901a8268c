package slowpath

import (
	"encoding/binary"
	"errors"

	"github.com/steer-router/steer/pkg/ipv4"
)

// fragment splits pkt (DF clear) into fragments of at most mtu bytes
// (RFC 791 3.2, "Fragmentation"): every fragment but the last carries a
// multiple of 8 data bytes and MF; offsets add to the original's, so a
// fragment is fragmented again correctly. Options with the copy flag go
// into every fragment; others only into the first.
func fragment(pkt []byte, h ipv4.Header, mtu int) ([][]byte, error) {
	hl := h.HeaderLen
	opts := pkt[ipv4.MinHeaderLen:hl]
	later := copiedOptions(opts)
	data := pkt[hl:h.TotalLen]
	var out [][]byte
	off := 0
	for first := true; off < len(data); first = false {
		hdr := pkt[:hl]
		if !first {
			hdr = append(append([]byte(nil), pkt[:ipv4.MinHeaderLen]...), later...)
		}
		room := (mtu - len(hdr)) &^ 7
		if room <= 0 {
			return nil, errors.New("mtu smaller than a header and 8 bytes")
		}
		n := min(room, len(data)-off)
		f := make([]byte, len(hdr)+n)
		copy(f, hdr)
		copy(f[len(hdr):], data[off:off+n])
		f[0] = 0x40 | byte(len(hdr)/4)
		binary.BigEndian.PutUint16(f[2:], uint16(len(f)))
		fo := int(h.FragOffset) + off/8
		flags := uint16(0)
		if off+n < len(data) || h.MF {
			flags = 0x2000
		}
		binary.BigEndian.PutUint16(f[6:], flags|uint16(fo))
		f[10], f[11] = 0, 0
		binary.BigEndian.PutUint16(f[10:], ipv4.Checksum(f[:len(hdr)]))
		out = append(out, f)
		off += n
	}
	return out, nil
}

// copiedOptions keeps the options whose copy flag is set, padded to 4 bytes.
func copiedOptions(opts []byte) []byte {
	var out []byte
	for i := 0; i < len(opts); {
		t := opts[i]
		switch t {
		case 0: // end of list
			i = len(opts)
			continue
		case 1: // no-op
			i++
			continue
		}
		if i+1 >= len(opts) || int(opts[i+1]) < 2 || i+int(opts[i+1]) > len(opts) {
			break
		}
		l := int(opts[i+1])
		if t&0x80 != 0 {
			out = append(out, opts[i:i+l]...)
		}
		i += l
	}
	for len(out)%4 != 0 {
		out = append(out, 0)
	}
	return out
}
