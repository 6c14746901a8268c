package config

import (
	"fmt"
	"strings"

	"github.com/steer-router/steer/pkg/fwd"
)

// CtlRingSize is the ring of frames the control thread sends.
const CtlRingSize = 1024

// PoolMbufs is the mbuf pool's size: mempool.mbufs, or, at 0, enough for
// every descriptor, every lcore's TX buffers and in-flight bursts, the
// per-lcore caches, full distributor, exception and control rings, rounded
// up to 2^n-1 (the size rte_mempool uses best).
func (c *Config) PoolMbufs() int {
	if c.Mempool.Mbufs > 0 {
		return c.Mempool.Mbufs
	}
	n := 0
	for _, p := range c.Ports {
		n += p.RxQueues*p.RxDesc + p.TxQueues*p.TxDesc
	}
	lcores := len(c.Lcores) + 1
	n += lcores * (fwd.Burst*(len(c.Ports)*fwd.MaxQueues/8+2) + c.Mempool.Cache*3/2)
	rxLcores, workers := 0, 0
	for _, lc := range c.Lcores {
		if len(lc.Rx) > 0 {
			rxLcores++
		}
		if lc.Worker {
			workers++
		}
	}
	n += rxLcores * workers * c.Distributor.RingSize // each (RX lcore, worker) ring may be full
	n += len(c.Lcores)*c.SlowPath.RingSize + CtlRingSize
	size := 1
	for size-1 < n {
		size <<= 1
	}
	return size - 1
}

// What EAL's memory holds besides the pool (bytes, estimates erring high).
const (
	mbufOverhead = 128 + 128 // struct rte_mbuf and rte_mempool's object header, aligned
	fibTbl24     = 1 << 24 * 4
	fibTbl8Group = 256 * 4
	ribNode      = 64
	ealOverhead  = 40 << 20 // memzones, heap, telemetry, alignment: the demo needs 130 MB without hugepages (measured), 90 MB of it pool and FIB
)

// memoryNeed estimates the EAL memory the config takes at start, by part.
func (c *Config) memoryNeed() (pool, fib, rest int64) {
	pool = int64(c.PoolMbufs()) * int64(c.Mempool.DataRoom+mbufOverhead)
	fib = fibTbl24 + int64(c.FIB.Tbl8Groups)*fibTbl8Group + int64(c.FIB.MaxRoutes)*ribNode
	rings := int64(0)
	for _, lc := range c.Lcores {
		if lc.Worker {
			rings += int64(len(c.Lcores)) * int64(c.Distributor.RingSize) * 8
		}
	}
	rest = rings + int64(len(c.Lcores)*c.SlowPath.RingSize+CtlRingSize)*8 + ealOverhead
	return pool, fib, rest
}

// memoryFits: without hugepages EAL has eal.memory_mb and no more, so what
// the config needs must fit it; found here, the problem names the field to
// change, not one the user never set. (With hugepages memory_mb is what
// EAL takes at start and it grows on demand: whether the host has the
// pages is a check of the host, not of the config.)
func (v *validator) memoryFits(c *Config) {
	if c.EAL.Huge {
		return
	}
	for _, p := range v.ps {
		if strings.HasPrefix(p.Field, "eal.memory_mb") || strings.HasPrefix(p.Field, "mempool.") || strings.HasPrefix(p.Field, "fib.") {
			return // named by their own checks
		}
	}
	pool, fib, rest := c.memoryNeed()
	need := (pool + fib + rest + 1<<20 - 1) >> 20
	if need <= int64(c.EAL.MemoryMB) {
		return
	}
	mbufs := fmt.Sprintf("%d mbufs derived from the queues, descriptors and lcores (mempool.mbufs sets the count)", c.PoolMbufs())
	if c.Mempool.Mbufs > 0 {
		mbufs = fmt.Sprintf("mempool.mbufs %d", c.Mempool.Mbufs)
	}
	v.add("eal.memory_mb", fmt.Sprint(c.EAL.MemoryMB),
		"too small without hugepages: the config needs about %d MB (mbuf pool %d MB: %s of %d bytes; FIB %d MB: fib.max_routes and fib.tbl8_groups; rings and EAL %d MB); raise it to at least %d",
		need, pool>>20, mbufs, c.Mempool.DataRoom, fib>>20, rest>>20, need)
}
