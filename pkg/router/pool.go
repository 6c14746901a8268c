package router

import (
	"fmt"

	"github.com/steer-router/steer/cgo/dpdk/mempool"
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

// poolSize is the pool's size in mbufs (config.PoolMbufs).
func (r *Router) poolSize() int { return r.cfg.PoolMbufs() }
