package e2e

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// TestSlowPathFrameBuilders checks the slow-path tests' own tools without
// steer: the frames they build carry the checksums gopacket computes for
// the same headers, and the checkers accept answers built as RFC 792/1812
// want them (so a failure of the e2e tests is steer's, not theirs).
func TestSlowPathFrameBuilders(t *testing.T) {
	lanMAC := []byte{0x02, 0x10, 0x20, 0x30, 0x40, 0x50}
	reser := func(f []byte) []byte {
		p := gopacket.NewPacket(f, layers.LayerTypeEthernet, gopacket.Default)
		if e := p.ErrorLayer(); e != nil {
			t.Fatalf("gopacket: %v", e.Error())
		}
		var ls []gopacket.SerializableLayer
		var ip *layers.IPv4
		for _, l := range p.Layers() {
			switch x := l.(type) {
			case *layers.IPv4:
				ip = x
			case *layers.UDP:
				_ = x.SetNetworkLayerForChecksum(ip)
			case *layers.TCP:
				_ = x.SetNetworkLayerForChecksum(ip)
			}
			if s, ok := l.(gopacket.SerializableLayer); ok {
				ls = append(ls, s)
			}
		}
		buf := gopacket.NewSerializeBuffer()
		if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{ComputeChecksums: true}, ls...); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	for name, f := range map[string][]byte{
		"udp":  ether(lanMAC, LanHostMAC, 0x0800, ipv4Pkt("10.0.0.2", "198.51.100.7", protoUDP, 1, 7, 0, udpSeg("10.0.0.2", "198.51.100.7", 1, 2, 101))),
		"tcp":  ether(lanMAC, LanHostMAC, 0x0800, ipv4Pkt("10.0.0.2", "10.0.0.1", protoTCP, 64, 8, 0x4000, tcpSyn("10.0.0.2", "10.0.0.1", 3, 4))),
		"echo": ether(lanMAC, LanHostMAC, 0x0800, ipv4Pkt("10.0.0.2", "10.0.0.1", protoICMP, 64, 9, 0, icmpMsg(8, 0, 0x10002, echoData(2, 57)))),
	} {
		if again := reser(f); !bytes.Equal(again, f[:len(again)]) {
			t.Errorf("%s: built % x\ngopacket % x", name, f, again)
		}
	}
	a := decodeOut("lan", 0, arpFrame(LanHostMAC, lanMAC, 2, lanMAC, "10.0.0.1", LanHostMAC, "10.0.0.2"))
	if len(a.Problems) > 0 || a.ARP == nil || a.ARP.Op != 2 || a.ARP.SPA.String() != "10.0.0.1" || a.ARP.TPA.String() != "10.0.0.2" ||
		!bytes.Equal(a.ARP.SHA, lanMAC) || !bytes.Equal(a.ARP.THA, LanHostMAC) {
		t.Errorf("ARP decode: %s %v", a, a.Problems)
	}

	// A model time exceeded about a 1400-byte packet and a model echo reply
	// pass the checkers.
	orig := ipv4Pkt("10.0.0.2", "198.51.100.7", protoUDP, 1, 0x102, 0, udpSeg("10.0.0.2", "198.51.100.7", 1, 2, 1372))
	errIP := ipv4Pkt("10.0.0.1", "10.0.0.2", protoICMP, 64, 1, 0, icmpMsg(icmpTimeExceeded, 0, 0, orig[:548]))
	f := decodeOut("lan", 1, ether(LanHostMAC, lanMAC, 0x0800, errIP))
	if len(f.IP) != 576 || !f.IsICMPError() || f.QuotedID() != 0x102 {
		t.Fatalf("model error: %s", f)
	}
	checkICMPError(t, "model", f, icmpErr{Type: icmpTimeExceeded, Src: "10.0.0.1", Dst: "10.0.0.2", SrcMAC: lanMAC, DstMAC: LanHostMAC, Orig: orig})
	req := ipv4Pkt("10.0.0.2", "10.0.0.1", protoICMP, 64, 5, 0, icmpMsg(icmpEchoRequest, 0, 0x4d20001, echoData(1, 0)))
	rep := append([]byte(nil), req...)
	copy(rep[12:], req[16:20])
	copy(rep[16:], req[12:16])
	binary.BigEndian.PutUint16(rep[10:], ipHdrCksum(rep[:20]))
	rep = append(rep[:20], icmpMsg(icmpEchoReply, 0, 0x4d20001, nil)...)
	checkEchoReply(t, "model", decodeOut("lan", 2, ether(LanHostMAC, lanMAC, 0x0800, rep)), req, "10.0.0.1", lanMAC, LanHostMAC)
	if g := decodeOut("lan", 3, arpFrame([]byte{255, 255, 255, 255, 255, 255}, lanMAC, 1, lanMAC, "10.0.0.1", nil, "10.0.0.1")); !isGratuitous(g) {
		t.Errorf("gratuitous ARP not recognised: %s", g)
	}
}
