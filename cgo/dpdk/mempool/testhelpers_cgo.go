package mempool

// Test helpers (cgo is not allowed in _test.go files).

/*
#include <rte_mbuf.h>
*/
import "C"

import "unsafe"

// AllocForTest takes n mbufs from the pool.
func AllocForTest(p *Pool, n int) []unsafe.Pointer {
	out := make([]unsafe.Pointer, 0, n)
	for i := 0; i < n; i++ {
		m := C.rte_pktmbuf_alloc(p.p)
		if m == nil {
			break
		}
		out = append(out, unsafe.Pointer(m))
	}
	return out
}

// FreeForTest returns mbufs taken with AllocForTest.
func FreeForTest(ms []unsafe.Pointer) {
	for _, m := range ms {
		C.rte_pktmbuf_free((*C.struct_rte_mbuf)(m))
	}
}
