package arp

import (
	"bytes"
	"encoding/binary"
	"net"
	"net/netip"
	"strings"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

var (
	ourMAC  = net.HardwareAddr{0x02, 0, 0, 0, 0, 0x01}
	peerMAC = net.HardwareAddr{0x02, 0, 0, 0, 0, 0x02}
	ourIP   = netip.MustParseAddr("192.0.2.1")
	peerIP  = netip.MustParseAddr("192.0.2.2")
)

func mustParse(t *testing.T, f []byte) Packet {
	t.Helper()
	p, err := Parse(f)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// decode checks f with gopacket and returns its ARP layer.
func decode(t *testing.T, f []byte) (*layers.Ethernet, *layers.ARP) {
	t.Helper()
	pkt := gopacket.NewPacket(f, layers.LayerTypeEthernet, gopacket.Default)
	if el := pkt.ErrorLayer(); el != nil {
		t.Fatalf("gopacket: %v", el.Error())
	}
	eth, _ := pkt.Layer(layers.LayerTypeEthernet).(*layers.Ethernet)
	a, _ := pkt.Layer(layers.LayerTypeARP).(*layers.ARP)
	if eth == nil || a == nil {
		t.Fatalf("gopacket found no Ethernet/ARP in % x", f)
	}
	if a.AddrType != layers.LinkTypeEthernet || a.Protocol != layers.EthernetTypeIPv4 || a.HwAddressSize != 6 || a.ProtAddressSize != 4 {
		t.Fatalf("gopacket: not Ethernet/IPv4 ARP: %+v", a)
	}
	return eth, a
}

func TestRequestBroadcast(t *testing.T) {
	f := Request(ourMAC, ourIP, peerIP, nil)
	if len(f) != MinFrameLen {
		t.Fatalf("frame is %d bytes, want %d", len(f), MinFrameLen)
	}
	if !bytes.Equal(f[42:], make([]byte, 18)) {
		t.Fatal("padding is not zero")
	}
	p := mustParse(t, f)
	want := Packet{Op: OpRequest, SenderMAC: ourMAC, SenderIP: ourIP, TargetMAC: zeroMAC, TargetIP: peerIP, EthSrc: ourMAC, EthDst: Broadcast}
	if !equal(p, want) {
		t.Fatalf("got %+v\nwant %+v", p, want)
	}
	if p.IsGratuitous() || p.IsProbe() {
		t.Fatal("ordinary request taken for gratuitous or probe")
	}
	eth, a := decode(t, f)
	if eth.EthernetType != layers.EthernetTypeARP || !bytes.Equal(eth.DstMAC, Broadcast) || a.Operation != layers.ARPRequest ||
		!bytes.Equal(a.DstProtAddress, peerIP.AsSlice()) || !bytes.Equal(a.SourceHwAddress, ourMAC) {
		t.Fatalf("gopacket sees %+v %+v", eth, a)
	}
}

func TestRequestUnicastProbe(t *testing.T) {
	f := Request(ourMAC, ourIP, peerIP, peerMAC)
	p := mustParse(t, f)
	if !bytes.Equal(p.EthDst, peerMAC) {
		t.Fatalf("Ethernet dst %v, want the neighbour %v", p.EthDst, peerMAC)
	}
	// The ARP target MAC stays zero even when the Ethernet dst is known.
	if !bytes.Equal(p.TargetMAC, zeroMAC) || p.Op != OpRequest || p.TargetIP != peerIP {
		t.Fatalf("got %+v", p)
	}
	if len(f) != MinFrameLen {
		t.Fatalf("frame is %d bytes", len(f))
	}
}

func TestReply(t *testing.T) {
	req := mustParse(t, Request(peerMAC, peerIP, ourIP, nil))
	f, err := Reply(req, ourMAC)
	if err != nil {
		t.Fatal(err)
	}
	if len(f) != MinFrameLen {
		t.Fatalf("frame is %d bytes", len(f))
	}
	p := mustParse(t, f)
	want := Packet{Op: OpReply, SenderMAC: ourMAC, SenderIP: ourIP, TargetMAC: peerMAC, TargetIP: peerIP, EthSrc: ourMAC, EthDst: peerMAC}
	if !equal(p, want) {
		t.Fatalf("got %+v\nwant %+v", p, want)
	}
	_, a := decode(t, f)
	if a.Operation != layers.ARPReply || !bytes.Equal(a.DstHwAddress, peerMAC) || !bytes.Equal(a.SourceProtAddress, ourIP.AsSlice()) {
		t.Fatalf("gopacket sees %+v", a)
	}

	// The Ethernet dst is the requester's ARP sender MAC, not the frame's
	// Ethernet source (they differ behind a bridge doing proxy tricks).
	req.EthSrc = net.HardwareAddr{0x02, 9, 9, 9, 9, 9}
	f, _ = Reply(req, ourMAC)
	if got := mustParse(t, f).EthDst; !bytes.Equal(got, peerMAC) {
		t.Fatalf("Ethernet dst %v, want sender MAC %v", got, peerMAC)
	}
}

func TestReplyToProbe(t *testing.T) {
	// RFC 5227 probe: sender IP 0.0.0.0.
	req := mustParse(t, Request(peerMAC, netip.IPv4Unspecified(), ourIP, nil))
	if !req.IsProbe() || req.IsGratuitous() {
		t.Fatalf("probe not recognised: %+v", req)
	}
	f, err := Reply(req, ourMAC)
	if err != nil {
		t.Fatal(err)
	}
	p := mustParse(t, f)
	if p.TargetIP != netip.IPv4Unspecified() || !bytes.Equal(p.EthDst, peerMAC) || p.SenderIP != ourIP {
		t.Fatalf("got %+v", p)
	}
}

func TestReplyErrors(t *testing.T) {
	rep := mustParse(t, Request(peerMAC, peerIP, ourIP, nil))
	rep.Op = OpReply
	if _, err := Reply(rep, ourMAC); err == nil || !strings.Contains(err.Error(), "only requests") {
		t.Fatalf("reply to a reply: %v", err)
	}
	req := mustParse(t, Request(peerMAC, peerIP, ourIP, nil))
	if _, err := Reply(req, net.HardwareAddr{1, 2, 3}); err == nil {
		t.Fatal("short MAC accepted")
	}
	if _, err := Reply(Packet{Op: OpRequest}, ourMAC); err == nil {
		t.Fatal("empty request accepted")
	}
}

func TestGratuitous(t *testing.T) {
	f := Gratuitous(ourMAC, ourIP)
	if len(f) != MinFrameLen {
		t.Fatalf("frame is %d bytes", len(f))
	}
	p := mustParse(t, f)
	want := Packet{Op: OpRequest, SenderMAC: ourMAC, SenderIP: ourIP, TargetMAC: zeroMAC, TargetIP: ourIP, EthSrc: ourMAC, EthDst: Broadcast}
	if !equal(p, want) {
		t.Fatalf("got %+v\nwant %+v", p, want)
	}
	if !p.IsGratuitous() || p.IsProbe() {
		t.Fatal("announcement not recognised as gratuitous")
	}
	// The gratuitous reply form (sender IP == target IP in a reply) counts too.
	p.Op = OpReply
	if !p.IsGratuitous() {
		t.Fatal("gratuitous reply not recognised")
	}
	// A probe for 0.0.0.0 has sender == target but announces nothing.
	z := netip.IPv4Unspecified()
	if (Packet{Op: OpRequest, SenderIP: z, TargetIP: z}).IsGratuitous() {
		t.Fatal("0.0.0.0 taken for gratuitous")
	}
	if (Packet{}).IsGratuitous() || (Packet{}).IsProbe() {
		t.Fatal("zero Packet taken for gratuitous or probe")
	}
}

func TestParseDoesNotAlias(t *testing.T) {
	f := Request(peerMAC, peerIP, ourIP, nil)
	p := mustParse(t, f)
	for i := range f {
		f[i] = 0xee
	}
	if !bytes.Equal(p.SenderMAC, peerMAC) || !bytes.Equal(p.EthDst, Broadcast) || !bytes.Equal(p.EthSrc, peerMAC) || !bytes.Equal(p.TargetMAC, zeroMAC) {
		t.Fatalf("Packet changed with the frame: %+v", p)
	}
}

func TestParseUnpaddedAndLongFrames(t *testing.T) {
	f := Request(peerMAC, peerIP, ourIP, nil)
	if _, err := Parse(f[:42]); err != nil {
		t.Fatalf("42-byte frame (no padding): %v", err)
	}
	if _, err := Parse(append(f, 1, 2, 3, 4)); err != nil {
		t.Fatalf("frame with trailer: %v", err)
	}
}

func TestParseRejects(t *testing.T) {
	good := Request(peerMAC, peerIP, ourIP, nil)
	mod := func(f func(b []byte) []byte) []byte { return f(append([]byte(nil), good...)) }
	cases := []struct {
		name, want string
		frame      []byte
	}{
		{"empty", "shorter than an Ethernet header", nil},
		{"13 bytes", "shorter than an Ethernet header", good[:13]},
		{"IPv4 ethertype", "is not ARP", mod(func(b []byte) []byte { b[12], b[13] = 0x08, 0x00; return b })},
		{"VLAN tag", "is not ARP", mod(func(b []byte) []byte { b[12], b[13] = 0x81, 0x00; return b })},
		{"header only", "truncated", good[:14]},
		{"41 bytes", "truncated", good[:41]},
		{"htype 6", "hardware type 6", mod(func(b []byte) []byte { b[15] = 6; return b })},
		{"ptype IPv6", "protocol type 0x86dd", mod(func(b []byte) []byte { binary.BigEndian.PutUint16(b[16:], 0x86dd); return b })},
		{"hlen 8", "hardware address length 8", mod(func(b []byte) []byte { b[18] = 8; return b })},
		{"plen 16", "protocol address length 16", mod(func(b []byte) []byte { b[19] = 16; return b })},
		{"op 0", "operation 0", mod(func(b []byte) []byte { b[20], b[21] = 0, 0; return b })},
		{"op 3 (RARP)", "operation 3", mod(func(b []byte) []byte { b[21] = 3; return b })},
		{"op 0x0101", "operation 257", mod(func(b []byte) []byte { b[20] = 1; return b })},
	}
	for _, c := range cases {
		_, err := Parse(c.frame)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err %v, want one mentioning %q", c.name, err, c.want)
		}
	}
}

func TestBuildPanicsOnBadArguments(t *testing.T) {
	for name, f := range map[string]func(){
		"short MAC":   func() { Request(net.HardwareAddr{1}, ourIP, peerIP, nil) },
		"IPv6 source": func() { Request(ourMAC, netip.MustParseAddr("::1"), peerIP, nil) },
		"zero target": func() { Request(ourMAC, ourIP, netip.Addr{}, nil) },
		"bad dst":     func() { Request(ourMAC, ourIP, peerIP, net.HardwareAddr{}) },
		"gratuitous":  func() { Gratuitous(ourMAC, netip.Addr{}) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			f()
		}()
	}
}

func equal(a, b Packet) bool {
	return a.Op == b.Op && a.SenderIP == b.SenderIP && a.TargetIP == b.TargetIP &&
		bytes.Equal(a.SenderMAC, b.SenderMAC) && bytes.Equal(a.TargetMAC, b.TargetMAC) &&
		bytes.Equal(a.EthSrc, b.EthSrc) && bytes.Equal(a.EthDst, b.EthDst)
}

func FuzzParse(f *testing.F) {
	f.Add(Request(ourMAC, ourIP, peerIP, nil))
	f.Add(Gratuitous(ourMAC, ourIP))
	f.Add(Request(ourMAC, ourIP, peerIP, nil)[:41])
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := Parse(b)
		if err != nil {
			return
		}
		if len(b) < 42 || (p.Op != OpRequest && p.Op != OpReply) || !p.SenderIP.Is4() || !p.TargetIP.Is4() {
			t.Fatalf("accepted %+v from %d bytes", p, len(b))
		}
		p.IsGratuitous()
		p.IsProbe()
		if p.Op == OpRequest {
			r, err := Reply(p, ourMAC)
			if err != nil {
				t.Fatal(err)
			}
			q, err := Parse(r)
			if err != nil || q.Op != OpReply || q.SenderIP != p.TargetIP || q.TargetIP != p.SenderIP || !bytes.Equal(q.TargetMAC, p.SenderMAC) {
				t.Fatalf("reply %+v (%v) to %+v", q, err, p)
			}
		}
	})
}
