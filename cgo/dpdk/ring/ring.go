// Package ring binds DPDK's rte_ring.
package ring

/*
#cgo pkg-config: libdpdk
#include <stdlib.h>
#include <rte_ring.h>
*/
import "C"

import (
	"fmt"
	"unsafe"

	"github.com/steer-router/steer/cgo/dpdk/rteerr"
)

// Ring is an rte_ring of pointers.
type Ring struct {
	r *C.struct_rte_ring
}

// NewSPSC creates a single-producer single-consumer ring with size slots
// (a power of two; it holds size-1 entries).
func NewSPSC(name string, size, socket int) (*Ring, error) {
	cs := C.CString(name)
	defer C.free(unsafe.Pointer(cs))
	r := C.rte_ring_create(cs, C.uint(size), C.int(socket), C.RING_F_SP_ENQ|C.RING_F_SC_DEQ)
	if r == nil {
		return nil, rteerr.FromErrno("rte_ring_create", fmt.Sprintf("%s, size %d", name, size))
	}
	return &Ring{r: r}, nil
}

// Ptr is the *struct rte_ring for the C fast path.
func (r *Ring) Ptr() unsafe.Pointer { return unsafe.Pointer(r.r) }

// Count is the number of entries in the ring now.
func (r *Ring) Count() int { return int(C.rte_ring_count(r.r)) }

// Capacity is the number of entries the ring can hold.
func (r *Ring) Capacity() int { return int(C.rte_ring_get_capacity(r.r)) }

// Free releases the ring (it must be empty of anything that needs freeing).
func (r *Ring) Free() {
	if r.r != nil {
		C.rte_ring_free(r.r)
		r.r = nil
	}
}
