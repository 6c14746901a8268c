// Package mempooltest has C helpers for tests of code that uses mempools
// (cgo is not allowed in _test.go files); it never ships in steer.
package mempooltest

/*
#cgo pkg-config: libdpdk
#include <rte_mbuf.h>
*/
import "C"

import (
	"unsafe"

	"github.com/steer-router/steer/cgo/dpdk/mempool"
)

// Alloc takes n mbufs from the pool.
func Alloc(p *mempool.Pool, n int) []unsafe.Pointer {
	out := make([]unsafe.Pointer, 0, n)
	for i := 0; i < n; i++ {
		m := C.rte_pktmbuf_alloc((*C.struct_rte_mempool)(p.Ptr()))
		if m == nil {
			break
		}
		out = append(out, unsafe.Pointer(m))
	}
	return out
}

// Free returns mbufs taken with Alloc.
func Free(ms []unsafe.Pointer) {
	for _, m := range ms {
		C.rte_pktmbuf_free((*C.struct_rte_mbuf)(m))
	}
}
