package router

import (
	"fmt"

	"github.com/steer-router/steer/cgo/dpdk/mempool"
	"github.com/steer-router/steer/pkg/fwd"
)

// createPool makes the one mbuf pool, on the first port's NUMA socket.
func (r *Router) createPool() error {
	socket := r.ports[0].info.Socket
	var err error
	r.pool, err = mempool.NewPktmbuf("steer_mbufs_"+fmt.Sprint(socket), r.poolSize(), r.cfg.Mempool.Cache, r.cfg.Mempool.DataRoom, socket)
	if err != nil {
		return fmt.Errorf("%w: lower mempool.mbufs or raise eal.memory_mb", err)
	}
	return nil
}

// poolSize is mempool.mbufs, or enough for every descriptor, every lcore's
// TX buffers and in-flight bursts, and the per-lcore caches, rounded to 2^n-1
// (the size rte_mempool uses best).
func (r *Router) poolSize() int {
	if r.cfg.Mempool.Mbufs > 0 {
		return r.cfg.Mempool.Mbufs
	}
	n := 0
	for _, p := range r.cfg.Ports {
		n += p.RxQueues*p.RxDesc + p.TxQueues*p.TxDesc
	}
	lcores := len(r.cfg.Lcores) + 1
	n += lcores * (fwd.Burst*(len(r.cfg.Ports)*fwd.MaxQueues/8+2) + r.cfg.Mempool.Cache*3/2)
	// Distributor rings: every (RX lcore, worker) pair may hold a full ring.
	if r.hasWorkers() {
		rxLcores, workers := 0, 0
		for _, lc := range r.cfg.Lcores {
			if len(lc.Rx) > 0 {
				rxLcores++
			}
			if lc.Worker {
				workers++
			}
		}
		n += rxLcores * workers * r.cfg.Distributor.RingSize
	}
	// Exception rings and the control TX ring may be full.
	n += len(r.cfg.Lcores)*r.cfg.SlowPath.RingSize + ctlRingSize
	size := 1
	for size-1 < n {
		size <<= 1
	}
	return size - 1
}
