package trafgen

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/steer-router/steer/pkg/ipv4"
)

// Proto is the IP protocol of a generated packet.
type Proto uint8

// The protocols trafgen can build.
const (
	ICMP Proto = 1
	TCP  Proto = 6
	UDP  Proto = 17
)

func (p Proto) String() string {
	switch p {
	case ICMP:
		return "icmp"
	case TCP:
		return "tcp"
	case UDP:
		return "udp"
	}
	return fmt.Sprintf("proto(%d)", uint8(p))
}

// ParseProto accepts "udp", "tcp" or "icmp".
func ParseProto(s string) (Proto, error) {
	switch strings.ToLower(s) {
	case "udp":
		return UDP, nil
	case "tcp":
		return TCP, nil
	case "icmp":
		return ICMP, nil
	}
	return 0, fmt.Errorf("unknown protocol %q (want udp, tcp or icmp)", s)
}

// MinFrame is the smallest Ethernet frame without FCS (64 bytes on the wire).
const MinFrame = 60

// FCS is the Ethernet frame check sequence, counted by frame sizes like
// "64 bytes" but absent from pcap files.
const FCS = 4

// Packet describes one frame. The zero value of every mutation field means
// "leave the frame as gopacket built it" (valid lengths and checksums).
type Packet struct {
	SrcMAC, DstMAC net.HardwareAddr
	// Src and Dst are both IPv4 (an IPv4 frame) or both IPv6 (an IPv6
	// frame, UDP or TCP only).
	Src, Dst         netip.Addr
	Proto            Proto // UDP when zero
	SrcPort, DstPort uint16
	TTL              uint8 // used as given: 0 is TTL 0 (hop limit for IPv6)
	TOS              uint8
	ID               uint16 // IPv4 identification
	DF, MF           bool   // IPv4 flags
	FragOffset       uint16 // IPv4 fragment offset, in 8-byte units
	Options          []layers.IPv4Option
	VLAN             uint16 // non-zero: insert an 802.1Q tag with this VLAN id
	// ARPOp non-zero builds an ARP packet instead (1 request, 2 reply):
	// sender SrcMAC/Src, target Dst (and DstMAC for a reply).
	ARPOp uint16

	Tag Tag
	// FrameLen is the frame size in bytes without FCS; the payload grows
	// to fill it. 0 means the smallest frame (60 bytes, or the headers plus
	// the tag when they need more).
	FrameLen int

	// Mutations, applied after building. The IPv4 header checksum is
	// recomputed after them unless BadChecksum is set.
	Version     uint8  // IPv4 version nibble (non-zero: replace)
	IHL         uint8  // IPv4 IHL nibble (non-zero: replace)
	TotalLen    uint16 // IPv4 total length (non-zero: replace)
	EtherType   uint16 // non-zero: replace the (innermost) EtherType
	BadChecksum bool   // IPv4 header checksum made wrong
	Truncate    int    // non-zero: cut the frame to this many bytes
}

func (p *Packet) proto() Proto {
	if p.Proto == 0 {
		return UDP
	}
	return p.Proto
}

// HeaderLen is the size of the headers in front of the payload.
func (p *Packet) HeaderLen() int {
	n := 14
	if p.VLAN != 0 {
		n += 4
	}
	if p.ARPOp != 0 {
		return n + 28
	}
	if p.Src.Is6() {
		n += 40
	} else {
		n += 20 + ipv4OptionsLen(p.Options)
	}
	switch p.proto() {
	case TCP:
		n += 20
	default:
		n += 8
	}
	return n
}

func ipv4OptionsLen(opts []layers.IPv4Option) int {
	n := 0
	for _, o := range opts {
		if o.OptionType <= 1 {
			n++
		} else {
			n += int(o.OptionLength)
		}
	}
	return (n + 3) &^ 3
}

var serializeOpts = gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}

// MustBuild is Build for tests and tables of known-good packets.
func (p *Packet) MustBuild() []byte {
	b, err := p.Build()
	if err != nil {
		panic(err)
	}
	return b
}

// Build serializes the packet (checksums and lengths computed by gopacket)
// and applies the mutations.
func (p *Packet) Build() ([]byte, error) {
	if len(p.SrcMAC) != 6 || len(p.DstMAC) != 6 {
		return nil, errors.New("trafgen: SrcMAC and DstMAC must be 6 bytes")
	}
	if !p.Src.IsValid() || !p.Dst.IsValid() || p.Src.Is4() != p.Dst.Is4() {
		return nil, fmt.Errorf("trafgen: Src %v and Dst %v must both be IPv4 or both IPv6", p.Src, p.Dst)
	}
	eth := &layers.Ethernet{SrcMAC: p.SrcMAC, DstMAC: p.DstMAC}
	ls := []gopacket.SerializableLayer{eth}
	var l3type layers.EthernetType
	if p.VLAN != 0 {
		eth.EthernetType = layers.EthernetTypeDot1Q
		ls = append(ls, &layers.Dot1Q{VLANIdentifier: p.VLAN & 0xfff}) // Type set below
	}

	if p.ARPOp != 0 {
		if !p.Src.Is4() {
			return nil, errors.New("trafgen: ARP needs IPv4 addresses")
		}
		l3type = layers.EthernetTypeARP
		target := net.HardwareAddr{0, 0, 0, 0, 0, 0}
		if p.ARPOp == 2 {
			target = p.DstMAC
		}
		src4, dst4 := p.Src.As4(), p.Dst.As4()
		ls = append(ls, &layers.ARP{
			AddrType: layers.LinkTypeEthernet, Protocol: layers.EthernetTypeIPv4,
			HwAddressSize: 6, ProtAddressSize: 4, Operation: p.ARPOp,
			SourceHwAddress: p.SrcMAC, SourceProtAddress: src4[:],
			DstHwAddress: target, DstProtAddress: dst4[:],
		})
	} else {
		var net4 gopacket.NetworkLayer
		if p.Src.Is4() {
			l3type = layers.EthernetTypeIPv4
			var flags layers.IPv4Flag
			if p.DF {
				flags |= layers.IPv4DontFragment
			}
			if p.MF {
				flags |= layers.IPv4MoreFragments
			}
			ip := &layers.IPv4{
				Version: 4, TOS: p.TOS, Id: p.ID, Flags: flags, FragOffset: p.FragOffset & 0x1fff,
				TTL: p.TTL, Protocol: layers.IPProtocol(p.proto()), Options: p.Options,
				SrcIP: p.Src.AsSlice(), DstIP: p.Dst.AsSlice(),
			}
			net4 = ip
			ls = append(ls, ip)
		} else {
			l3type = layers.EthernetTypeIPv6
			var next layers.IPProtocol
			switch p.proto() {
			case UDP:
				next = layers.IPProtocolUDP
			case TCP:
				next = layers.IPProtocolTCP
			default:
				return nil, fmt.Errorf("trafgen: %v over IPv6 is not supported", p.proto())
			}
			ip := &layers.IPv6{Version: 6, TrafficClass: p.TOS, HopLimit: p.TTL, NextHeader: next,
				SrcIP: p.Src.AsSlice(), DstIP: p.Dst.AsSlice()}
			net4 = ip
			ls = append(ls, ip)
		}
		switch p.proto() {
		case UDP:
			u := &layers.UDP{SrcPort: layers.UDPPort(p.SrcPort), DstPort: layers.UDPPort(p.DstPort)}
			if err := u.SetNetworkLayerForChecksum(net4); err != nil {
				return nil, err
			}
			ls = append(ls, u)
		case TCP:
			t := &layers.TCP{SrcPort: layers.TCPPort(p.SrcPort), DstPort: layers.TCPPort(p.DstPort),
				Seq: 1 + p.Tag.Seq*1500, Ack: 1, ACK: true, PSH: true, Window: 65535}
			if err := t.SetNetworkLayerForChecksum(net4); err != nil {
				return nil, err
			}
			ls = append(ls, t)
		case ICMP:
			ls = append(ls, &layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(layers.ICMPv4TypeEchoRequest, 0),
				Id: uint16(p.Tag.Flow), Seq: uint16(p.Tag.Seq)})
		default:
			return nil, fmt.Errorf("trafgen: cannot build protocol %v", p.proto())
		}
		frameLen := p.FrameLen
		if frameLen == 0 {
			frameLen = MinFrame
		}
		ls = append(ls, gopacket.Payload(Payload(p.Tag, frameLen-p.HeaderLen())))
	}
	if p.VLAN != 0 {
		ls[1].(*layers.Dot1Q).Type = l3type
	} else {
		eth.EthernetType = l3type
	}

	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, serializeOpts, ls...); err != nil {
		return nil, fmt.Errorf("trafgen: %w", err)
	}
	return p.mutate(append([]byte(nil), buf.Bytes()...)), nil
}

func (p *Packet) mutate(b []byte) []byte {
	l3 := 14
	if p.VLAN != 0 {
		l3 += 4
	}
	if p.EtherType != 0 {
		binary.BigEndian.PutUint16(b[l3-2:], p.EtherType)
	}
	if p.ARPOp == 0 && p.Src.Is4() {
		ip := b[l3:]
		hlen := int(ip[0]&0xf) * 4 // as built, before mutation
		if p.Version != 0 {
			ip[0] = p.Version<<4 | ip[0]&0xf
		}
		if p.IHL != 0 {
			ip[0] = ip[0]&0xf0 | p.IHL&0xf
		}
		if p.TotalLen != 0 {
			binary.BigEndian.PutUint16(ip[2:], p.TotalLen)
		}
		binary.BigEndian.PutUint16(ip[10:], IPv4Checksum(ip[:hlen]))
		if p.BadChecksum {
			// XOR with 0x0101 changes the one's complement sum by a
			// non-zero amount (unlike ^0xffff, which maps 0 to 0xffff).
			ip[10] ^= 0x01
			ip[11] ^= 0x01
		}
	}
	if p.Truncate > 0 && p.Truncate < len(b) {
		b = b[:p.Truncate]
	}
	return b
}

// IPv4Checksum computes the header checksum of hdr, treating its checksum
// field (bytes 10-11) as zero.
func IPv4Checksum(hdr []byte) uint16 {
	c := append([]byte(nil), hdr...)
	if len(c) >= 12 {
		c[10], c[11] = 0, 0
	}
	return ipv4.Checksum(c)
}

// IPv4ChecksumValid reports whether hdr (the whole IPv4 header, options
// included) sums to 0xffff in one's complement, as a receiver checks it.
func IPv4ChecksumValid(hdr []byte) bool { return ipv4.Sum(hdr) == 0xffff }
