package e2e

import (
	"fmt"
	"net"
	"net/netip"
	"testing"

	"github.com/steer-router/steer/pkg/trafgen"
)

// TestMultiQueueTxSelection: lan and wan each have 2 RX queues (two
// rx_pcap files) and lcores 1 and 2 (both on CPU 1) poll queue 0 and queue
// 1 of both ports. A packet must leave on TX queue (its RX queue) %
// (egress tx_queues): with 2 TX queues, what came in on queue q leaves in
// tx file q; with 1 TX queue on wan, everything to wan leaves in file 0.
func TestMultiQueueTxSelection(t *testing.T) {
	for _, wanTx := range []int{2, 1} {
		t.Run(fmt.Sprintf("wan_tx_queues_%d", wanTx), func(t *testing.T) { multiQueue(t, wanTx) })
	}
}

func multiQueue(t *testing.T, wanTx int) {
	lanMAC, wanMAC := PortMACs(t)
	b := NewBed(t)
	c := Config{
		Lcores: "0@0,1@1,2@1",
		Ports: []Port{
			{Name: "lan", RxFiles: []string{"lan-in0.pcap", "lan-in1.pcap"}, TxFiles: []string{"lan-out0.pcap", "lan-out1.pcap"},
				Addresses: []string{"10.0.0.1/24"}},
			{Name: "wan", RxFiles: []string{"wan-in0.pcap", "wan-in1.pcap"}, TxFiles: []string{"wan-out0.pcap", "wan-out1.pcap"}[:wanTx],
				Addresses: []string{"203.0.113.1/24"}},
		},
		LcoreMap: []LcoreMap{
			{Lcore: 1, Rx: []RxQ{{"lan", 0}, {"wan", 0}}},
			{Lcore: 2, Rx: []RxQ{{"lan", 1}, {"wan", 1}}},
		},
		Routes:    Standard().Routes,
		Neighbors: Standard().Neighbors,
	}
	lanIn := [2][][]byte{}
	wanIn := [2][][]byte{}
	for q := 0; q < 2; q++ {
		lanIn[q] = gen(t, trafgen.Flows{SrcMAC: LanHostMAC, DstMAC: lanMAC, Src: lanHosts, Dst: remote,
			Flows: 50, PacketsPerFlow: 20 + 5*q, FirstFlow: uint32(100 * q), TTL: 64, Mix: "imix", Order: "random", Seed: uint64(10 + q)})
		wanIn[q] = gen(t, trafgen.Flows{SrcMAC: WanPeerMAC, DstMAC: wanMAC, Src: remote, Dst: netip.PrefixFrom(lanHost, 32),
			Flows: 50, PacketsPerFlow: 20 + 5*q, FirstFlow: uint32(1000 + 100*q), TTL: 64, Proto: trafgen.TCP, Size: 64, Seed: uint64(20 + q)})
		b.WritePcap(fmt.Sprintf("lan-in%d.pcap", q), lanIn[q])
		b.WritePcap(fmt.Sprintf("wan-in%d.pcap", q), wanIn[q])
	}

	s := b.Forward(c)
	CheckMACs(t, s, map[string]net.HardwareAddr{"lan": lanMAC, "wan": wanMAC})
	checkNoDropsOrSlow(t, s)
	nLan, nWan := len(lanIn[0])+len(lanIn[1]), len(wanIn[0])+len(wanIn[1])
	checkPort(t, b, s, "lan", nLan, nWan)
	checkPort(t, b, s, "wan", nWan, nLan)
	if p := s.Port(t, "wan"); p.RxQueues != 2 || p.TxQueues != wanTx {
		t.Errorf("wan: %d rx / %d tx queues, want 2/%d", p.RxQueues, p.TxQueues, wanTx)
	}
	// Each lcore received exactly its queues' packets and forwarded them.
	if len(s.Lcores) != 2 {
		t.Fatalf("want 2 lcores in the stats, got %+v", s.Lcores)
	}
	for _, l := range s.Lcores {
		q := l.Lcore - 1
		if q < 0 || q > 1 {
			t.Errorf("unexpected lcore %d", l.Lcore)
			continue
		}
		want := uint64(len(lanIn[q]) + len(wanIn[q]))
		if l.RxPackets != want || l.TxPackets != want {
			t.Errorf("lcore %d: rx %d tx %d, want %d (queue %d of both ports)", l.Lcore, l.RxPackets, l.TxPackets, want, q)
		}
	}

	// lan has 2 TX queues: wan RX queue q -> lan TX file q.
	for q := 0; q < 2; q++ {
		name := fmt.Sprintf("lan-out%d", q)
		want := NewIndex(t, wanIn[q])
		out := b.ReadForwarded(name + ".pcap")
		if len(out) != len(wanIn[q]) {
			t.Errorf("%s: %d frames, want the %d of wan rx queue %d", name, len(out), len(wanIn[q]), q)
		}
		CheckAllSeen(t, name, CheckForwarded(t, name, out, want, Expect{SrcMAC: lanMAC, DstMAC: LanHostMAC}), want)
	}
	// wan: 2 TX queues as lan; 1 TX queue: both lan RX queues -> file 0.
	if wanTx == 2 {
		for q := 0; q < 2; q++ {
			name := fmt.Sprintf("wan-out%d", q)
			want := NewIndex(t, lanIn[q])
			out := b.ReadForwarded(name + ".pcap")
			if len(out) != len(lanIn[q]) {
				t.Errorf("%s: %d frames, want the %d of lan rx queue %d", name, len(out), len(lanIn[q]), q)
			}
			CheckAllSeen(t, name, CheckForwarded(t, name, out, want, Expect{SrcMAC: wanMAC, DstMAC: WanPeerMAC}), want)
		}
	} else {
		want := NewIndex(t, lanIn[0], lanIn[1])
		out := b.ReadForwarded("wan-out0.pcap")
		if len(out) != nLan {
			t.Errorf("wan-out0: %d frames, want all %d from both lan rx queues", len(out), nLan)
		}
		CheckAllSeen(t, "wan-out0", CheckForwarded(t, "wan-out0", out, want, Expect{SrcMAC: wanMAC, DstMAC: WanPeerMAC}), want)
	}
}
