// Package mempool binds DPDK packet buffer pools.
package mempool

/*
#cgo pkg-config: libdpdk
#include <stdlib.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
*/
import "C"

import (
	"fmt"
	"unsafe"

	"github.com/steer-router/steer/cgo/dpdk/rteerr"
)

// Pool is a pktmbuf pool.
type Pool struct {
	p    *C.struct_rte_mempool
	name string
}

// NewPktmbuf creates a pool of n mbufs of dataRoom bytes (headroom included)
// with a per-lcore cache, on a NUMA socket.
func NewPktmbuf(name string, n, cache, dataRoom, socket int) (*Pool, error) {
	cs := C.CString(name)
	defer C.free(unsafe.Pointer(cs))
	p := C.rte_pktmbuf_pool_create(cs, C.uint(n), C.uint(cache), 0, C.uint16_t(dataRoom), C.int(socket))
	if p == nil {
		return nil, rteerr.FromErrno("rte_pktmbuf_pool_create", fmt.Sprintf("%s, %d mbufs of %d bytes on socket %d", name, n, dataRoom, socket))
	}
	return &Pool{p: p, name: name}, nil
}

// Ptr is the *struct rte_mempool, for other binding packages.
func (m *Pool) Ptr() unsafe.Pointer { return unsafe.Pointer(m.p) }

// Name is the pool's name.
func (m *Pool) Name() string { return m.name }

// Size is the number of mbufs in the pool.
func (m *Pool) Size() int { return int(m.p.size) }

// InUse counts mbufs taken from the pool (per-lcore caches count as free).
func (m *Pool) InUse() int { return int(C.rte_mempool_in_use_count(m.p)) }

// Available counts free mbufs.
func (m *Pool) Available() int { return int(C.rte_mempool_avail_count(m.p)) }

// Free releases the pool. Every mbuf must be back first.
func (m *Pool) Free() {
	if m.p != nil {
		C.rte_mempool_free(m.p)
		m.p = nil
	}
}
