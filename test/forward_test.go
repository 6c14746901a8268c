package e2e

import (
	"net"
	"net/netip"
	"testing"

	"github.com/steer-router/steer/pkg/trafgen"
)

var (
	lanHost  = netip.MustParseAddr("10.0.0.2")
	lanHosts = netip.MustParsePrefix("10.0.0.128/25")
	remote   = netip.MustParsePrefix("198.51.100.0/24")
)

// gen builds a flow set, failing the test on error.
func gen(t *testing.T, f trafgen.Flows) [][]byte {
	t.Helper()
	fr, err := f.Frames()
	if err != nil {
		t.Fatal(err)
	}
	return fr
}

// build builds packets, failing the test on error.
func build(t *testing.T, ps []trafgen.Packet) [][]byte {
	t.Helper()
	fr, err := trafgen.BuildAll(ps)
	if err != nil {
		t.Fatal(err)
	}
	return fr
}

// interleave merges lists round robin, keeping each list's order.
func interleave(lists ...[][]byte) [][]byte {
	var out [][]byte
	for i := 0; ; i++ {
		added := false
		for _, l := range lists {
			if i < len(l) {
				out = append(out, l[i])
				added = true
			}
		}
		if !added {
			return out
		}
	}
}

func checkNoDropsOrSlow(t *testing.T, s *Stats) {
	t.Helper()
	for r, n := range s.Totals.Dropped {
		if n != 0 {
			t.Errorf("dropped[%s] = %d, want 0", r, n)
		}
	}
	for r, n := range s.Totals.SlowPath {
		if n != 0 {
			t.Errorf("slowpath[%s] = %d, want 0", r, n)
		}
	}
}

// checkAllForwarded: the two ports kept their MACs, every packet sent in
// (lanIn on lan, wanIn on wan) was forwarded to the other port, and nothing
// was dropped or handed to the slow path.
func checkAllForwarded(t *testing.T, b *Bed, s *Stats, lanMAC, wanMAC net.HardwareAddr, lanIn, wanIn int) {
	t.Helper()
	CheckMACs(t, s, map[string]net.HardwareAddr{"lan": lanMAC, "wan": wanMAC})
	total := uint64(lanIn + wanIn)
	if s.Totals.RxPackets != total || s.Totals.TxPackets != total {
		t.Errorf("totals: rx %d tx %d, want %d forwarded", s.Totals.RxPackets, s.Totals.TxPackets, total)
	}
	checkNoDropsOrSlow(t, s)
	checkPort(t, b, s, "lan", lanIn, wanIn)
	checkPort(t, b, s, "wan", wanIn, lanIn)
}

// checkOutputs: wan-out.pcap holds exactly toWan (what was sent into lan
// to be forwarded) and lan-out.pcap exactly toLan, each packet rewritten
// (egress MACs, TTL-1, valid checksum, bytes otherwise unchanged) and every
// flow in order.
func checkOutputs(t *testing.T, b *Bed, lanMAC, wanMAC net.HardwareAddr, toWanFrames, toLanFrames [][]byte) {
	t.Helper()
	checkOutputFrames(t, b.ReadForwarded("wan-out.pcap"), b.ReadForwarded("lan-out.pcap"), lanMAC, wanMAC, toWanFrames, toLanFrames)
}

// checkOutputFrames is checkOutputs on frames already read.
func checkOutputFrames(t *testing.T, wanOut, lanOut [][]byte, lanMAC, wanMAC net.HardwareAddr, toWanFrames, toLanFrames [][]byte) {
	t.Helper()
	if len(wanOut) != len(toWanFrames) || len(lanOut) != len(toLanFrames) {
		t.Errorf("output: wan-out %d frames (want %d), lan-out %d (want %d)", len(wanOut), len(toWanFrames), len(lanOut), len(toLanFrames))
	}
	toWan, toLan := NewIndex(t, toWanFrames), NewIndex(t, toLanFrames)
	CheckAllSeen(t, "wan-out", CheckForwarded(t, "wan-out", wanOut, toWan, Expect{SrcMAC: wanMAC, DstMAC: WanPeerMAC}), toWan)
	CheckAllSeen(t, "lan-out", CheckForwarded(t, "lan-out", lanOut, toLan, Expect{SrcMAC: lanMAC, DstMAC: LanHostMAC}), toLan)
}

// checkPort compares a port's ethdev counters with what was sent to it and
// what it must have transmitted.
func checkPort(t *testing.T, b *Bed, s *Stats, name string, rx, tx int) {
	t.Helper()
	p := s.Port(t, name)
	p.TxPackets -= uint64(b.ControlFrames(name)) // what the router itself sent
	if p.RxPackets != uint64(rx) || p.TxPackets != uint64(tx) {
		t.Errorf("port %s: rx %d tx %d, want rx %d tx %d (rx_missed %d rx_nombuf %d rx_errors %d tx_errors %d)",
			name, p.RxPackets, p.TxPackets, rx, tx, p.RxMissed, p.RxNoMbuf, p.RxErrors, p.TxErrors)
	}
	if p.Driver != "net_pcap" {
		t.Errorf("port %s: driver %q, want net_pcap", name, p.Driver)
	}
}

// TestIdleExitEmpty: with nothing to read, --exit-on-idle stops steer
// cleanly, the stats are all zero and the output pcaps exist and are empty.
func TestIdleExitEmpty(t *testing.T) {
	b := NewBed(t)
	b.WritePcap("lan-in.pcap", nil)
	b.WritePcap("wan-in.pcap", nil)
	s := b.Forward(Standard())
	if s.Totals.RxPackets != 0 || s.Totals.TxPackets != 0 {
		t.Errorf("rx %d tx %d from empty inputs", s.Totals.RxPackets, s.Totals.TxPackets)
	}
	checkNoDropsOrSlow(t, s)
	if len(s.Ports) != 2 || s.Ports[0].Name != "lan" || s.Ports[0].PortID != 0 || s.Ports[1].Name != "wan" || s.Ports[1].PortID != 1 {
		t.Errorf("ports: %+v", s.Ports)
	}
	for _, p := range s.Ports {
		if p.RxQueues != 1 || p.TxQueues != 1 {
			t.Errorf("port %s: %d rx / %d tx queues, want 1/1", p.Name, p.RxQueues, p.TxQueues)
		}
	}
	if len(s.Lcores) != 1 || s.Lcores[0].Lcore != 1 {
		t.Errorf("lcores: %+v", s.Lcores)
	}
	for _, f := range []string{"lan-out.pcap", "wan-out.pcap"} {
		if n := len(b.ReadForwarded(f)); n != 0 {
			t.Errorf("%s: %d frames from empty inputs", f, n)
		}
	}
}

// TestForwardBothWays: many UDP, TCP and ICMP flows of mixed sizes (up to
// a 1500-byte IP packet), TTLs down to 2, DF and fragments, lan -> wan and
// wan -> lan. Every packet leaves on the right port, rewritten exactly as
// a router must (MACs, TTL - 1, checksum), otherwise byte-identical, with
// each flow in order.
func TestForwardBothWays(t *testing.T) {
	lanMAC, wanMAC := PortMACs(t)
	b := NewBed(t)

	lanIn := interleave(
		gen(t, trafgen.Flows{SrcMAC: LanHostMAC, DstMAC: lanMAC, Src: lanHosts, Dst: remote, Flows: 100,
			PacketsPerFlow: 20, Proto: trafgen.UDP, TTL: 64, Mix: "imix", Order: "random", Seed: 1}),
		gen(t, trafgen.Flows{SrcMAC: LanHostMAC, DstMAC: lanMAC, Src: lanHosts, Dst: remote, Flows: 100,
			PacketsPerFlow: 20, FirstFlow: 100, Proto: trafgen.TCP, TTL: 2, Size: 200, Order: "random", Seed: 2}),
		build(t, fragmentsAndDF(LanHostMAC, lanMAC, lanHost, netip.MustParseAddr("198.51.100.200"), 400)),
	)
	wanIn := interleave(
		gen(t, trafgen.Flows{SrcMAC: WanPeerMAC, DstMAC: wanMAC, Src: remote, Dst: netip.PrefixFrom(lanHost, 32),
			Flows: 100, PacketsPerFlow: 20, FirstFlow: 1000, Proto: trafgen.UDP, TTL: 64, Size: 64, Seed: 3}),
		gen(t, trafgen.Flows{SrcMAC: WanPeerMAC, DstMAC: wanMAC, Src: remote, Dst: netip.PrefixFrom(lanHost, 32),
			Flows: 100, PacketsPerFlow: 20, FirstFlow: 1100, Proto: trafgen.TCP, TTL: 128, Mix: "imix", Order: "random", Seed: 4}),
		gen(t, trafgen.Flows{SrcMAC: WanPeerMAC, DstMAC: wanMAC, Src: remote, Dst: netip.PrefixFrom(lanHost, 32),
			Flows: 10, PacketsPerFlow: 20, FirstFlow: 1200, Proto: trafgen.ICMP, TTL: 255, Size: 98, Seed: 5}),
	)
	b.WritePcap("lan-in.pcap", lanIn)
	b.WritePcap("wan-in.pcap", wanIn)

	s := b.Forward(Standard())
	checkAllForwarded(t, b, s, lanMAC, wanMAC, len(lanIn), len(wanIn))

	checkOutputs(t, b, lanMAC, wanMAC, lanIn, wanIn)
}

// fragmentsAndDF: 10 flows of 5 fragments of one datagram each (first
// fragment with MF, then offsets > 0; the router must forward them as
// they are) and a flow with DF set, flow ids from first.
func fragmentsAndDF(srcMAC, dstMAC net.HardwareAddr, src, dst netip.Addr, first uint32) []trafgen.Packet {
	var ps []trafgen.Packet
	for f := uint32(0); f < 11; f++ {
		for k := 0; k < 5; k++ {
			p := trafgen.Packet{SrcMAC: srcMAC, DstMAC: dstMAC, Src: src, Dst: dst, Proto: trafgen.UDP,
				SrcPort: 4000, DstPort: 4001, TTL: 30, ID: uint16(f + 77), Tag: trafgen.Tag{Flow: first + f, Seq: uint32(k)},
				FrameLen: 250}
			if f < 10 {
				p.MF = k < 4
				p.FragOffset = uint16(k * 27) // 216 bytes per fragment payload
			} else {
				p.DF = true
			}
			ps = append(ps, p)
		}
	}
	return ps
}
