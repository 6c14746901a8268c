package e2e

// Raw frames for the slow-path tests, built and taken apart byte by byte
// (own checksums, so a wrong checksum in steer's answers cannot hide behind
// the same library computing both sides), with gopacket as a second decoder
// of what steer sends.

import (
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// IP protocol numbers.
const (
	protoICMP = 1
	protoTCP  = 6
	protoUDP  = 17
	protoGRE  = 47
)

// ICMP types.
const (
	icmpEchoReply     = 0
	icmpUnreachable   = 3
	icmpRedirect      = 5
	icmpEchoRequest   = 8
	icmpTimeExceeded  = 11
	icmpParamProblem  = 12
	icmpSourceQuench  = 4
	icmpErrMaxIPBytes = 576 // RFC 1812 4.3.2.3: an ICMP error's IP packet at most
)

// onesSum is the 16-bit one's complement sum of b (RFC 1071).
func onesSum(b []byte, s uint32) uint32 {
	for i := 0; i+1 < len(b); i += 2 {
		s += uint32(b[i])<<8 | uint32(b[i+1])
	}
	if len(b)%2 == 1 {
		s += uint32(b[len(b)-1]) << 8
	}
	for s > 0xffff {
		s = s&0xffff + s>>16
	}
	return s
}

// cksum is the Internet checksum of b (its checksum field zero).
func cksum(b []byte) uint16 { return ^uint16(onesSum(b, 0)) }

// cksumOK: b, checksum field included, sums to 0xffff.
func cksumOK(b []byte) bool { return onesSum(b, 0) == 0xffff }

func addr4(s string) [4]byte { return netip.MustParseAddr(s).As4() }

// ipv4Pkt is an IPv4 packet (IHL 5) around payload; frag is the flags +
// fragment offset field (0x2000 MF, 0x4000 DF, offset in 8-byte units).
func ipv4Pkt(src, dst string, proto, ttl uint8, id, frag uint16, payload []byte) []byte {
	p := make([]byte, 20+len(payload))
	p[0] = 0x45
	binary.BigEndian.PutUint16(p[2:], uint16(len(p)))
	binary.BigEndian.PutUint16(p[4:], id)
	binary.BigEndian.PutUint16(p[6:], frag)
	p[8] = ttl
	p[9] = proto
	s, d := addr4(src), addr4(dst)
	copy(p[12:], s[:])
	copy(p[16:], d[:])
	binary.BigEndian.PutUint16(p[10:], cksum(p[:20]))
	copy(p[20:], payload)
	return p
}

// l4Cksum is the TCP/UDP checksum of seg (checksum field zero) with the
// IPv4 pseudo header.
func l4Cksum(src, dst string, proto uint8, seg []byte) uint16 {
	s, d := addr4(src), addr4(dst)
	ph := make([]byte, 12)
	copy(ph, s[:])
	copy(ph[4:], d[:])
	ph[9] = proto
	binary.BigEndian.PutUint16(ph[10:], uint16(len(seg)))
	c := ^uint16(onesSum(seg, onesSum(ph, 0)))
	if c == 0 && proto == protoUDP {
		c = 0xffff
	}
	return c
}

// udpSeg is a UDP datagram of n payload bytes (a counting pattern).
func udpSeg(src, dst string, sport, dport uint16, n int) []byte {
	u := make([]byte, 8+n)
	binary.BigEndian.PutUint16(u, sport)
	binary.BigEndian.PutUint16(u[2:], dport)
	binary.BigEndian.PutUint16(u[4:], uint16(len(u)))
	for i := 8; i < len(u); i++ {
		u[i] = byte(i * 7)
	}
	binary.BigEndian.PutUint16(u[6:], l4Cksum(src, dst, protoUDP, u))
	return u
}

// tcpSyn is a TCP SYN segment.
func tcpSyn(src, dst string, sport, dport uint16) []byte {
	s := make([]byte, 20)
	binary.BigEndian.PutUint16(s, sport)
	binary.BigEndian.PutUint16(s[2:], dport)
	binary.BigEndian.PutUint32(s[4:], 0x01020304)
	s[12] = 5 << 4
	s[13] = 0x02 // SYN
	binary.BigEndian.PutUint16(s[14:], 65535)
	binary.BigEndian.PutUint16(s[16:], l4Cksum(src, dst, protoTCP, s))
	return s
}

// icmpMsg is an ICMP message: type, code, the 4-byte rest of header, data.
func icmpMsg(typ, code uint8, rest uint32, data []byte) []byte {
	m := make([]byte, 8+len(data))
	m[0], m[1] = typ, code
	binary.BigEndian.PutUint32(m[4:], rest)
	copy(m[8:], data)
	binary.BigEndian.PutUint16(m[2:], cksum(m))
	return m
}

// echoData is n bytes of echo payload recognisable per seq.
func echoData(seq uint16, n int) []byte {
	d := make([]byte, n)
	for i := range d {
		d[i] = byte(int(seq)*31 + i)
	}
	return d
}

// ether frames payload; short frames are padded to 60 bytes.
func ether(dst, src net.HardwareAddr, etype uint16, payload []byte) []byte {
	f := make([]byte, 14+len(payload), max(60, 14+len(payload)))
	copy(f, dst)
	copy(f[6:], src)
	binary.BigEndian.PutUint16(f[12:], etype)
	copy(f[14:], payload)
	for len(f) < 60 {
		f = append(f, 0)
	}
	return f
}

// arpFrame is an Ethernet/IPv4 ARP packet.
func arpFrame(ethDst, ethSrc net.HardwareAddr, op uint16, sha net.HardwareAddr, spa string, tha net.HardwareAddr, tpa string) []byte {
	a := make([]byte, 28)
	binary.BigEndian.PutUint16(a, 1)
	binary.BigEndian.PutUint16(a[2:], 0x0800)
	a[4], a[5] = 6, 4
	binary.BigEndian.PutUint16(a[6:], op)
	copy(a[8:], sha)
	s := addr4(spa)
	copy(a[14:], s[:])
	if tha == nil {
		tha = make(net.HardwareAddr, 6)
	}
	copy(a[18:], tha)
	t := addr4(tpa)
	copy(a[24:], t[:])
	return ether(ethDst, ethSrc, 0x0806, a)
}

// ---- what steer sent ----

// arpMsg is a decoded ARP packet.
type arpMsg struct {
	Op       uint16
	SHA, THA net.HardwareAddr
	SPA, TPA netip.Addr
}

// outFrame is one frame of an output pcap, decoded.
type outFrame struct {
	Port      string
	Index     int
	Raw       []byte
	Dst, Src  net.HardwareAddr
	EtherType uint16
	ARP       *arpMsg
	// IPv4: the IP packet (bounded by total length and the frame) and its
	// parts.
	IP       []byte
	IHL      int
	Src4     netip.Addr
	Dst4     netip.Addr
	Proto    uint8
	TTL      uint8
	ICMP     []byte // the ICMP message when Proto is ICMP
	Problems []string
}

// ICMPType is the ICMP type (-1 when not ICMP).
func (f *outFrame) ICMPType() int {
	if len(f.ICMP) < 8 {
		return -1
	}
	return int(f.ICMP[0])
}

// IsICMPError: an ICMP error message (unreachable, time exceeded,
// parameter problem, redirect, source quench).
func (f *outFrame) IsICMPError() bool {
	switch f.ICMPType() {
	case icmpUnreachable, icmpTimeExceeded, icmpParamProblem, icmpRedirect, icmpSourceQuench:
		return true
	}
	return false
}

// Quoted is what an ICMP error quotes (the original IP packet's start).
func (f *outFrame) Quoted() []byte {
	if len(f.ICMP) < 8 {
		return nil
	}
	return f.ICMP[8:]
}

// QuotedID is the IP identification of the quoted header (-1: none).
func (f *outFrame) QuotedID() int {
	q := f.Quoted()
	if len(q) < 20 {
		return -1
	}
	return int(binary.BigEndian.Uint16(q[4:]))
}

// EchoKey is id<<16|seq of an echo reply or request.
func (f *outFrame) EchoKey() uint32 { return binary.BigEndian.Uint32(f.ICMP[4:]) }

func (f *outFrame) String() string {
	switch {
	case f.ARP != nil:
		op := map[uint16]string{1: "request", 2: "reply"}[f.ARP.Op]
		return fmt.Sprintf("%s[%d] ARP %s (op %d) %v %v -> %v %v (eth %v -> %v)", f.Port, f.Index, op, f.ARP.Op,
			f.ARP.SPA, f.ARP.SHA, f.ARP.TPA, f.ARP.THA, f.Src, f.Dst)
	case f.IP != nil && f.ICMP != nil:
		s := fmt.Sprintf("%s[%d] ICMP %d/%d %v -> %v ttl %d len %d (eth %v -> %v)", f.Port, f.Index, f.ICMP[0], f.ICMP[1],
			f.Src4, f.Dst4, f.TTL, len(f.IP), f.Src, f.Dst)
		if f.IsICMPError() {
			s += fmt.Sprintf(" quoting IP id %#x", f.QuotedID())
		}
		return s
	case f.IP != nil:
		return fmt.Sprintf("%s[%d] IPv4 proto %d %v -> %v ttl %d len %d (eth %v -> %v)", f.Port, f.Index, f.Proto,
			f.Src4, f.Dst4, f.TTL, len(f.IP), f.Src, f.Dst)
	}
	return fmt.Sprintf("%s[%d] ethertype %#04x %d bytes (eth %v -> %v)", f.Port, f.Index, f.EtherType, len(f.Raw), f.Src, f.Dst)
}

// decodeOut decodes a frame steer sent on port. Malformations go into
// Problems (checked by the tests for every frame they expect).
func decodeOut(port string, i int, raw []byte) *outFrame {
	f := &outFrame{Port: port, Index: i, Raw: raw}
	bad := func(format string, a ...any) { f.Problems = append(f.Problems, fmt.Sprintf(format, a...)) }
	if len(raw) < 14 {
		bad("frame of %d bytes", len(raw))
		return f
	}
	if len(raw) < 60 {
		bad("frame of %d bytes, below the Ethernet minimum of 60 (without FCS)", len(raw))
	}
	f.Dst, f.Src = net.HardwareAddr(raw[0:6]), net.HardwareAddr(raw[6:12])
	f.EtherType = binary.BigEndian.Uint16(raw[12:])
	pkt := gopacket.NewPacket(raw, layers.LayerTypeEthernet, gopacket.Default)
	switch f.EtherType {
	case 0x0806:
		al, ok := pkt.Layer(layers.LayerTypeARP).(*layers.ARP)
		if !ok {
			bad("ARP frame gopacket cannot decode: %v", pkt.ErrorLayer())
			return f
		}
		if al.AddrType != layers.LinkTypeEthernet || al.Protocol != layers.EthernetTypeIPv4 || al.HwAddressSize != 6 || al.ProtAddressSize != 4 {
			bad("ARP htype %d ptype %#x hlen %d plen %d, want Ethernet/IPv4 6/4", al.AddrType, uint16(al.Protocol), al.HwAddressSize, al.ProtAddressSize)
		}
		f.ARP = &arpMsg{Op: al.Operation, SHA: net.HardwareAddr(al.SourceHwAddress), THA: net.HardwareAddr(al.DstHwAddress)}
		if len(al.SourceProtAddress) == 4 && len(al.DstProtAddress) == 4 {
			f.ARP.SPA = netip.AddrFrom4([4]byte(al.SourceProtAddress))
			f.ARP.TPA = netip.AddrFrom4([4]byte(al.DstProtAddress))
		}
	case 0x0800:
		ip := raw[14:]
		if len(ip) < 20 || ip[0]>>4 != 4 || int(ip[0]&0xf) < 5 || len(ip) < int(ip[0]&0xf)*4 {
			bad("not a sound IPv4 header: % x", ip[:min(len(ip), 20)])
			return f
		}
		f.IHL = int(ip[0]&0xf) * 4
		tl := int(binary.BigEndian.Uint16(ip[2:]))
		if tl < f.IHL || tl > len(ip) {
			bad("IPv4 total length %d, frame holds %d bytes of IP", tl, len(ip))
			tl = len(ip)
		}
		if len(raw) > 60 && tl != len(ip) {
			bad("%d bytes of trailer after the IP packet in a %d-byte frame", len(ip)-tl, len(raw))
		}
		f.IP = ip[:tl]
		if !cksumOK(f.IP[:f.IHL]) {
			bad("IPv4 header checksum %#04x wrong (want %#04x)", binary.BigEndian.Uint16(ip[10:]), ipHdrCksum(f.IP[:f.IHL]))
		}
		f.TTL, f.Proto = ip[8], ip[9]
		f.Src4 = netip.AddrFrom4([4]byte(ip[12:16]))
		f.Dst4 = netip.AddrFrom4([4]byte(ip[16:20]))
		if f.Proto == protoICMP && binary.BigEndian.Uint16(ip[6:])&0x3fff == 0 {
			f.ICMP = f.IP[f.IHL:]
			if len(f.ICMP) < 8 {
				bad("ICMP message of %d bytes", len(f.ICMP))
				f.ICMP = nil
				return f
			}
			if !cksumOK(f.ICMP) {
				bad("ICMP checksum %#04x wrong over %d bytes", binary.BigEndian.Uint16(f.ICMP[2:]), len(f.ICMP))
			}
			if _, ok := pkt.Layer(layers.LayerTypeICMPv4).(*layers.ICMPv4); !ok {
				bad("gopacket finds no ICMPv4 layer: %v", pkt.ErrorLayer())
			}
		}
	}
	return f
}

// ipHdrCksum is the checksum a header should carry.
func ipHdrCksum(h []byte) uint16 {
	c := append([]byte(nil), h...)
	c[10], c[11] = 0, 0
	return cksum(c)
}

// decodeAll decodes every frame of an output pcap.
func decodeAll(port string, frames [][]byte) []*outFrame {
	var out []*outFrame
	for i, raw := range frames {
		out = append(out, decodeOut(port, i, raw))
	}
	return out
}
