// Package trafgen builds test traffic for steer: Ethernet/IPv4 (and a little
// IPv6 and ARP) frames made with gopacket, each carrying a tag (flow id and
// sequence number) in its payload so that a receiver can match every output
// frame to the input frame it came from and check per-flow order. It can make
// every malformed class the router must drop or hand to its slow path, split
// datagrams into fragments, and read and write pcap files (pure Go, pcapgo).
package trafgen

import (
	"bytes"
	"encoding/binary"
)

// Magic starts every tag: "STER" in network byte order.
const Magic uint32 = 0x53544552

// TagLen is the size of a tag in the payload: magic, flow, seq and a check
// word, each a big-endian uint32.
const TagLen = 16

// Tag identifies one generated packet: its flow and its sequence number
// within the flow (0, 1, 2, ...).
type Tag struct {
	Flow uint32
	Seq  uint32
}

func (t Tag) check() uint32 { return t.Flow*0x9E3779B1 ^ t.Seq ^ 0xA5A5A5A5 }

// PutTag writes t at the start of b, which must hold TagLen bytes.
func PutTag(b []byte, t Tag) {
	binary.BigEndian.PutUint32(b[0:], Magic)
	binary.BigEndian.PutUint32(b[4:], t.Flow)
	binary.BigEndian.PutUint32(b[8:], t.Seq)
	binary.BigEndian.PutUint32(b[12:], t.check())
}

// ReadTag decodes a tag at the start of b.
func ReadTag(b []byte) (Tag, bool) {
	if len(b) < TagLen || binary.BigEndian.Uint32(b) != Magic {
		return Tag{}, false
	}
	t := Tag{Flow: binary.BigEndian.Uint32(b[4:]), Seq: binary.BigEndian.Uint32(b[8:])}
	return t, binary.BigEndian.Uint32(b[12:]) == t.check()
}

// ScanTag finds the first valid tag anywhere in b (for frames whose headers
// are deliberately broken, or non-first fragments).
func ScanTag(b []byte) (Tag, bool) {
	var m [4]byte
	binary.BigEndian.PutUint32(m[:], Magic)
	for off := 0; off+TagLen <= len(b); {
		i := bytes.Index(b[off:], m[:])
		if i < 0 {
			return Tag{}, false
		}
		if t, ok := ReadTag(b[off+i:]); ok {
			return t, true
		}
		off += i + 1
	}
	return Tag{}, false
}

// Payload returns n bytes (at least TagLen) that start with t's tag and go
// on with a pattern derived from the tag, so that a corrupted byte anywhere
// in the payload shows up in a comparison.
func Payload(t Tag, n int) []byte {
	n = max(n, TagLen)
	b := make([]byte, n)
	PutTag(b, t)
	x := t.Flow*31 + t.Seq*7
	for i := TagLen; i < n; i++ {
		b[i] = byte(x + uint32(i))
	}
	return b
}
