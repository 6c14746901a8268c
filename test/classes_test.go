package e2e

import (
	"net"
	"net/netip"
	"testing"

	"github.com/steer-router/steer/pkg/trafgen"
)

// class is a group of packets that steer must count under one reason and
// never forward.
type class struct {
	reason string
	slow   bool // slow-path reason, else a drop reason
	port   string
	pkts   []trafgen.Packet
}

var ip = netip.MustParseAddr

// TestDropAndSlowPathClasses sends, mixed with good traffic on both ports,
// packets of every drop and slow-path class of the contract (several
// variants each, a different count per reason) and checks that each
// reason counts exactly what was sent, that none of them is forwarded, and
// that the good traffic still is.
func TestDropAndSlowPathClasses(t *testing.T) {
	lanMAC, wanMAC := PortMACs(t)
	b := NewBed(t)

	flow := uint32(5000) // class packets use flows 5000+, one per packet
	// lan: a valid UDP packet from 10.0.0.2 to 198.51.100.7, then mod.
	lan := func(mod func(p *trafgen.Packet)) trafgen.Packet {
		flow++
		p := trafgen.Packet{SrcMAC: LanHostMAC, DstMAC: lanMAC, Src: lanHost, Dst: ip("198.51.100.7"),
			Proto: trafgen.UDP, SrcPort: 3333, DstPort: 53, TTL: 64, ID: uint16(flow), Tag: trafgen.Tag{Flow: flow}}
		mod(&p)
		return p
	}
	wan := func(mod func(p *trafgen.Packet)) trafgen.Packet {
		flow++
		p := trafgen.Packet{SrcMAC: WanPeerMAC, DstMAC: wanMAC, Src: ip("198.51.100.9"), Dst: lanHost,
			Proto: trafgen.UDP, SrcPort: 3333, DstPort: 53, TTL: 64, ID: uint16(flow), Tag: trafgen.Tag{Flow: flow}}
		mod(&p)
		return p
	}
	dst := func(a string) func(*trafgen.Packet) { return func(p *trafgen.Packet) { p.Dst = ip(a) } }
	src := func(a string) func(*trafgen.Packet) { return func(p *trafgen.Packet) { p.Src = ip(a) } }
	malform := func(name string) func(*trafgen.Packet) {
		return func(p *trafgen.Packet) {
			if err := trafgen.Malform(p, name); err != nil {
				t.Fatal(err)
			}
		}
	}
	all := func(mods ...func(*trafgen.Packet)) func(*trafgen.Packet) {
		return func(p *trafgen.Packet) {
			for _, m := range mods {
				m(p)
			}
		}
	}
	bcast := func(p *trafgen.Packet) { p.DstMAC = trafgen.BroadcastMAC() }
	mcastMAC := func(p *trafgen.Packet) { p.DstMAC = net.HardwareAddr{0x01, 0x00, 0x5e, 0, 0, 0x01} }
	ttl := func(n uint8) func(*trafgen.Packet) { return func(p *trafgen.Packet) { p.TTL = n } }
	version := func(v uint8) func(*trafgen.Packet) { return func(p *trafgen.Packet) { p.Version = v } }
	ihl := func(v uint8) func(*trafgen.Packet) { return func(p *trafgen.Packet) { p.IHL = v } }
	totalLen := func(v uint16) func(*trafgen.Packet) { return func(p *trafgen.Packet) { p.TotalLen = v } }
	truncate := func(n int) func(*trafgen.Packet) { return func(p *trafgen.Packet) { p.Truncate = n } }
	frameLen := func(n int) func(*trafgen.Packet) { return func(p *trafgen.Packet) { p.FrameLen = n } }
	icmp := func(p *trafgen.Packet) { p.Proto = trafgen.ICMP }
	arpReply := func(p *trafgen.Packet) { p.ARPOp = 2 }
	many := func(n int, mod func(*trafgen.Packet)) []trafgen.Packet {
		var ps []trafgen.Packet
		for i := 0; i < n; i++ {
			ps = append(ps, lan(mod))
		}
		return ps
	}
	L := func(mods ...func(*trafgen.Packet)) []trafgen.Packet {
		var ps []trafgen.Packet
		for _, m := range mods {
			ps = append(ps, lan(m))
		}
		return ps
	}
	W := func(mods ...func(*trafgen.Packet)) []trafgen.Packet {
		var ps []trafgen.Packet
		for _, m := range mods {
			ps = append(ps, wan(m))
		}
		return ps
	}

	classes := []class{
		// drops
		{"unknown_ethertype", false, "lan", L(malform("ipv6"), all(malform("ipv6"), func(p *trafgen.Packet) { p.Proto = trafgen.TCP }), malform("vlan"))},
		{"runt", false, "lan", L(truncate(30), truncate(33), truncate(20), truncate(13))},
		{"bad_version", false, "lan", L(version(6), version(5), version(1), version(15), version(7))},
		{"bad_ihl", false, "lan", L(ihl(4), ihl(1))},
		{"bad_checksum", false, "lan", many(6, malform("bad_checksum"))},
		{"bad_length", false, "lan", L(totalLen(0xffff), totalLen(19), totalLen(47))}, // 60-byte frame: 46 bytes of IP
		{"martian_source", false, "lan", L(src("0.1.2.3"), src("127.0.0.1"), src("224.0.0.1"), src("240.0.0.1"), src("255.255.255.255"))},
		{"martian_destination", false, "lan", L(dst("0.0.0.7"), dst("127.0.0.1"), dst("240.1.2.3"), dst("255.255.255.254"))},
		{"l2_other_host", false, "lan", L(func(p *trafgen.Packet) { p.DstMAC = StrangerMAC }, func(p *trafgen.Packet) { p.DstMAC = StrangerMAC })},
		{"link_broadcast", false, "lan", L(bcast, bcast, mcastMAC, all(bcast, dst("192.0.2.1")))},
		{"multicast", false, "lan", L(dst("224.0.0.5"), dst("239.1.2.3"), dst("230.0.0.1"))},
		// slow path
		{"arp", true, "lan", L(all(malform("arp"), bcast, dst("10.0.0.1")), all(arpReply, dst("10.0.0.1")), all(malform("arp"), dst("10.0.0.77")))},
		{"local", true, "lan", L(dst("10.0.0.1"), all(icmp, dst("203.0.113.1")), all(bcast, dst("255.255.255.255")),
			dst("255.255.255.255"), all(dst("10.0.0.1"), ttl(1)))},
		{"broadcast", true, "lan", L(dst("10.0.0.255"), dst("10.0.0.0"), dst("203.0.113.255"))},
		{"ttl_exceeded", true, "lan", L(ttl(1), ttl(1), ttl(1), ttl(0), ttl(0))},
		{"ttl_exceeded", true, "wan", W(ttl(1))},
		{"no_route", true, "lan", L(dst("192.0.2.1"), dst("8.8.8.8"), dst("100.64.0.1"), dst("198.18.0.1"), dst("172.16.0.1"), dst("11.0.0.1"))},
		{"no_route", true, "wan", W(dst("192.0.2.99"))},
		{"ip_options", true, "lan", L(malform("ip_options"), all(malform("ip_options"), frameLen(300)))},
		{"fragmentation_needed", true, "lan", L(frameLen(1515), frameLen(1614), all(frameLen(1814), func(p *trafgen.Packet) { p.DF = true }))},
		{"unresolved", true, "wan", W(dst("10.0.0.3"), dst("10.0.0.200"), dst("10.0.0.77"))},
	}

	// Good traffic both ways, with the class packets spread through it.
	goodLan := gen(t, trafgen.Flows{SrcMAC: LanHostMAC, DstMAC: lanMAC, Src: lanHosts, Dst: remote,
		Flows: 20, PacketsPerFlow: 10, TTL: 64, Mix: "imix", Seed: 7})
	goodWan := gen(t, trafgen.Flows{SrcMAC: WanPeerMAC, DstMAC: wanMAC, Src: remote, Dst: netip.PrefixFrom(lanHost, 32),
		Flows: 20, PacketsPerFlow: 10, FirstFlow: 1000, TTL: 64, Proto: trafgen.TCP, Size: 128, Seed: 8})
	var badLan, badWan [][]byte
	wantDrop, wantSlow := map[string]uint64{}, map[string]uint64{}
	for _, c := range classes {
		frames := build(t, c.pkts)
		if c.port == "lan" {
			badLan = append(badLan, frames...)
		} else {
			badWan = append(badWan, frames...)
		}
		if c.slow {
			wantSlow[c.reason] += uint64(len(frames))
		} else {
			wantDrop[c.reason] += uint64(len(frames))
		}
	}
	lanIn, wanIn := spread(goodLan, badLan), spread(goodWan, badWan)
	b.WritePcap("lan-in.pcap", lanIn)
	b.WritePcap("wan-in.pcap", wanIn)

	s := b.Forward(Standard())
	CheckMACs(t, s, map[string]net.HardwareAddr{"lan": lanMAC, "wan": wanMAC})
	for _, r := range DropReasons {
		if got := s.Totals.Dropped[r]; got != wantDrop[r] {
			t.Errorf("dropped[%s] = %d, sent %d", r, got, wantDrop[r])
		}
	}
	for _, r := range SlowReasons {
		if got := s.Totals.SlowPath[r]; got != wantSlow[r] {
			t.Errorf("slowpath[%s] = %d, sent %d", r, got, wantSlow[r])
		}
	}
	good := uint64(len(goodLan) + len(goodWan))
	if s.Totals.RxPackets != uint64(len(lanIn)+len(wanIn)) || s.Totals.TxPackets != good {
		t.Errorf("totals: rx %d tx %d, want rx %d tx %d", s.Totals.RxPackets, s.Totals.TxPackets, len(lanIn)+len(wanIn), good)
	}
	// The slow path forwards what it can of its share: the packets with
	// IP options (unchanged but for TTL and checksum) and, split to the
	// MTU, the two oversized packets without DF. The rest of the class
	// packets never come out (ICMP and ARP answers are control frames).
	wanOut, soft := splitClassFrames(b.ReadForwarded("wan-out.pcap"))
	lanOut, softLan := splitClassFrames(b.ReadForwarded("lan-out.pcap"))
	if len(softLan) != 0 {
		t.Errorf("lan-out: %d class packets came out, want none", len(softLan))
	}
	var options, fragments int
	for _, f := range soft {
		in, err := trafgen.Parse(f)
		switch {
		case err != nil:
			t.Errorf("wan-out: slow-path frame does not parse: %v", err)
		case in.IHL > 5 && in.TTL == 63:
			options++
		case in.MF || in.FragOffset > 0:
			fragments++
			if in.TotalLen > 1500 {
				t.Errorf("wan-out: fragment of %d bytes exceeds the MTU", in.TotalLen)
			}
		default:
			t.Errorf("wan-out: class packet forwarded: % x", f[:min(48, len(f))])
		}
	}
	if options != 2 || fragments != 4 {
		t.Errorf("slow path forwarded %d packets with options (want 2) and %d fragments (want 4, two per oversized packet)", options, fragments)
	}
	// soft_forwarded also counts the 3 unresolved packets queued for ARP.
	if s.SlowPath == nil || s.SlowPath.SoftForwarded != 7 || s.SlowPath.Fragmented != 2 {
		t.Errorf("slow_path counters: %+v, want soft_forwarded 7, fragmented 2", s.SlowPath)
	}
	checkPort(t, b, s, "lan", len(lanIn), len(goodWan))
	checkPort(t, b, s, "wan", len(wanIn), len(goodLan)+len(soft))

	// All the good packets come out, rewritten and in order.
	checkOutputFrames(t, wanOut, lanOut, lanMAC, wanMAC, goodLan, goodWan)
}

// splitClassFrames separates the good traffic (flows below 5000) from the
// class packets (flows 5000+, or fragments that carry no tag).
func splitClassFrames(frames [][]byte) (good, class [][]byte) {
	for _, f := range frames {
		if tag, ok := trafgen.ScanTag(f); ok && tag.Flow < 5000 {
			good = append(good, f)
		} else {
			class = append(class, f)
		}
	}
	return good, class
}

// spread inserts the bad frames evenly among the good ones.
func spread(good, bad [][]byte) [][]byte {
	out := make([][]byte, 0, len(good)+len(bad))
	step := len(good)/(len(bad)+1) + 1
	for i, g := range good {
		if i%step == 0 && len(bad) > 0 {
			out = append(out, bad[0])
			bad = bad[1:]
		}
		out = append(out, g)
	}
	return append(out, bad...)
}
