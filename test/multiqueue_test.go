package e2e

import (
	"fmt"
	"net"
	"net/netip"
	"testing"

	"github.com/steer-router/steer/pkg/trafgen"
)

// TestMultiQueueTxSelection: lan and wan each have rx RX queues (one
// rx_pcap file each) and lcores 1 and 2 (both on CPU 1) poll them, lcore
// 1 + q%2 queue q of both ports. A packet must leave on TX queue (its RX
// queue) % (egress tx_queues): what came in on queue q leaves in tx file
// q % tx_queues, in order, and nothing else does.
func TestMultiQueueTxSelection(t *testing.T) {
	for _, c := range []struct{ rx, lanTx, wanTx int }{{2, 2, 2}, {2, 2, 1}, {4, 2, 2}, {4, 2, 1}} {
		t.Run(fmt.Sprintf("rx_%d_tx_%d_%d", c.rx, c.lanTx, c.wanTx), func(t *testing.T) { multiQueue(t, c.rx, c.lanTx, c.wanTx) })
	}
}

func multiQueue(t *testing.T, rxq, lanTx, wanTx int) {
	lanMAC, wanMAC := PortMACs(t)
	b := NewBed(t)
	files := func(prefix string, n int) []string {
		var fs []string
		for q := 0; q < n; q++ {
			fs = append(fs, fmt.Sprintf("%s%d.pcap", prefix, q))
		}
		return fs
	}
	c := Config{
		Lcores: "0@0,1@1,2@1",
		Ports: []Port{
			{Name: "lan", RxFiles: files("lan-in", rxq), TxFiles: files("lan-out", lanTx), Addresses: []string{"10.0.0.1/24"}},
			{Name: "wan", RxFiles: files("wan-in", rxq), TxFiles: files("wan-out", wanTx), Addresses: []string{"203.0.113.1/24"}},
		},
		LcoreMap:  []LcoreMap{{Lcore: 1}, {Lcore: 2}},
		Routes:    Standard().Routes,
		Neighbors: Standard().Neighbors,
	}
	lanIn := make([][][]byte, rxq)
	wanIn := make([][][]byte, rxq)
	for q := 0; q < rxq; q++ {
		l := &c.LcoreMap[q%2]
		l.Rx = append(l.Rx, RxQ{"lan", q}, RxQ{"wan", q})
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
	nLan, nWan := 0, 0
	for q := 0; q < rxq; q++ {
		nLan, nWan = nLan+len(lanIn[q]), nWan+len(wanIn[q])
	}
	checkPort(t, b, s, "lan", nLan, nWan)
	checkPort(t, b, s, "wan", nWan, nLan)
	if p := s.Port(t, "wan"); p.RxQueues != rxq || p.TxQueues != wanTx {
		t.Errorf("wan: %d rx / %d tx queues, want %d/%d", p.RxQueues, p.TxQueues, rxq, wanTx)
	}
	// Each lcore received exactly its queues' packets and forwarded them.
	if len(s.Lcores) != 2 {
		t.Fatalf("want 2 lcores in the stats, got %+v", s.Lcores)
	}
	for _, l := range s.Lcores {
		if l.Lcore != 1 && l.Lcore != 2 {
			t.Errorf("unexpected lcore %d", l.Lcore)
			continue
		}
		var want uint64
		for q := l.Lcore - 1; q < rxq; q += 2 {
			want += uint64(len(lanIn[q]) + len(wanIn[q]))
		}
		if l.RxPackets != want || l.TxPackets != want {
			t.Errorf("lcore %d: rx %d tx %d, want %d (its queues of both ports)", l.Lcore, l.RxPackets, l.TxPackets, want)
		}
	}

	// Egress TX file j holds what came in on the other port's RX queues q
	// with q % tx_queues == j.
	for _, e := range []struct {
		out    string
		tx     int
		in     [][][]byte
		expect Expect
	}{
		{"lan-out", lanTx, wanIn, Expect{SrcMAC: lanMAC, DstMAC: LanHostMAC}},
		{"wan-out", wanTx, lanIn, Expect{SrcMAC: wanMAC, DstMAC: WanPeerMAC}},
	} {
		for j := 0; j < e.tx; j++ {
			var from [][][]byte
			var queues []int
			n := 0
			for q := j; q < rxq; q += e.tx {
				from, queues, n = append(from, e.in[q]), append(queues, q), n+len(e.in[q])
			}
			name := fmt.Sprintf("%s%d", e.out, j)
			want := NewIndex(t, from...)
			out := b.ReadForwarded(name + ".pcap")
			if len(out) != n {
				t.Errorf("%s: %d frames, want the %d of RX queues %v", name, len(out), n, queues)
			}
			CheckAllSeen(t, name, CheckForwarded(t, name, out, want, e.expect), want)
		}
	}
}
