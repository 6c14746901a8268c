// Package arp parses and builds Ethernet/IPv4 ARP frames (RFC 826) for the
// router's slow path: replies to requests for the router's addresses,
// requests (broadcast, or unicast to refresh a known neighbour), and
// gratuitous announcements (RFC 5227 section 2.3).
//
// Only the Ethernet/IPv4 flavour is handled (RFC 826: ar$hrd 1, ar$pro
// 0x0800, ar$hln 6, ar$pln 4); anything else is rejected by Parse. Built
// frames are padded to the 60-byte Ethernet minimum (IEEE 802.3, without
// FCS). Untagged frames only: a VLAN-tagged frame is not ARP to Parse.
//
// What to learn from a packet and whether to answer it (RFC 826 "Packet
// Reception") is the caller's decision; Packet.IsGratuitous and
// Packet.IsProbe help with the RFC 5227 cases.
package arp

import (
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/steer-router/steer/pkg/inet"
)

// Operation codes (RFC 826 ar$op).
const (
	OpRequest uint16 = 1
	OpReply   uint16 = 2
)

// EtherType is the Ethernet type of ARP frames.
const EtherType = 0x0806

const (
	arpLen = 28 // Ethernet/IPv4 ARP body
	// MinFrameLen is the length of every frame this package builds: the
	// Ethernet minimum of 64 bytes less the 4-byte FCS the NIC adds.
	MinFrameLen = 60
)

// Broadcast is the Ethernet broadcast address.
var Broadcast = net.HardwareAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}

var zeroMAC = net.HardwareAddr{0, 0, 0, 0, 0, 0}

// Packet is an Ethernet/IPv4 ARP packet with the addresses of the Ethernet
// header that carried it. Parse returns copies: a Packet never aliases the
// frame it came from.
type Packet struct {
	Op        uint16 // OpRequest or OpReply
	SenderMAC net.HardwareAddr
	SenderIP  netip.Addr
	TargetMAC net.HardwareAddr
	TargetIP  netip.Addr
	EthSrc    net.HardwareAddr
	EthDst    net.HardwareAddr
}

// Parse decodes an Ethernet frame carrying an Ethernet/IPv4 ARP packet.
// Trailing bytes (padding) are ignored. It rejects frames that are too short,
// are not ARP, are ARP for another hardware or protocol type or address
// length, or have an operation other than request or reply; the error says
// which. Addresses are not judged (a broadcast sender MAC, say, parses): see
// RFC 826 and RFC 5227 for what the caller should refuse to learn.
func Parse(frame []byte) (Packet, error) {
	var p Packet
	if len(frame) < inet.EthHeaderLen {
		return p, fmt.Errorf("arp: frame of %d bytes is shorter than an Ethernet header (14)", len(frame))
	}
	if et := binary.BigEndian.Uint16(frame[12:14]); et != EtherType {
		return p, fmt.Errorf("arp: ethertype %#04x is not ARP (0x0806)", et)
	}
	if len(frame) < inet.EthHeaderLen+arpLen {
		return p, fmt.Errorf("arp: truncated: frame of %d bytes, Ethernet/IPv4 ARP needs %d", len(frame), inet.EthHeaderLen+arpLen)
	}
	a := frame[inet.EthHeaderLen:]
	if htype := binary.BigEndian.Uint16(a[0:2]); htype != 1 {
		return p, fmt.Errorf("arp: hardware type %d, only Ethernet (1) is supported", htype)
	}
	if ptype := binary.BigEndian.Uint16(a[2:4]); ptype != 0x0800 {
		return p, fmt.Errorf("arp: protocol type %#04x, only IPv4 (0x0800) is supported", ptype)
	}
	if a[4] != 6 {
		return p, fmt.Errorf("arp: hardware address length %d, Ethernet needs 6", a[4])
	}
	if a[5] != 4 {
		return p, fmt.Errorf("arp: protocol address length %d, IPv4 needs 4", a[5])
	}
	p.Op = binary.BigEndian.Uint16(a[6:8])
	if p.Op != OpRequest && p.Op != OpReply {
		return p, fmt.Errorf("arp: operation %d is neither request (1) nor reply (2)", p.Op)
	}
	p.EthDst = clone(frame[0:6])
	p.EthSrc = clone(frame[6:12])
	p.SenderMAC = clone(a[8:14])
	p.SenderIP = netip.AddrFrom4([4]byte(a[14:18]))
	p.TargetMAC = clone(a[18:24])
	p.TargetIP = netip.AddrFrom4([4]byte(a[24:28]))
	return p, nil
}

func clone(b []byte) net.HardwareAddr { return append(net.HardwareAddr(nil), b...) }

// IsGratuitous reports whether p announces its sender's address: sender IP
// equal to target IP (RFC 5227 section 2.3 ARP Announcement, or the older
// gratuitous reply form). Such packets update an existing cache entry; they
// ask nothing and are never answered. A Probe (sender IP 0.0.0.0) is not
// gratuitous.
func (p Packet) IsGratuitous() bool {
	return p.SenderIP.IsValid() && !p.SenderIP.IsUnspecified() && p.SenderIP == p.TargetIP
}

// IsProbe reports whether p is an RFC 5227 section 2.1.1 ARP Probe: a request
// with sender IP 0.0.0.0. A probe for one of our addresses is answered like
// any request (the reply's target IP is then 0.0.0.0), but nothing may be
// learned from it: its sender has no address yet.
func (p Packet) IsProbe() bool {
	return p.Op == OpRequest && p.SenderIP == netip.IPv4Unspecified()
}

// Request builds a "who has target? tell srcIP" frame from srcMAC/srcIP. The
// target hardware address is zero (RFC 5227 section 2.1.1 and common
// practice; RFC 826 leaves it undefined). dst nil sends it to the Ethernet
// broadcast address; a unicast dst is a refresh probe of a neighbour whose
// MAC is already known (RFC 1122 section 2.3.2.1).
// It panics when a MAC is not 6 bytes or an address is not IPv4: those come
// from configuration, not from the wire.
func Request(srcMAC net.HardwareAddr, srcIP, target netip.Addr, dst net.HardwareAddr) []byte {
	if dst == nil {
		dst = Broadcast
	}
	return build(dst, srcMAC, OpRequest, srcMAC, srcIP, zeroMAC, target)
}

// Reply answers req, a request for one of our IPv4 addresses (the caller
// checks that req.TargetIP is ours), following RFC 826: the target fields
// become req's sender fields, the sender fields become ourMAC and
// req.TargetIP. The frame goes to req.SenderMAC, from ourMAC.
// It returns an error when req is not a request or its addresses are
// malformed (a Packet from Parse always has well-formed addresses).
func Reply(req Packet, ourMAC net.HardwareAddr) ([]byte, error) {
	if req.Op != OpRequest {
		return nil, fmt.Errorf("arp: reply to operation %d: only requests are answered", req.Op)
	}
	if len(req.SenderMAC) != 6 || !req.SenderIP.Is4() || !req.TargetIP.Is4() {
		return nil, fmt.Errorf("arp: reply to a request with sender %v/%v and target IP %v: not Ethernet/IPv4", req.SenderMAC, req.SenderIP, req.TargetIP)
	}
	if len(ourMAC) != 6 {
		return nil, fmt.Errorf("arp: our MAC %v is not 6 bytes", ourMAC)
	}
	return build(req.SenderMAC, ourMAC, OpReply, ourMAC, req.TargetIP, req.SenderMAC, req.SenderIP), nil
}

// Gratuitous builds an ARP Announcement (RFC 5227 section 2.3): a broadcast
// request whose sender and target IP are both ip and whose target MAC is
// zero. It panics like Request.
func Gratuitous(srcMAC net.HardwareAddr, ip netip.Addr) []byte {
	return build(Broadcast, srcMAC, OpRequest, srcMAC, ip, zeroMAC, ip)
}

func build(ethDst, ethSrc net.HardwareAddr, op uint16, sha net.HardwareAddr, spa netip.Addr, tha net.HardwareAddr, tpa netip.Addr) []byte {
	for _, m := range []net.HardwareAddr{ethDst, ethSrc, sha, tha} {
		if len(m) != 6 {
			panic(fmt.Sprintf("arp: MAC %v is not 6 bytes", m))
		}
	}
	if !spa.Is4() || !tpa.Is4() {
		panic(fmt.Sprintf("arp: %v or %v is not an IPv4 address", spa, tpa))
	}
	eth := layers.Ethernet{SrcMAC: ethSrc, DstMAC: ethDst, EthernetType: layers.EthernetTypeARP}
	a := layers.ARP{
		AddrType:          layers.LinkTypeEthernet,
		Protocol:          layers.EthernetTypeIPv4,
		HwAddressSize:     6,
		ProtAddressSize:   4,
		Operation:         op,
		SourceHwAddress:   sha,
		SourceProtAddress: spa.AsSlice(),
		DstHwAddress:      tha,
		DstProtAddress:    tpa.AsSlice(),
	}
	buf := gopacket.NewSerializeBuffer()
	// Ethernet.SerializeTo pads the frame to 60 bytes with zeros.
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{}, &eth, &a); err != nil {
		panic("arp: " + err.Error()) // all inputs were checked above
	}
	return buf.Bytes()
}
