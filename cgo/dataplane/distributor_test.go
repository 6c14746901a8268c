package dataplane_test

import (
	"net"
	"net/netip"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/steer-router/steer/cgo/dataplane"
	"github.com/steer-router/steer/cgo/dpdk/ring"
	"github.com/steer-router/steer/pkg/fwd"
	"github.com/steer-router/steer/pkg/trafgen"
)

const (
	retaFlows   = 64
	retaPerFlow = 5000
	retaBuckets = 64
)

var (
	hostMAC = net.HardwareAddr{2, 0, 0, 0, 0, 2}
	peerMAC = net.HardwareAddr{2, 0, 0, 0, 0, 3}
)

// writeRETATraffic writes the input: retaFlows UDP flows of retaPerFlow
// tagged packets each, round robin, to 198.51.100.0/24; and an empty pcap
// for the other port's RX.
func writeRETATraffic(dir string, lanMAC net.HardwareAddr) error {
	ps, err := trafgen.Flows{SrcMAC: hostMAC, DstMAC: lanMAC,
		Src: netip.MustParsePrefix("10.0.0.0/24"), Dst: netip.MustParsePrefix("198.51.100.0/24"),
		Flows: retaFlows, PacketsPerFlow: retaPerFlow, TTL: 64}.Packets()
	if err != nil {
		return err
	}
	frames, err := trafgen.BuildAll(ps)
	if err != nil {
		return err
	}
	if err := trafgen.WritePcap(filepath.Join(dir, "in.pcap"), frames); err != nil {
		return err
	}
	return trafgen.WritePcap(filepath.Join(dir, "empty.pcap"), nil)
}

func fill(n int, f func(b int) int) []int {
	out := make([]int, n)
	for b := range out {
		out[b] = f(b)
	}
	return out
}

// The RETA is replaced again and again while one RX lcore spreads 64 flows
// over itself and two workers, all three sharing one TX queue (so the
// output file is the real transmit order). Every flow still leaves complete
// and in order: a bucket leaves a worker only once the worker has sent all
// it had of it, and leaves the RX lcore only right after it flushed.
func TestRETAChangeKeepsFlowOrder(t *testing.T) {
	dir := t.TempDir()
	madeFor := nextPcapMAC()
	if err := writeRETATraffic(dir, madeFor); err != nil {
		t.Fatal(err)
	}
	probePcap(t, "net_pcap0", "rx_pcap="+filepath.Join(dir, "in.pcap")+",tx_pcap="+filepath.Join(dir, "lan-out.pcap"))
	probePcap(t, "net_pcap1", "rx_pcap="+filepath.Join(dir, "empty.pcap")+",tx_pcap="+filepath.Join(dir, "out.pcap"))
	pool := newTestPool(t, "t_reta_pool", 16383)
	lan, wan := startPort(t, "net_pcap0", pool), startPort(t, "net_pcap1", pool)
	lanMAC, _ := lan.MAC()
	wanMAC, _ := wan.MAC()
	if lanMAC.String() != madeFor.String() {
		t.Fatalf("net_pcap0 has MAC %s, the traffic was made for %s", lanMAC, madeFor)
	}
	dp := newTestDataplane(t)
	for _, p := range []struct {
		id  uint16
		mac net.HardwareAddr
	}{{uint16(lan), lanMAC}, {uint16(wan), wanMAC}} {
		if err := dp.SetPort(p.id, p.mac, 1, 1500); err != nil {
			t.Fatal(err)
		}
	}
	setTestFIB(t, dp, "t_reta", "198.51.100.0/24", uint16(wan), peerMAC)
	if err := dp.SetDistributor(2, retaBuckets, fwd.Burst, true, time.Second, fwd.HashL4); err != nil {
		t.Fatal(err)
	}
	rx, err := dp.AddLcore(1, 0, []dataplane.RxQueue{{Port: uint16(lan), Distribute: true}, {Port: uint16(wan), Distribute: true}}, -1)
	if err != nil {
		t.Fatal(err)
	}
	var workers []*dataplane.Lcore
	for i, id := range []int{2, 3} {
		w, err := dp.AddLcore(id, 0, nil, i)
		if err != nil {
			t.Fatal(err)
		}
		r, err := ring.NewSPSC("t_reta_ring"+string(rune('0'+i)), 1024, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Free()
		if err := dp.Link(rx, w, r.Ptr()); err != nil {
			t.Fatal(err)
		}
		workers = append(workers, w)
	}
	if shared := dp.ShareTxQueues(); shared != 2 {
		t.Errorf("the RX lcore and two workers on one TX queue per port: %d shared queues, want 2", shared)
	}
	local := fill(retaBuckets, func(int) int { return fwd.RETALocal })
	if got := rx.AppliedRETA(); !slices.Equal(got, local) {
		t.Errorf("initial RETA %v, want every bucket local", got)
	}
	if err := rx.SetRETA(fill(retaBuckets, func(int) int { return 2 })); err == nil {
		t.Error("a RETA naming worker 2 of 2 was accepted")
	}
	start := fill(retaBuckets, func(b int) int { return b % 2 })
	if err := rx.SetRETA(start); err != nil {
		t.Fatal(err)
	}

	if err := dp.Launch(); err != nil {
		t.Fatal(err)
	}
	if got := rx.AppliedRETA(); !slices.Equal(got, start) {
		t.Errorf("a RETA set before launch: %v applied, want %v at once (nothing in flight)", got, start)
	}
	tables := [][]int{
		fill(retaBuckets, func(int) int { return 0 }),
		fill(retaBuckets, func(b int) int { return b%3 - 1 }), // local, 0, 1
		fill(retaBuckets, func(int) int { return 1 }),
		local,
		fill(retaBuckets, func(b int) int { return b % 2 }),
		fill(retaBuckets, func(b int) int { return 1 - b%3 }), // 1, 0, local
		fill(retaBuckets, func(b int) int { return 1 - b%2 }),
	}
	const total = retaFlows * retaPerFlow
	applied := 0
	deadline := time.Now().Add(60 * time.Second)
	for rx.Counters().Rx < total && time.Now().Before(deadline) {
		want := tables[applied%len(tables)]
		if err := rx.SetRETA(want); err != nil {
			t.Fatal(err)
		}
		for !slices.Equal(rx.AppliedRETA(), want) && rx.Counters().Rx < total && time.Now().Before(deadline) {
			time.Sleep(50 * time.Microsecond) // polling the lcore, with the deadline above
		}
		if slices.Equal(rx.AppliedRETA(), want) {
			applied++
		}
	}
	if err := dp.Stop(); err != nil {
		t.Fatal(err)
	}
	c := rx.Counters()
	closePorts(t, lan, wan) // the pcap PMD finishes out.pcap on close

	if c.Rx != total {
		t.Fatalf("received %d of %d packets before the deadline", c.Rx, total)
	}
	// Backpressure waits up to a second for ring room: nothing is dropped
	// even with the workers sharing CPUs with the RX lcore.
	if n := c.Dropped[fwd.DropRingFull]; n != 0 {
		t.Errorf("%d packets dropped at full rings", n)
	}
	if applied < 2 {
		t.Fatalf("only %d RETA replacements took effect while traffic flowed; the test proves nothing", applied)
	}
	t.Logf("%d RETA replacements applied under traffic; local packets %d, worker packets %d / %d",
		applied, c.Local, workers[0].Counters().FromRings, workers[1].Counters().FromRings)
	for i, w := range workers {
		if w.Counters().FromRings == 0 {
			t.Errorf("worker %d processed nothing", i)
		}
	}
	if c.Local == 0 {
		t.Error("the RX lcore processed nothing itself")
	}
	out, err := trafgen.ReadPcap(filepath.Join(dir, "out.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != total {
		t.Errorf("out.pcap has %d frames, want %d", len(out), total)
	}
	next := map[uint32]uint32{}
	for i, f := range out {
		in, _ := trafgen.Parse(f)
		if !in.HasTag {
			t.Fatalf("frame %d has no tag", i)
		}
		if want := next[in.Tag.Flow]; in.Tag.Seq != want {
			t.Fatalf("frame %d: flow %d seq %d, want %d: the flow was reordered or lost a packet", i, in.Tag.Flow, in.Tag.Seq, want)
		}
		next[in.Tag.Flow]++
	}
	if n := pool.InUse(); n != 0 {
		t.Errorf("mbuf leak: %d in use", n)
	}
}
