package dataplane_test

import (
	"bytes"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/steer-router/steer/cgo/dataplane"
	"github.com/steer-router/steer/cgo/dataplane/dataplanetest"
	"github.com/steer-router/steer/cgo/dpdk/ethdev"
	"github.com/steer-router/steer/pkg/fwd"
	"github.com/steer-router/steer/pkg/trafgen"
)

// probeRing creates a net_ring vdev (removed when the test ends): each of
// its queues loops TX back to RX through one rte_ring the test can reach.
func probeRing(t *testing.T, name string) {
	t.Helper()
	if err := ethdev.Probe(name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := ethdev.RemoveVdev(name); err != nil {
			t.Error(err)
		}
	})
}

// eventually polls cond every millisecond until it holds or d passes.
func eventually(d time.Duration, cond func() bool) bool {
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(time.Millisecond) {
		if cond() {
			return true
		}
	}
	return cond()
}

func TestAdaptiveSleepsAndWakes(t *testing.T) {
	pool := newTestPool(t, "t_idle_pool", 4095)
	probeRing(t, "net_ring_idle0")
	probeRing(t, "net_ring_idle1")
	in, out := startPort(t, "net_ring_idle0", pool), startPort(t, "net_ring_idle1", pool)
	t.Cleanup(func() { closePorts(t, in, out) })
	inMAC, _ := in.MAC()
	outMAC, _ := out.MAC()
	dp := newTestDataplane(t)
	for _, p := range []struct {
		id  ethdev.Port
		mac net.HardwareAddr
	}{{in, inMAC}, {out, outMAC}} {
		if err := dp.SetPort(uint16(p.id), p.mac, 1, 1500); err != nil {
			t.Fatal(err)
		}
	}
	setTestFIB(t, dp, "t_idle", "198.51.100.0/24", uint16(out), peerMAC)
	l, err := dp.AddLcore(1, 0, []dataplane.RxQueue{{Port: uint16(in)}}, -1)
	if err != nil {
		t.Fatal(err)
	}
	// Sleeps of up to a second: an online sleeper would hold up a grace
	// period, and a Stop not woken would wait, for all to see, even on a
	// machine busy with other tests. From 4 us, doubling, the 19th sleep
	// is the first of a second.
	if err := l.SetPoll(fwd.PollAdaptive, time.Second); err != nil {
		t.Fatal(err)
	}
	if err := dp.Launch(); err != nil {
		t.Fatal(err)
	}
	stopped := false
	defer func() {
		if !stopped {
			dp.Stop()
		}
	}()

	if !eventually(5*time.Second, func() bool { c := l.Counters(); return c.Sleeps >= 20 && c.AsleepCycles > 0 }) {
		t.Fatalf("an idle adaptive lcore did not sleep: %+v", l.Counters())
	}
	if l.PollMode() != fwd.PollAdaptive {
		t.Errorf("poll mode %s, want adaptive", l.PollMode())
	}

	// RCU-offline while asleep: each FIB change waits for the previous
	// one's grace period, which a sleeper does not hold up.
	idx, err := dp.AddNextHop(fwd.NextHop{Kind: fwd.Forward, Port: uint16(out), MAC: [6]byte(peerMAC)})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	for i := range 5 {
		if err := dp.Set(netip.PrefixFrom(netip.AddrFrom4([4]byte{203, 0, 113, byte(i)}), 32), idx); err != nil {
			t.Fatal(err)
		}
	}
	if took := time.Since(start); took > 200*time.Millisecond {
		t.Errorf("5 FIB changes took %v while the lcore slept: it held up the grace periods", took)
	}

	// A burst that lands while it sleeps: the RX ring holds it (512 of its
	// 1024 slots) until the lcore wakes, and all of it goes out.
	ps, err := trafgen.Flows{SrcMAC: hostMAC, DstMAC: inMAC, Src: netip.MustParsePrefix("10.0.0.0/24"),
		Dst: netip.MustParsePrefix("198.51.100.0/24"), Flows: 16, PacketsPerFlow: 32, TTL: 64}.Packets()
	if err != nil {
		t.Fatal(err)
	}
	frames, err := trafgen.BuildAll(ps)
	if err != nil {
		t.Fatal(err)
	}
	before := l.Counters()
	n, err := dataplanetest.RingInject(dataplanetest.RingName("net_ring_idle0", 0), pool.Ptr(), frames)
	if err != nil || n != len(frames) {
		t.Fatalf("injected %d of %d frames: %v", n, len(frames), err)
	}
	if !eventually(3*time.Second, func() bool { return l.Counters().Tx-before.Tx == uint64(len(frames)) }) {
		t.Fatalf("forwarded %d of %d frames after sleeping", l.Counters().Tx-before.Tx, len(frames))
	}
	if c := l.Counters(); c.Wakeups <= before.Wakeups {
		t.Errorf("wake-ups %d -> %d: the burst found the lcore awake?", before.Wakeups, c.Wakeups)
	}

	// Stop wakes it: no waiting out a sleep of a second.
	if !eventually(5*time.Second, func() bool { return l.Counters().Sleeps > before.Sleeps+20 }) {
		t.Fatal("the lcore did not go back to sleep")
	}
	start = time.Now()
	if err := dp.Stop(); err != nil {
		t.Fatal(err)
	}
	stopped = true
	if took := time.Since(start); took > 200*time.Millisecond {
		t.Errorf("Stop took %v with the lcore asleep: not woken", took)
	}
	got, err := dataplanetest.RingDrain(dataplanetest.RingName("net_ring_idle1", 0), 2*len(frames))
	if err != nil || len(got) != len(frames) {
		t.Fatalf("port out sent %d frames, want %d (%v)", len(got), len(frames), err)
	}
	for _, f := range got {
		if !bytes.Equal(f[:6], peerMAC) {
			t.Fatalf("forwarded to %x, want %s", f[:6], peerMAC)
		}
	}
	if n := pool.InUse(); n != 0 {
		t.Errorf("%d mbufs in use after the rings are empty", n)
	}
}

// TestInterruptFallsBack: net_ring has no RX interrupts, so an lcore asked
// to block on them waits adaptively instead, and says so.
func TestInterruptFallsBack(t *testing.T) {
	pool := newTestPool(t, "t_intr_pool", 1023)
	probeRing(t, "net_ring_intr0")
	p := startPort(t, "net_ring_intr0", pool)
	t.Cleanup(func() { closePorts(t, p) })
	mac, _ := p.MAC()
	dp := newTestDataplane(t)
	if err := dp.SetPort(uint16(p), mac, 1, 1500); err != nil {
		t.Fatal(err)
	}
	setTestFIB(t, dp, "t_intr", "198.51.100.0/24", uint16(p), peerMAC)
	l, err := dp.AddLcore(1, 0, []dataplane.RxQueue{{Port: uint16(p)}}, -1)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.SetPoll(fwd.PollInterrupt, time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if err := dp.Launch(); err != nil {
		t.Fatal(err)
	}
	defer dp.Stop()
	if !eventually(2*time.Second, func() bool { return l.Counters().Sleeps >= 3 }) {
		t.Fatalf("no sleep: %+v", l.Counters())
	}
	if m := l.PollMode(); m != fwd.PollAdaptive {
		t.Errorf("poll mode %s on a port without RX interrupts, want adaptive", m)
	}
}
