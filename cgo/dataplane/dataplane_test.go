package dataplane_test

import (
	"net"
	"net/netip"
	"os"
	"testing"
	"time"

	"github.com/steer-router/steer/cgo/dataplane"
	"github.com/steer-router/steer/cgo/dpdk/ealtest"
	"github.com/steer-router/steer/cgo/dpdk/ethdev"
	"github.com/steer-router/steer/cgo/dpdk/fib"
	"github.com/steer-router/steer/cgo/dpdk/mempool"
	"github.com/steer-router/steer/pkg/fwd"
	"github.com/steer-router/steer/pkg/inet"
)

// EAL runs lcores 1-3 on the two CPUs. net_null ports feed zero-filled
// 64-byte frames as fast as they are polled; tests that replay traffic
// create net_pcap ports themselves (probePcap).
func TestMain(m *testing.M) {
	os.Exit(ealtest.Run(m, "0@0,1@1,2@1,3@0", "net_null0", "net_null1", "net_null2", "net_null3"))
}

// pcapDevices counts the pcap devices this process has made: the pcap PMD
// numbers their MACs in that order (02:70:63:61:70:NN).
var pcapDevices int

// probePcap creates a pcap vdev (removed when the test ends) and returns
// its name; mac is the MAC it will have, for traffic written before it.
func nextPcapMAC() net.HardwareAddr {
	return net.HardwareAddr{0x02, 0x70, 0x63, 0x61, 0x70, byte(pcapDevices)}
}

func probePcap(t *testing.T, name, args string) {
	t.Helper()
	pcapDevices++
	if err := ethdev.Probe(name + "," + args); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := ethdev.RemoveVdev(name); err != nil {
			t.Error(err)
		}
	})
}

// startPort configures and starts a port with one RX and one TX queue.
func startPort(t *testing.T, name string, pool *mempool.Pool) ethdev.Port {
	t.Helper()
	p, err := ethdev.ByName(name)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Configure(ethdev.Conf{RxQueues: 1, TxQueues: 1, MTU: 1500}); err != nil {
		t.Fatal(err)
	}
	if err := p.SetupRxQueue(0, 512, 0, pool.Ptr()); err != nil {
		t.Fatal(err)
	}
	if err := p.SetupTxQueue(0, 512, 0); err != nil {
		t.Fatal(err)
	}
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	return p
}

// newTestPool makes a pktmbuf pool of n mbufs, freed when the test ends
// (after everything registered later).
func newTestPool(t *testing.T, name string, n int) *mempool.Pool {
	t.Helper()
	pool, err := mempool.NewPktmbuf(name, n, 0, 2176, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Free)
	return pool
}

// newTestDataplane makes an empty data plane, freed when the test ends.
func newTestDataplane(t *testing.T) *dataplane.Dataplane {
	t.Helper()
	dp, err := dataplane.New(16, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(dp.Free)
	return dp
}

// setTestFIB gives dp a FIB (rte_fib, freed when the test ends) routing
// prefix to a Forward next hop on port to mac.
func setTestFIB(t *testing.T, dp *dataplane.Dataplane, name, prefix string, port uint16, mac net.HardwareAddr) {
	t.Helper()
	table, err := fib.New(name+"_fib", 0, 16, 4, dataplane.NoRoute)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(table.Free)
	if err := dp.SetFIB(table); err != nil {
		t.Fatal(err)
	}
	idx, err := dp.AddNextHop(fwd.NextHop{Kind: fwd.Forward, Port: port, MAC: inet.MAC(mac)})
	if err != nil {
		t.Fatal(err)
	}
	if err := dp.Set(netip.MustParsePrefix(prefix), idx); err != nil {
		t.Fatal(err)
	}
}

func closePorts(t *testing.T, ports ...ethdev.Port) {
	t.Helper()
	for _, p := range ports {
		if err := p.Stop(); err != nil {
			t.Error(err)
		}
		if err := p.Close(); err != nil {
			t.Error(err)
		}
	}
}

func TestDataplaneLaunchStopBalances(t *testing.T) {
	pool := newTestPool(t, "t_dp_pool", 8191)
	ports := []ethdev.Port{startPort(t, "net_null0", pool), startPort(t, "net_null1", pool)}
	dp := newTestDataplane(t)
	for _, p := range ports {
		mac, _ := p.MAC()
		if err := dp.SetPort(uint16(p), mac, 1, 1500); err != nil {
			t.Fatal(err)
		}
	}
	setTestFIB(t, dp, "t_dp", "10.0.0.0/8", uint16(ports[1]), net.HardwareAddr{2, 0, 0, 0, 0, 9})
	lc, err := dp.AddLcore(1, 0, []dataplane.RxQueue{{Port: uint16(ports[0])}, {Port: uint16(ports[1])}}, -1)
	if err != nil {
		t.Fatal(err)
	}
	if shared := dp.ShareTxQueues(); shared != 0 {
		t.Errorf("one lcore shares %d TX queues, want 0", shared)
	}
	if err := dp.Launch(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for lc.Counters().Rx < 100000 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if err := dp.Stop(); err != nil {
		t.Fatal(err)
	}
	c := lc.Counters()
	if c.Rx < 100000 {
		t.Fatalf("lcore received %d packets in 10 s, want >= 100000", c.Rx)
	}
	var accounted = c.Tx
	for _, v := range append(c.Dropped[:], c.SlowPath[:]...) {
		accounted += v
	}
	if accounted != c.Rx {
		t.Errorf("rx %d but tx+dropped+slow = %d", c.Rx, accounted)
	}
	// net_null frames are all zeros: unicast to 00:00:00:00:00:00, not us.
	if got := c.Dropped[fwd.DropL2OtherHost]; got != c.Rx {
		t.Errorf("l2_other_host = %d, want all %d (drops %v, slow %v)", got, c.Rx, c.Dropped, c.SlowPath)
	}
	if c.BusyPolls == 0 {
		t.Error("no busy polls counted")
	}
	closePorts(t, ports...)
	if n := pool.InUse(); n != 0 {
		t.Errorf("mbuf leak: %d in use after stop and close", n)
	}
}
