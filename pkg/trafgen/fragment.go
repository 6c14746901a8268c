package trafgen

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Fragment splits the IPv4 datagram in frame into fragments whose IP total
// length is at most mtu, as a router or host would (RFC 791): each fragment
// carries a copy of the Ethernet and IP headers (options included), a
// payload that is a multiple of 8 bytes except in the last one, MF on all
// but the last (which keeps the original MF), offsets relative to the
// original, and a fresh header checksum. Short fragments are padded to
// the minimum Ethernet frame. A datagram that fits is returned as is.
func Fragment(frame []byte, mtu int) ([][]byte, error) {
	in, err := Parse(frame)
	if err != nil {
		return nil, err
	}
	if !in.IPv4 || in.Version != 4 {
		return nil, errors.New("trafgen: Fragment needs an IPv4 frame")
	}
	hlen := int(in.IHL) * 4
	total := int(in.TotalLen)
	if hlen < ipv4MinHdrLen || total < hlen || in.L3+total > len(frame) {
		return nil, errors.New("trafgen: Fragment needs sound IPv4 lengths")
	}
	if total <= mtu {
		return [][]byte{frame}, nil
	}
	if in.DF {
		return nil, errors.New("trafgen: datagram has DF set")
	}
	chunk := (mtu - hlen) &^ 7
	if chunk <= 0 {
		return nil, fmt.Errorf("trafgen: mtu %d leaves no room after a %d-byte header", mtu, hlen)
	}
	hdr := frame[:in.L3+hlen]
	data := frame[in.L3+hlen : in.L3+total]
	var out [][]byte
	for off := 0; off < len(data); off += chunk {
		end := min(off+chunk, len(data))
		f := make([]byte, 0, max(len(hdr)+end-off, MinFrame))
		f = append(f, hdr...)
		f = append(f, data[off:end]...)
		ip := f[in.L3:]
		binary.BigEndian.PutUint16(ip[2:], uint16(hlen+end-off))
		ff := uint16(0)
		if end < len(data) || in.MF {
			ff |= 0x2000
		}
		ff |= (in.FragOffset + uint16(off/8)) & 0x1fff
		binary.BigEndian.PutUint16(ip[ipv4FlagOffset:], ff)
		binary.BigEndian.PutUint16(ip[ipv4CkOffset:], IPv4Checksum(ip[:hlen]))
		for len(f) < MinFrame {
			f = append(f, 0)
		}
		out = append(out, f)
	}
	return out, nil
}
