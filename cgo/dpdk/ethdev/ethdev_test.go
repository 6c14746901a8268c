package ethdev_test

import (
	"strings"
	"testing"

	"github.com/steer-router/steer/cgo/dpdk/ealtest"
	"github.com/steer-router/steer/cgo/dpdk/ethdev"
	"github.com/steer-router/steer/cgo/dpdk/mempool"
)

func TestMain(m *testing.M) { ealtest.Main(m, "net_null0", "net_null1") }

func TestPortLifecycle(t *testing.T) {
	p, err := ethdev.ByName("net_null0")
	if err != nil {
		t.Fatal(err)
	}
	info, err := p.Info()
	if err != nil {
		t.Fatal(err)
	}
	if info.Driver != "net_null" || info.MaxRxQueues < 2 {
		t.Errorf("info %+v: want driver net_null with several queues", info)
	}
	pool, err := mempool.NewPktmbuf("t_eth_pool", 4095, 0, 2176, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Free()
	if err := p.Configure(ethdev.Conf{RxQueues: 2, TxQueues: 2, MTU: 1500}); err != nil {
		t.Fatal(err)
	}
	rxd, txd, err := p.AdjustDesc(512, 512)
	if err != nil || rxd == 0 || txd == 0 {
		t.Fatalf("adjust: %d %d %v", rxd, txd, err)
	}
	for q := 0; q < 2; q++ {
		if err := p.SetupRxQueue(q, rxd, 0, pool.Ptr()); err != nil {
			t.Fatal(err)
		}
		if err := p.SetupTxQueue(q, txd, 0); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	mac, err := p.MAC()
	if err != nil || len(mac) != 6 {
		t.Errorf("mac %v %v", mac, err)
	}
	if _, err := p.Stats(); err != nil {
		t.Error(err)
	}
	if _, err := p.Link(); err != nil {
		t.Error(err)
	}
	if err := p.Stop(); err != nil {
		t.Error(err)
	}
	if err := p.Close(); err != nil {
		t.Error(err)
	}
	if n := pool.InUse(); n != 0 {
		t.Errorf("%d mbufs still in use after close", n)
	}
}

func TestErrorsNameCallAndTarget(t *testing.T) {
	if _, err := ethdev.ByName("net_nosuch9"); err == nil || !strings.Contains(err.Error(), "rte_eth_dev_get_port_by_name(net_nosuch9)") {
		t.Errorf("unknown device: %v", err)
	}
	p, err := ethdev.ByName("net_null1")
	if err != nil {
		t.Fatal(err)
	}
	info, _ := p.Info()
	err = p.Configure(ethdev.Conf{RxQueues: info.MaxRxQueues + 1, TxQueues: 1, MTU: 1500})
	if err == nil || !strings.Contains(err.Error(), "rte_eth_dev_configure(port") {
		t.Errorf("too many queues: %v; want an error naming rte_eth_dev_configure and the port", err)
	}
}
