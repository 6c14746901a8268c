package mempool_test

import (
	"strings"
	"testing"

	"github.com/steer-router/steer/cgo/dpdk/ealtest"
	"github.com/steer-router/steer/cgo/dpdk/mempool"
	"github.com/steer-router/steer/cgo/dpdk/mempool/mempooltest"
)

func TestMain(m *testing.M) { ealtest.Main(m) }

func TestPoolCounts(t *testing.T) {
	p, err := mempool.NewPktmbuf("t_pool", 1023, 0, 2176, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Free()
	if p.Size() != 1023 || p.InUse() != 0 || p.Available() != 1023 {
		t.Errorf("new pool: size %d, in use %d, available %d", p.Size(), p.InUse(), p.Available())
	}
	ms := mempooltest.Alloc(p, 10)
	if p.InUse() != 10 {
		t.Errorf("after taking 10 mbufs, in use = %d", p.InUse())
	}
	mempooltest.Free(ms)
	if p.InUse() != 0 {
		t.Errorf("after freeing them, in use = %d", p.InUse())
	}
}

func TestCreateErrorSaysWhat(t *testing.T) {
	_, err := mempool.NewPktmbuf("t_pool_huge", 1<<30, 0, 2176, 0)
	if err == nil || !strings.Contains(err.Error(), "rte_pktmbuf_pool_create(t_pool_huge") {
		t.Errorf("impossible pool: %v; want an error naming the call and the pool", err)
	}
}
