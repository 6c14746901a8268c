package icmp

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net/netip"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/steer-router/steer/pkg/ipv4"
)

var (
	ourIP  = netip.MustParseAddr("192.0.2.1")
	hostIP = netip.MustParseAddr("198.51.100.7")
)

// packet is a hand-built IPv4 packet: independent of the code under test
// except for the checksum helper, which has its own tests.
type packet struct {
	src, dst netip.Addr
	proto    uint8
	tos, ttl uint8
	flags    uint16 // flags and fragment offset word
	options  []byte // multiple of 4
	payload  []byte
}

func (p packet) bytes() []byte {
	hl := 20 + len(p.options)
	b := make([]byte, hl+len(p.payload))
	b[0] = 0x40 | byte(hl/4)
	b[1] = p.tos
	binary.BigEndian.PutUint16(b[2:], uint16(len(b)))
	binary.BigEndian.PutUint16(b[4:], 0xbeef)
	binary.BigEndian.PutUint16(b[6:], p.flags)
	b[8] = p.ttl
	if b[8] == 0 {
		b[8] = 57
	}
	b[9] = p.proto
	s, d := p.src, p.dst
	if !s.IsValid() {
		s = hostIP
	}
	if !d.IsValid() {
		d = ourIP
	}
	copy(b[12:], s.AsSlice())
	copy(b[16:], d.AsSlice())
	copy(b[20:], p.options)
	binary.BigEndian.PutUint16(b[10:], ipv4.Checksum(b[:hl]))
	copy(b[hl:], p.payload)
	return b
}

// echo returns an ICMP message of the given type with a correct checksum.
func echo(typ uint8, id, seq uint16, data []byte) []byte {
	m := make([]byte, 8+len(data))
	m[0] = typ
	binary.BigEndian.PutUint16(m[4:], id)
	binary.BigEndian.PutUint16(m[6:], seq)
	copy(m[8:], data)
	binary.BigEndian.PutUint16(m[2:], ipv4.Checksum(m))
	return m
}

func seqData(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + 3)
	}
	return b
}

// check verifies an IPv4+ICMP packet we built, independently and with
// gopacket, and returns the parsed header and ICMP message.
func check(t *testing.T, b []byte) (ipv4.Header, []byte) {
	t.Helper()
	h, err := ipv4.Parse(b)
	if err != nil {
		t.Fatalf("our output does not parse: %v", err)
	}
	if int(h.TotalLen) != len(b) {
		t.Fatalf("total length %d, packet %d bytes", h.TotalLen, len(b))
	}
	if h.HeaderLen != 20 || h.Protocol != ipv4.ProtoICMP || h.TTL != 64 || h.DF || h.IsFragment() {
		t.Fatalf("unexpected IP header %+v", h)
	}
	if s := ipv4.Sum(b[:20]); s != 0xffff {
		t.Fatalf("IP header sums to %#x", s)
	}
	msg := b[20:]
	if s := ipv4.Sum(msg); s != 0xffff {
		t.Fatalf("ICMP message sums to %#x", s)
	}
	p := gopacket.NewPacket(b, layers.LayerTypeIPv4, gopacket.Default)
	if el := p.ErrorLayer(); el != nil {
		t.Fatalf("gopacket: %v", el.Error())
	}
	ip, _ := p.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
	ic, _ := p.Layer(layers.LayerTypeICMPv4).(*layers.ICMPv4)
	if ip == nil || ic == nil {
		t.Fatal("gopacket found no IPv4/ICMPv4")
	}
	if _, r := ip.VerifyChecksum(); !r.Valid {
		t.Fatalf("gopacket: IP checksum invalid %+v", r)
	}
	if _, r := ic.VerifyChecksum(); !r.Valid {
		t.Fatalf("gopacket: ICMP checksum invalid %+v", r)
	}
	if !ip.SrcIP.Equal(h.Src.AsSlice()) || !ip.DstIP.Equal(h.Dst.AsSlice()) || ip.TTL != 64 ||
		ic.TypeCode.Type() != msg[0] || ic.TypeCode.Code() != msg[1] || !bytes.Equal(ic.Payload, msg[8:]) {
		t.Fatalf("gopacket disagrees: %+v %+v", ip, ic)
	}
	return h, msg
}

func TestEchoReply(t *testing.T) {
	for _, n := range []int{0, 1, 2, 3, 7, 56, 57, 1471, 1472} {
		data := seqData(n)
		req := packet{proto: ipv4.ProtoICMP, tos: 0x28, payload: echo(TypeEchoRequest, 0x1234, 0xabcd, data)}.bytes()
		reqCopy := append([]byte(nil), req...)
		rep, err := EchoReply(req, ourIP)
		if err != nil {
			t.Fatalf("%d data bytes: %v", n, err)
		}
		if !bytes.Equal(req, reqCopy) {
			t.Fatal("EchoReply modified the request")
		}
		h, msg := check(t, rep)
		if h.Src != ourIP || h.Dst != hostIP || h.TOS != 0x28 {
			t.Fatalf("header %+v", h)
		}
		if msg[0] != TypeEchoReply || msg[1] != 0 || binary.BigEndian.Uint16(msg[4:]) != 0x1234 || binary.BigEndian.Uint16(msg[6:]) != 0xabcd {
			t.Fatalf("ICMP header % x", msg[:8])
		}
		if !bytes.Equal(msg[8:], data) {
			t.Fatalf("%d data bytes not returned byte for byte", n)
		}
		if len(rep) != len(req) {
			t.Fatalf("reply %d bytes, request %d", len(rep), len(req))
		}
	}
}

func TestEchoReplyFreshIDs(t *testing.T) {
	req := packet{proto: ipv4.ProtoICMP, payload: echo(TypeEchoRequest, 1, 1, nil)}.bytes()
	a, _ := EchoReply(req, ourIP)
	b, _ := EchoReply(req, ourIP)
	if binary.BigEndian.Uint16(a[4:]) == binary.BigEndian.Uint16(b[4:]) {
		t.Fatal("two replies share an IP ID")
	}
}

func TestEchoReplyTOSKeepsPrecedenceDropsECN(t *testing.T) {
	req := packet{proto: ipv4.ProtoICMP, tos: 0xb9, payload: echo(TypeEchoRequest, 1, 1, nil)}.bytes() // EF + ECT(1)
	rep, err := EchoReply(req, ourIP)
	if err != nil {
		t.Fatal(err)
	}
	if rep[1] != 0xb8 {
		t.Fatalf("TOS %#x, want 0xb8", rep[1])
	}
}

func TestEchoReplyOptionsAndPadding(t *testing.T) {
	data := seqData(5)
	// Record Route option (7), length 7, pointer 4, room for one address, EOL.
	opts := []byte{7, 7, 4, 0, 0, 0, 0, 0}
	req := packet{proto: ipv4.ProtoICMP, options: opts, payload: echo(TypeEchoRequest, 9, 10, data)}.bytes()
	req = append(req, make([]byte, 11)...) // Ethernet padding after total length
	rep, err := EchoReply(req, ourIP)
	if err != nil {
		t.Fatal(err)
	}
	_, msg := check(t, rep)
	if len(rep) != 20+8+len(data) || !bytes.Equal(msg[8:], data) {
		t.Fatalf("reply % x", rep)
	}
}

func TestEchoReplyRejects(t *testing.T) {
	good := echo(TypeEchoRequest, 1, 2, seqData(16))
	badSum := append([]byte(nil), good...)
	badSum[9] ^= 0xff
	ipBad := packet{proto: ipv4.ProtoICMP, payload: good}.bytes()
	ipBad[10] ^= 1
	cases := []struct {
		name string
		b    []byte
		us   netip.Addr
		want error
	}{
		{"UDP", packet{proto: ipv4.ProtoUDP, payload: good}.bytes(), ourIP, ErrNotICMP},
		{"echo reply", packet{proto: ipv4.ProtoICMP, payload: echo(TypeEchoReply, 1, 2, nil)}.bytes(), ourIP, ErrNotEchoRequest},
		{"time exceeded", packet{proto: ipv4.ProtoICMP, payload: echo(TypeTimeExceeded, 0, 0, nil)}.bytes(), ourIP, ErrNotEchoRequest},
		{"bad ICMP checksum", packet{proto: ipv4.ProtoICMP, payload: badSum}.bytes(), ourIP, ErrChecksum},
		{"ICMP 7 bytes", packet{proto: ipv4.ProtoICMP, payload: good[:7]}.bytes(), ourIP, ErrTruncated},
		{"ICMP empty", packet{proto: ipv4.ProtoICMP}.bytes(), ourIP, ErrTruncated},
		{"IP truncated", packet{proto: ipv4.ProtoICMP, payload: good}.bytes()[:30], ourIP, ipv4.ErrTruncated},
		{"IP checksum", ipBad, ourIP, ipv4.ErrChecksum},
		{"first fragment", packet{proto: ipv4.ProtoICMP, flags: 0x2000, payload: good}.bytes(), ourIP, ErrFragment},
		{"last fragment", packet{proto: ipv4.ProtoICMP, flags: 3, payload: good}.bytes(), ourIP, ErrFragment},
		{"other address", packet{proto: ipv4.ProtoICMP, payload: good}.bytes(), netip.MustParseAddr("192.0.2.9"), ErrNotForUs},
		{"to broadcast", packet{proto: ipv4.ProtoICMP, dst: netip.MustParseAddr("255.255.255.255"), payload: good}.bytes(), ourIP, ErrNotForUs},
		{"from 0.0.0.0", packet{proto: ipv4.ProtoICMP, src: netip.MustParseAddr("0.0.0.0"), payload: good}.bytes(), ourIP, ErrBadSource},
		{"from loopback", packet{proto: ipv4.ProtoICMP, src: netip.MustParseAddr("127.0.0.1"), payload: good}.bytes(), ourIP, ErrBadSource},
		{"from multicast", packet{proto: ipv4.ProtoICMP, src: netip.MustParseAddr("224.0.0.5"), payload: good}.bytes(), ourIP, ErrBadSource},
		{"from broadcast", packet{proto: ipv4.ProtoICMP, src: netip.MustParseAddr("255.255.255.255"), payload: good}.bytes(), ourIP, ErrBadSource},
		{"IPv6 us", packet{proto: ipv4.ProtoICMP, payload: good}.bytes(), netip.MustParseAddr("::1"), ErrAddress},
	}
	for _, c := range cases {
		r, err := EchoReply(c.b, c.us)
		if !errors.Is(err, c.want) || r != nil {
			t.Errorf("%s: err %v, want %v", c.name, err, c.want)
		}
	}
	// DF on the request does not matter.
	if _, err := EchoReply(packet{proto: ipv4.ProtoICMP, flags: 0x4000, payload: good}.bytes(), ourIP); err != nil {
		t.Fatalf("DF request: %v", err)
	}
}

func TestErrorQuoting(t *testing.T) {
	udp := func(n int) []byte {
		return packet{proto: ipv4.ProtoUDP, dst: netip.MustParseAddr("203.0.113.5"), ttl: 1, flags: 0x4000, payload: seqData(n - 20)}.bytes()
	}
	cases := []struct {
		name      string
		orig      []byte
		wantQuote int
	}{
		{"40 bytes: all", udp(40), 40},
		{"28 bytes: header + 8", udp(28), 28},
		{"21 bytes: header + 1", udp(21), 21},
		{"20 bytes: header only", udp(20), 20},
		{"548 bytes: all, 576 total", udp(548), 548},
		{"549 bytes: cut to 548", udp(549), 548},
		{"1500 bytes: cut to 548", udp(1500), 548},
		{"options: quoted with them", packet{proto: ipv4.ProtoUDP, dst: netip.MustParseAddr("203.0.113.5"), options: []byte{1, 1, 1, 0, 0x44, 8, 5, 0}, payload: seqData(30)}.bytes(), 58},
		{"60-byte header, 1500 bytes", packet{proto: ipv4.ProtoUDP, options: bytes.Repeat([]byte{1}, 40), payload: seqData(1440)}.bytes(), 548},
	}
	for _, c := range cases {
		out, err := Error(c.orig, TimeExceeded, ourIP, 0)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		h, msg := check(t, out)
		if len(out) != 28+c.wantQuote || len(out) > 576 {
			t.Errorf("%s: error is %d bytes, want %d", c.name, len(out), 28+c.wantQuote)
			continue
		}
		if !bytes.Equal(msg[8:], c.orig[:c.wantQuote]) {
			t.Errorf("%s: quote differs from the original as received", c.name)
		}
		if h.Src != ourIP || h.Dst != hostIP || h.TOS != 0xc0 {
			t.Errorf("%s: header %+v", c.name, h)
		}
		if msg[0] != 11 || msg[1] != 0 || binary.BigEndian.Uint32(msg[4:]) != 0 {
			t.Errorf("%s: ICMP header % x", c.name, msg[:8])
		}
	}
	if n := len(mustError(t, udp(1500), TimeExceeded, 0)); n != 576 {
		t.Fatalf("1500-byte original: error of %d bytes, want 576", n)
	}
}

func mustError(t *testing.T, orig []byte, k Kind, mtu uint16) []byte {
	t.Helper()
	b, err := Error(orig, k, ourIP, mtu)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestErrorIgnoresPadding(t *testing.T) {
	orig := packet{proto: ipv4.ProtoUDP, payload: seqData(10)}.bytes()
	padded := append(append([]byte(nil), orig...), make([]byte, 30)...)
	out := mustError(t, padded, HostUnreachable, 0)
	if !bytes.Equal(out[28:], orig) {
		t.Fatal("padding after the total length was quoted")
	}
}

func TestErrorKindsAndRestWord(t *testing.T) {
	orig := packet{proto: ipv4.ProtoTCP, flags: 0x4000, payload: seqData(1480)}.bytes()
	for _, k := range []Kind{TimeExceeded, NetUnreachable, HostUnreachable, ProtocolUnreachable, PortUnreachable, FragmentationNeeded} {
		out := mustError(t, orig, k, 1400)
		_, msg := check(t, out)
		if msg[0] != k.Type || msg[1] != k.Code {
			t.Errorf("%v: got type %d code %d", k, msg[0], msg[1])
		}
		want := uint32(0)
		if k == FragmentationNeeded {
			want = 1400 // RFC 1191: high 16 bits unused (zero), low 16 the MTU
		}
		if got := binary.BigEndian.Uint32(msg[4:]); got != want {
			t.Errorf("%v: rest of header %#x, want %#x", k, got, want)
		}
	}
	out, err := ErrorRest(orig, ParameterProblem, ourIP, 20<<24)
	if err != nil {
		t.Fatal(err)
	}
	_, msg := check(t, out)
	if msg[0] != 12 || msg[4] != 20 || msg[5] != 0 || msg[6] != 0 || msg[7] != 0 {
		t.Fatalf("parameter problem header % x", msg[:8])
	}
	// gopacket reads a frag-needed's rest word as Id/Seq: Seq is the MTU.
	p := gopacket.NewPacket(mustError(t, orig, FragmentationNeeded, 1280), layers.LayerTypeIPv4, gopacket.Default)
	if ic := p.Layer(layers.LayerTypeICMPv4).(*layers.ICMPv4); ic.Id != 0 || ic.Seq != 1280 ||
		ic.TypeCode != layers.CreateICMPv4TypeCode(layers.ICMPv4TypeDestinationUnreachable, layers.ICMPv4CodeFragmentationNeeded) {
		t.Fatalf("gopacket: %+v", ic)
	}
}

func TestErrorQuotesHeaderAsGiven(t *testing.T) {
	// TTL 1 as received, options, TOS and flags must come back untouched.
	orig := packet{proto: ipv4.ProtoUDP, ttl: 1, tos: 0x2e, flags: 0x4000, options: []byte{0x94, 4, 0, 0}, payload: seqData(8)}.bytes()
	out := mustError(t, orig, TimeExceeded, 0)
	if !bytes.Equal(out[28:], orig) {
		t.Fatalf("quote % x\nwant  % x", out[28:], orig)
	}
	q, err := ipv4.Parse(out[28:])
	if err != nil || q.TTL != 1 || q.HeaderLen != 24 {
		t.Fatalf("quoted header %+v %v", q, err)
	}
}

func TestErrorRejects(t *testing.T) {
	orig := packet{proto: ipv4.ProtoUDP, payload: seqData(8)}.bytes()
	if _, err := Error(orig, Kind{TypeEchoReply, 0}, ourIP, 0); !errors.Is(err, ErrKind) {
		t.Errorf("echo reply kind: %v", err)
	}
	if _, err := Error(orig, Kind{TypeSourceQuench, 0}, ourIP, 0); !errors.Is(err, ErrKind) {
		t.Errorf("source quench: %v", err)
	}
	if _, err := Error(orig, TimeExceeded, netip.Addr{}, 0); !errors.Is(err, ErrAddress) {
		t.Errorf("no source: %v", err)
	}
	if _, err := Error(orig[:19], TimeExceeded, ourIP, 0); !errors.Is(err, ipv4.ErrTruncated) {
		t.Errorf("short original: %v", err)
	}
	bad := append([]byte(nil), orig...)
	bad[10] ^= 1
	if _, err := Error(bad, TimeExceeded, ourIP, 0); !errors.Is(err, ipv4.ErrChecksum) {
		t.Errorf("bad checksum: %v", err)
	}
}

func TestMayError(t *testing.T) {
	a := netip.MustParseAddr
	icmpMsg := func(typ uint8) []byte { return echo(typ, 0, 0, seqData(28)) }
	badSum := packet{proto: ipv4.ProtoUDP, payload: seqData(8)}.bytes()
	badSum[10] ^= 1
	badVer := packet{proto: ipv4.ProtoUDP, payload: seqData(8)}.bytes()
	badVer[0] = 0x65
	cases := []struct {
		name   string
		b      []byte
		linkBC bool
		ok     bool
		reason string
	}{
		{"UDP unicast", packet{proto: ipv4.ProtoUDP, dst: a("203.0.113.1"), payload: seqData(8)}.bytes(), false, true, ""},
		{"TCP with DF", packet{proto: ipv4.ProtoTCP, flags: 0x4000, payload: seqData(20)}.bytes(), false, true, ""},
		{"first fragment (MF, offset 0)", packet{proto: ipv4.ProtoUDP, flags: 0x2000, payload: seqData(8)}.bytes(), false, true, ""},
		{"later fragment", packet{proto: ipv4.ProtoUDP, flags: 0x2000 | 1, payload: seqData(8)}.bytes(), false, false, ReasonFragment},
		{"last fragment", packet{proto: ipv4.ProtoUDP, flags: 185, payload: seqData(8)}.bytes(), false, false, ReasonFragment},
		{"later fragment of an ICMP error", packet{proto: ipv4.ProtoICMP, flags: 1, payload: seqData(8)}.bytes(), false, false, ReasonFragment},
		{"link broadcast", packet{proto: ipv4.ProtoUDP, payload: seqData(8)}.bytes(), true, false, ReasonBroadcast},
		{"dst 255.255.255.255", packet{proto: ipv4.ProtoUDP, dst: a("255.255.255.255"), payload: seqData(8)}.bytes(), false, false, ReasonBroadcast},
		{"dst 224.0.0.1", packet{proto: ipv4.ProtoUDP, dst: a("224.0.0.1"), payload: seqData(8)}.bytes(), false, false, ReasonBroadcast},
		{"dst 239.255.255.250", packet{proto: ipv4.ProtoUDP, dst: a("239.255.255.250"), payload: seqData(8)}.bytes(), false, false, ReasonBroadcast},
		{"src 0.0.0.0", packet{proto: ipv4.ProtoUDP, src: a("0.0.0.0"), payload: seqData(8)}.bytes(), false, false, ReasonBadSource},
		{"src 0.1.2.3 (network 0)", packet{proto: ipv4.ProtoUDP, src: a("0.1.2.3"), payload: seqData(8)}.bytes(), false, false, ReasonBadSource},
		{"src 127.0.0.1", packet{proto: ipv4.ProtoUDP, src: a("127.0.0.1"), payload: seqData(8)}.bytes(), false, false, ReasonBadSource},
		{"src 224.0.0.5", packet{proto: ipv4.ProtoUDP, src: a("224.0.0.5"), payload: seqData(8)}.bytes(), false, false, ReasonBadSource},
		{"src 240.0.0.1 (class E)", packet{proto: ipv4.ProtoUDP, src: a("240.0.0.1"), payload: seqData(8)}.bytes(), false, false, ReasonBadSource},
		{"src 255.255.255.255", packet{proto: ipv4.ProtoUDP, src: a("255.255.255.255"), payload: seqData(8)}.bytes(), false, false, ReasonBadSource},
		{"src 223.255.255.254", packet{proto: ipv4.ProtoUDP, src: a("223.255.255.254"), payload: seqData(8)}.bytes(), false, true, ""},
		{"src 1.0.0.1", packet{proto: ipv4.ProtoUDP, src: a("1.0.0.1"), payload: seqData(8)}.bytes(), false, true, ""},
		{"ICMP dest unreachable", packet{proto: ipv4.ProtoICMP, payload: icmpMsg(3)}.bytes(), false, false, ReasonICMPError},
		{"ICMP source quench", packet{proto: ipv4.ProtoICMP, payload: icmpMsg(4)}.bytes(), false, false, ReasonICMPError},
		{"ICMP redirect", packet{proto: ipv4.ProtoICMP, payload: icmpMsg(5)}.bytes(), false, false, ReasonICMPError},
		{"ICMP time exceeded", packet{proto: ipv4.ProtoICMP, payload: icmpMsg(11)}.bytes(), false, false, ReasonICMPError},
		{"ICMP parameter problem", packet{proto: ipv4.ProtoICMP, payload: icmpMsg(12)}.bytes(), false, false, ReasonICMPError},
		{"ICMP error, first fragment", packet{proto: ipv4.ProtoICMP, flags: 0x2000, payload: icmpMsg(11)}.bytes(), false, false, ReasonICMPError},
		{"ICMP echo request", packet{proto: ipv4.ProtoICMP, payload: icmpMsg(8)}.bytes(), false, true, ""},
		{"ICMP echo reply", packet{proto: ipv4.ProtoICMP, payload: icmpMsg(0)}.bytes(), false, true, ""},
		{"ICMP timestamp", packet{proto: ipv4.ProtoICMP, payload: icmpMsg(13)}.bytes(), false, true, ""},
		{"ICMP unknown type 42", packet{proto: ipv4.ProtoICMP, payload: icmpMsg(42)}.bytes(), false, true, ""},
		{"ICMP with only the type byte", packet{proto: ipv4.ProtoICMP, payload: []byte{8}}.bytes(), false, true, ""},
		{"ICMP without a type byte", packet{proto: ipv4.ProtoICMP}.bytes(), false, false, ReasonTruncated},
		{"19 bytes", packet{proto: ipv4.ProtoUDP}.bytes()[:19], false, false, ReasonTruncated},
		{"total length beyond data", packet{proto: ipv4.ProtoUDP, payload: seqData(8)}.bytes()[:25], false, false, ReasonTruncated},
		{"bad checksum", badSum, false, false, ReasonBadHeader},
		{"version 6", badVer, false, false, ReasonBadHeader},
		{"nothing", nil, false, false, ReasonTruncated},
	}
	for _, c := range cases {
		ok, reason := MayError(c.b, c.linkBC)
		if ok != c.ok || reason != c.reason {
			t.Errorf("%s: MayError = %v %q, want %v %q", c.name, ok, reason, c.ok, c.reason)
		}
	}
}

func FuzzICMP(f *testing.F) {
	f.Add(packet{proto: ipv4.ProtoICMP, payload: echo(TypeEchoRequest, 1, 2, seqData(9))}.bytes(), false)
	f.Add(packet{proto: ipv4.ProtoUDP, payload: seqData(600)}.bytes(), true)
	f.Add(packet{proto: ipv4.ProtoICMP, options: []byte{1, 1, 1, 0}, payload: echo(TypeTimeExceeded, 0, 0, nil)}.bytes(), false)
	f.Add([]byte{0x45}, false)
	f.Fuzz(func(t *testing.T, b []byte, linkBC bool) {
		fuzzOne(t, b, linkBC)
		// Also with the checksums fixed, so the fuzzer gets past them.
		if len(b) >= 20 {
			if hl := int(b[0]&0x0f) * 4; hl >= 20 && hl <= len(b) {
				c := append([]byte(nil), b...)
				c[10], c[11] = 0, 0
				binary.BigEndian.PutUint16(c[10:], ipv4.Checksum(c[:hl]))
				if tl := int(binary.BigEndian.Uint16(c[2:])); c[9] == ipv4.ProtoICMP && tl >= hl+8 && tl <= len(c) {
					c[hl+2], c[hl+3] = 0, 0
					binary.BigEndian.PutUint16(c[hl+2:], ipv4.Checksum(c[hl:tl]))
				}
				fuzzOne(t, c, linkBC)
			}
		}
	})
}

func fuzzOne(t *testing.T, b []byte, linkBC bool) {
	MayError(b, linkBC)
	if r, err := EchoReply(b, ourIP); err == nil {
		check(t, r)
	}
	if r, err := Error(b, FragmentationNeeded, ourIP, 1500); err == nil {
		check(t, r)
		if len(r) > 576 {
			t.Fatalf("error of %d bytes", len(r))
		}
	}
}
