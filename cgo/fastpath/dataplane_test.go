package fastpath

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/steer-router/steer/cgo/dpdk/ealtest"
	"github.com/steer-router/steer/cgo/dpdk/ethdev"
	"github.com/steer-router/steer/cgo/dpdk/fib"
	"github.com/steer-router/steer/cgo/dpdk/mempool"
	"github.com/steer-router/steer/cgo/mbuf"
)

// pcapDir holds the distributor test's traffic, made before EAL starts
// (the pcap PMD opens its files at probe).
var pcapDir string

// EAL runs lcores 1-3 on the two CPUs. net_null ports feed zero-filled
// 64-byte frames as fast as they are polled; net_pcap ports replay the
// distributor test's traffic (distributor_test.go).
func TestMain(m *testing.M) {
	var err error
	if pcapDir, err = os.MkdirTemp("", "steer-fastpath-"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := writeRETATraffic(pcapDir); err != nil {
		fmt.Fprintln(os.Stderr, "traffic:", err)
		os.Exit(1)
	}
	code := ealtest.Run(m, "0@0,1@1,2@1,3@0", "net_null0", "net_null1", "net_null2", "net_null3",
		"net_pcap0,rx_pcap="+filepath.Join(pcapDir, "in.pcap")+",tx_pcap="+filepath.Join(pcapDir, "lan-out.pcap"),
		"net_pcap1,rx_pcap="+filepath.Join(pcapDir, "empty.pcap")+",tx_pcap="+filepath.Join(pcapDir, "out.pcap"))
	os.RemoveAll(pcapDir)
	os.Exit(code)
}

// startPort configures and starts a port with one RX and one TX queue.
func startPort(t *testing.T, name string, pool *mempool.Pool) ethdev.Port {
	t.Helper()
	p, err := ethdev.ByName(name)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Configure(1, 1, 1500, 0, 0); err != nil {
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
// (after everything registered later), and the recorded-queue dynfield.
func newTestPool(t *testing.T, name string, n int) (*mempool.Pool, int) {
	t.Helper()
	pool, err := mempool.NewPktmbuf(name, n, 0, 2176, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Free)
	field, err := mbuf.RegisterRxQueueField()
	if err != nil {
		t.Fatal(err)
	}
	return pool, field
}

// newTestDataplane makes an empty dataplane, freed when the test ends.
func newTestDataplane(t *testing.T, field int) *Dataplane {
	t.Helper()
	dp, err := New(field, 16, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(dp.Free)
	return dp
}

// setTestFIB gives dp a FIB (rte_fib, freed when the test ends) with hops,
// routing prefix to next hop 0.
func setTestFIB(t *testing.T, dp *Dataplane, name, prefix string, hops []NextHop) {
	t.Helper()
	table, err := fib.New(name+"_fib", 0, 16, 4, NoRoute)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(table.Free)
	if err := dp.SetFIB(table, hops); err != nil {
		t.Fatal(err)
	}
	if err := dp.AddRoute(netip.MustParsePrefix(prefix), 0); err != nil {
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
	pool, field := newTestPool(t, "t_dp_pool", 8191)
	ports := []ethdev.Port{startPort(t, "net_null0", pool), startPort(t, "net_null1", pool)}
	dp := newTestDataplane(t, field)
	for _, p := range ports {
		mac, _ := p.MAC()
		if err := dp.SetPort(uint16(p), mac, 1, 1500); err != nil {
			t.Fatal(err)
		}
	}
	hops := []NextHop{{Kind: Forward, Port: uint16(ports[1]), DstMAC: make([]byte, 6), SrcMAC: make([]byte, 6)}}
	setTestFIB(t, dp, "t_dp", "10.0.0.0/8", hops)
	lc, err := dp.AddLcore(1, 0, []RxQueue{{Port: uint16(ports[0])}, {Port: uint16(ports[1])}}, -1)
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
	for _, v := range append(append([]uint64{}, c.Dropped...), c.SlowPath...) {
		accounted += v
	}
	if accounted != c.Rx {
		t.Errorf("rx %d but tx+dropped+slow = %d", c.Rx, accounted)
	}
	// net_null frames are all zeros: unicast to 00:00:00:00:00:00, not us.
	if got := c.Dropped[indexOf(DropReasons, "l2_other_host")]; got != c.Rx {
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

func indexOf(names []string, n string) int {
	for i, s := range names {
		if s == n {
			return i
		}
	}
	panic("no reason " + n)
}
