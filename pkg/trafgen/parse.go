package trafgen

import (
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
)

// EtherType values trafgen knows.
const (
	EtherTypeIPv4  = 0x0800
	EtherTypeARP   = 0x0806
	EtherTypeVLAN  = 0x8100
	EtherTypeQinQ  = 0x88a8
	EtherTypeIPv6  = 0x86dd
	ipv4MinHdrLen  = 20
	ethHdrLen      = 14
	ipv4TTLOffset  = 8
	ipv4CkOffset   = 10
	ipv4SrcOffset  = 12
	ipv4DstOffset  = 16
	ipv4FlagOffset = 6
)

// Info is what Parse found in a frame. It is lenient: it decodes as much
// as the bytes allow and never fails past the Ethernet header, so broken
// frames can be inspected too.
type Info struct {
	DstMAC, SrcMAC net.HardwareAddr
	VLANs          int    // 802.1Q/802.1ad tags skipped
	EtherType      uint16 // after VLAN tags
	L3             int    // offset of the network header

	IPv4       bool // EtherType IPv4 and at least 20 bytes of header present
	Version    uint8
	IHL        uint8
	TOS        uint8
	TotalLen   uint16
	ID         uint16
	DF, MF     bool
	FragOffset uint16 // in 8-byte units
	TTL        uint8
	Proto      Proto
	Checksum   uint16
	ChecksumOK bool // the header (IHL*4 bytes) sums to 0xffff
	Src, Dst   netip.Addr

	L4               int // offset of the transport header, 0 when there is none
	SrcPort, DstPort uint16

	Tag    Tag
	HasTag bool
}

// IPHeader returns the IPv4 header bytes (IHL*4, bounded by the frame).
func (in *Info) IPHeader(frame []byte) []byte {
	if !in.IPv4 {
		return nil
	}
	end := min(in.L3+max(int(in.IHL)*4, ipv4MinHdrLen), len(frame))
	return frame[in.L3:end]
}

// Parse decodes the Ethernet, VLAN, IPv4 and UDP/TCP/ICMP headers of frame
// and finds its tag: at the start of the L4 payload when the headers are
// sound, else anywhere in the frame.
func Parse(frame []byte) (Info, error) {
	var in Info
	if len(frame) < ethHdrLen {
		in.Tag, in.HasTag = ScanTag(frame)
		return in, errors.New("trafgen: frame shorter than an Ethernet header")
	}
	in.DstMAC = net.HardwareAddr(frame[0:6])
	in.SrcMAC = net.HardwareAddr(frame[6:12])
	off := 12
	in.EtherType = binary.BigEndian.Uint16(frame[off:])
	for (in.EtherType == EtherTypeVLAN || in.EtherType == EtherTypeQinQ) && off+6 <= len(frame) {
		off += 4
		in.VLANs++
		in.EtherType = binary.BigEndian.Uint16(frame[off:])
	}
	in.L3 = off + 2
	if in.EtherType == EtherTypeIPv4 && len(frame) >= in.L3+ipv4MinHdrLen {
		ip := frame[in.L3:]
		in.IPv4 = true
		in.Version = ip[0] >> 4
		in.IHL = ip[0] & 0xf
		in.TOS = ip[1]
		in.TotalLen = binary.BigEndian.Uint16(ip[2:])
		in.ID = binary.BigEndian.Uint16(ip[4:])
		ff := binary.BigEndian.Uint16(ip[ipv4FlagOffset:])
		in.DF = ff&0x4000 != 0
		in.MF = ff&0x2000 != 0
		in.FragOffset = ff & 0x1fff
		in.TTL = ip[ipv4TTLOffset]
		in.Proto = Proto(ip[9])
		in.Checksum = binary.BigEndian.Uint16(ip[ipv4CkOffset:])
		in.Src = netip.AddrFrom4([4]byte(ip[ipv4SrcOffset:]))
		in.Dst = netip.AddrFrom4([4]byte(ip[ipv4DstOffset:]))
		hlen := int(in.IHL) * 4
		if hlen >= ipv4MinHdrLen && len(ip) >= hlen {
			in.ChecksumOK = IPv4ChecksumValid(ip[:hlen])
			if in.Version == 4 && in.FragOffset == 0 {
				in.parseL4(frame, in.L3+hlen)
			}
		}
	}
	if !in.HasTag {
		in.Tag, in.HasTag = ScanTag(frame[min(in.L3, len(frame)):])
	}
	return in, nil
}

func (in *Info) parseL4(frame []byte, l4 int) {
	var hl int
	switch in.Proto {
	case UDP:
		hl = 8
	case TCP:
		if len(frame) >= l4+13 {
			hl = int(frame[l4+12]>>4) * 4
		}
	case ICMP:
		hl = 8
	default:
		return
	}
	if hl < 8 || len(frame) < l4+hl {
		return
	}
	in.L4 = l4
	if in.Proto != ICMP {
		in.SrcPort = binary.BigEndian.Uint16(frame[l4:])
		in.DstPort = binary.BigEndian.Uint16(frame[l4+2:])
	}
	in.Tag, in.HasTag = ReadTag(frame[l4+hl:])
}
