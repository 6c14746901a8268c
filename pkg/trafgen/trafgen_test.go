package trafgen

import (
	"bytes"
	"encoding/binary"
	"net"
	"net/netip"
	"path/filepath"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

var (
	macA = net.HardwareAddr{0x02, 0, 0, 0, 0, 0x0a}
	macB = net.HardwareAddr{0x02, 0x70, 0x63, 0x61, 0x70, 0x00}
	srcA = netip.MustParseAddr("10.0.0.2")
	dstB = netip.MustParseAddr("198.51.100.7")
)

func base(proto Proto, frameLen int, tag Tag) Packet {
	return Packet{SrcMAC: macA, DstMAC: macB, Src: srcA, Dst: dstB, Proto: proto,
		SrcPort: 1234, DstPort: 5001, TTL: 64, Tag: tag, FrameLen: frameLen}
}

// l4ChecksumValid checks a UDP/TCP checksum with the IPv4 pseudo-header.
func l4ChecksumValid(t *testing.T, frame []byte, in Info) bool {
	t.Helper()
	seg := frame[in.L4 : in.L3+int(in.TotalLen)]
	var s uint32
	add := func(b []byte) {
		for i := 0; i+1 < len(b); i += 2 {
			s += uint32(binary.BigEndian.Uint16(b[i:]))
		}
		if len(b)%2 == 1 {
			s += uint32(b[len(b)-1]) << 8
		}
	}
	if in.Proto != ICMP {
		add(in.Src.AsSlice())
		add(in.Dst.AsSlice())
		s += uint32(in.Proto) + uint32(len(seg))
	}
	add(seg)
	for s > 0xffff {
		s = s&0xffff + s>>16
	}
	return s == 0xffff
}

func TestBuildParseRoundTrip(t *testing.T) {
	for _, proto := range []Proto{UDP, TCP, ICMP} {
		for _, size := range []int{0, 60, 61, 128, 590, 1514} {
			tag := Tag{Flow: 7, Seq: uint32(size)}
			p := base(proto, size, tag)
			b, err := p.Build()
			if err != nil {
				t.Fatalf("%v/%d: %v", proto, size, err)
			}
			want := max(size, MinFrame, p.HeaderLen()+TagLen)
			if len(b) != want {
				t.Errorf("%v/%d: frame is %d bytes, want %d", proto, size, len(b), want)
			}
			in, err := Parse(b)
			if err != nil {
				t.Fatal(err)
			}
			if !in.IPv4 || in.Version != 4 || in.IHL != 5 || !in.ChecksumOK || in.TTL != 64 || in.Proto != proto {
				t.Errorf("%v/%d: bad IPv4 header: %+v", proto, size, in)
			}
			if int(in.TotalLen) != len(b)-14 {
				t.Errorf("%v/%d: total length %d, frame %d", proto, size, in.TotalLen, len(b))
			}
			if in.Src != srcA || in.Dst != dstB || !bytes.Equal(in.SrcMAC, macA) || !bytes.Equal(in.DstMAC, macB) {
				t.Errorf("%v/%d: addresses %v %v %v %v", proto, size, in.Src, in.Dst, in.SrcMAC, in.DstMAC)
			}
			if !in.HasTag || in.Tag != tag || in.L4 == 0 {
				t.Errorf("%v/%d: tag %+v (%v) at L4 %d", proto, size, in.Tag, in.HasTag, in.L4)
			}
			if proto != ICMP && (in.SrcPort != 1234 || in.DstPort != 5001) {
				t.Errorf("%v/%d: ports %d %d", proto, size, in.SrcPort, in.DstPort)
			}
			if !l4ChecksumValid(t, b, in) {
				t.Errorf("%v/%d: L4 checksum invalid", proto, size)
			}
			// gopacket decodes it cleanly and agrees.
			pkt := gopacket.NewPacket(b, layers.LayerTypeEthernet, gopacket.Default)
			if el := pkt.ErrorLayer(); el != nil {
				t.Fatalf("%v/%d: gopacket: %v", proto, size, el.Error())
			}
			ip := pkt.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
			if ip.Checksum != IPv4Checksum(b[14:34]) || ip.TTL != 64 {
				t.Errorf("%v/%d: gopacket IPv4 %+v", proto, size, ip)
			}
			if app := pkt.ApplicationLayer(); app == nil {
				t.Errorf("%v/%d: no payload", proto, size)
			} else if got, ok := ReadTag(app.Payload()); !ok || got != tag {
				t.Errorf("%v/%d: gopacket payload tag %+v %v", proto, size, got, ok)
			}
		}
	}
}

func TestChecksum(t *testing.T) {
	// RFC 1071 style example: a known header.
	h := []byte{0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0xb8, 0x61, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7}
	if c := IPv4Checksum(h); c != 0xb861 {
		t.Fatalf("checksum %#04x, want 0xb861", c)
	}
	if !IPv4ChecksumValid(h) {
		t.Fatal("valid header reported invalid")
	}
	h[8]--
	if IPv4ChecksumValid(h) {
		t.Fatal("changed header reported valid")
	}
}

func TestMalformations(t *testing.T) {
	tag := Tag{Flow: 1, Seq: 2}
	check := func(name string, f func(in Info, b []byte) bool) {
		t.Helper()
		p := base(UDP, 100, tag)
		if err := Malform(&p, name); err != nil {
			t.Fatal(err)
		}
		b, err := p.Build()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		in, _ := Parse(b)
		if !f(in, b) {
			t.Errorf("%s: unexpected frame %+v (len %d)", name, in, len(b))
		}
		if name != "arp" && name != "runt" && (!in.HasTag || in.Tag != tag) {
			t.Errorf("%s: tag not found: %+v", name, in)
		}
	}
	check("bad_checksum", func(in Info, _ []byte) bool { return in.IPv4 && !in.ChecksumOK && in.IHL == 5 })
	check("bad_version", func(in Info, _ []byte) bool { return in.Version == 6 && in.EtherType == EtherTypeIPv4 && in.ChecksumOK })
	check("bad_ihl", func(in Info, _ []byte) bool { return in.IHL == 4 })
	check("bad_length", func(in Info, b []byte) bool { return in.ChecksumOK && int(in.TotalLen) > len(b)-14 })
	check("short_length", func(in Info, _ []byte) bool { return in.ChecksumOK && in.TotalLen == 19 })
	check("runt", func(_ Info, b []byte) bool { return len(b) == 30 })
	check("ttl_exceeded", func(in Info, _ []byte) bool { return in.TTL == 1 && in.ChecksumOK })
	check("ttl0", func(in Info, _ []byte) bool { return in.TTL == 0 && in.ChecksumOK })
	check("ip_options", func(in Info, b []byte) bool {
		return in.IHL == 6 && in.ChecksumOK && len(b) == 100 && int(in.TotalLen) == len(b)-14 && in.L4 == 14+24
	})
	check("ipv6", func(in Info, _ []byte) bool { return in.EtherType == EtherTypeIPv6 && !in.IPv4 })
	check("vlan", func(in Info, _ []byte) bool { return in.VLANs == 1 && in.EtherType == EtherTypeIPv4 && in.ChecksumOK })
	check("arp", func(in Info, b []byte) bool { return in.EtherType == EtherTypeARP && len(b) == MinFrame })
	check("broadcast", func(in Info, _ []byte) bool { return bytes.Equal(in.DstMAC, BroadcastMAC()) })
	check("df", func(in Info, _ []byte) bool { return in.DF && !in.MF && in.ChecksumOK })
	check("mf", func(in Info, _ []byte) bool { return in.MF && in.ChecksumOK })
	if err := Malform(&Packet{}, "nope"); err == nil {
		t.Error("unknown malformation accepted")
	}
	// The checksum stays wrong whatever its value: try many headers.
	for i := 0; i < 2000; i++ {
		p := base(UDP, 60, Tag{Seq: uint32(i)})
		p.ID = uint16(i * 33)
		p.BadChecksum = true
		b := p.MustBuild()
		if IPv4ChecksumValid(b[14:34]) {
			t.Fatalf("id %d: bad checksum is valid", p.ID)
		}
	}
}

func TestFragment(t *testing.T) {
	p := base(UDP, 1514, Tag{Flow: 3, Seq: 9})
	p.ID = 4242
	b := p.MustBuild()
	frags, err := Fragment(b, 576)
	if err != nil {
		t.Fatal(err)
	}
	if len(frags) != 3 {
		t.Fatalf("%d fragments, want 3", len(frags))
	}
	var data []byte
	for i, f := range frags {
		in, _ := Parse(f)
		if !in.ChecksumOK || in.ID != 4242 || int(in.TotalLen) > 576 || len(f) < MinFrame {
			t.Errorf("fragment %d: %+v", i, in)
		}
		if in.MF != (i < len(frags)-1) || int(in.FragOffset)*8 != len(data) {
			t.Errorf("fragment %d: MF %v offset %d, have %d bytes", i, in.MF, in.FragOffset, len(data))
		}
		if i > 0 && in.L4 != 0 {
			t.Errorf("fragment %d: non-first fragment parsed as L4", i)
		}
		data = append(data, f[34:14+int(in.TotalLen)]...)
	}
	if !bytes.Equal(data, b[34:]) {
		t.Error("fragments do not reassemble to the original payload")
	}
	if one, _ := Fragment(b, 1500); len(one) != 1 {
		t.Error("a datagram that fits was fragmented")
	}
	p.DF = true
	if _, err := Fragment(p.MustBuild(), 576); err == nil {
		t.Error("DF datagram fragmented")
	}
}

func TestPcapRoundTrip(t *testing.T) {
	f := Flows{SrcMAC: macA, DstMAC: macB, Src: netip.MustParsePrefix("10.0.0.0/24"),
		Dst: netip.MustParsePrefix("198.51.100.0/24"), Flows: 10, PacketsPerFlow: 5, TTL: 64,
		Mix: "imix", Order: "random", Seed: 1}
	frames, err := f.Frames()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "x.pcap")
	if err := WritePcap(path, frames); err != nil {
		t.Fatal(err)
	}
	got, err := ReadPcap(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(frames) {
		t.Fatalf("read %d frames, wrote %d", len(got), len(frames))
	}
	next := map[uint32]uint32{}
	sizes := map[int]int{}
	for i := range got {
		if !bytes.Equal(got[i], frames[i]) {
			t.Fatalf("frame %d differs after the round trip", i)
		}
		in, _ := Parse(got[i])
		if !in.HasTag || in.Tag.Seq != next[in.Tag.Flow] || !in.ChecksumOK {
			t.Fatalf("frame %d: tag %+v, want seq %d", i, in.Tag, next[in.Tag.Flow])
		}
		next[in.Tag.Flow]++
		sizes[len(got[i])]++
	}
	if len(next) != 10 {
		t.Errorf("%d flows, want 10", len(next))
	}
	for s := range sizes {
		if s != 60 && s != 590 && s != 1514 {
			t.Errorf("IMIX made a %d-byte frame", s)
		}
	}
	// Deterministic: same seed, same bytes; another seed, another order.
	again, _ := f.Frames()
	for i := range again {
		if !bytes.Equal(again[i], frames[i]) {
			t.Fatalf("frame %d differs with the same seed", i)
		}
	}
	f.Seed = 2
	other, _ := f.Frames()
	same := true
	for i := range other {
		same = same && bytes.Equal(other[i], frames[i])
	}
	if same {
		t.Error("another seed made the same file")
	}
}

func TestFlowsAddressing(t *testing.T) {
	f := Flows{SrcMAC: macA, DstMAC: macB, Src: netip.MustParsePrefix("10.0.0.2/32"),
		Dst: netip.MustParsePrefix("198.51.100.0/24"), Flows: 300, PacketsPerFlow: 2, TTL: 9, Proto: TCP, Size: 64}
	ps, err := f.Packets()
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 600 || ps[0].Tag != (Tag{0, 0}) || ps[1].Tag != (Tag{1, 0}) || ps[300].Tag != (Tag{0, 1}) {
		t.Fatalf("round robin order broken: %v %v %v", ps[0].Tag, ps[1].Tag, ps[300].Tag)
	}
	for _, p := range ps {
		if p.Src != srcA {
			t.Fatalf("src %v", p.Src)
		}
		d := p.Dst.As4()
		if d[3] == 0 || d[3] == 255 || d[2] != 100 {
			t.Fatalf("dst %v outside the hosts of the prefix", p.Dst)
		}
	}
	if ps[0].Dst != netip.MustParseAddr("198.51.100.1") || ps[254].Dst != ps[0].Dst {
		t.Errorf("host cycling: %v %v", ps[0].Dst, ps[254].Dst)
	}
	b := ps[0].MustBuild()
	if len(b) != 14+20+20+TagLen {
		t.Errorf("minimal TCP frame is %d bytes", len(b))
	}
	if Host(netip.MustParsePrefix("10.0.0.0/31"), 1) != netip.MustParseAddr("10.0.0.1") {
		t.Error("Host /31")
	}
	if _, err := (Flows{Src: f.Src, Dst: f.Dst, Flows: 1, PacketsPerFlow: 1, Size: 63}).Packets(); err == nil {
		t.Error("size 63 accepted")
	}
	if p, err := ParsePrefix("10.0.0.9"); err != nil || p.Bits() != 32 {
		t.Errorf("ParsePrefix bare address: %v %v", p, err)
	}
}

func TestScanTag(t *testing.T) {
	b := make([]byte, 100)
	copy(b[3:], []byte{0x53, 0x54, 0x45, 0x52}) // a lone magic, no valid tag
	PutTag(b[41:], Tag{Flow: 5, Seq: 6})
	if tag, ok := ScanTag(b); !ok || tag != (Tag{5, 6}) {
		t.Fatalf("ScanTag %+v %v", tag, ok)
	}
	b[41+15]++
	if _, ok := ScanTag(b); ok {
		t.Fatal("corrupt tag accepted")
	}
}
