// Package mbuf registers the mbuf dynamic fields steer uses.
package mbuf

/*
#cgo pkg-config: libdpdk
#include <stdlib.h>
#include <string.h>
#include <rte_mbuf_dyn.h>

static int steer_register_u16_field(const char *name) {
	struct rte_mbuf_dynfield f;
	memset(&f, 0, sizeof(f));
	strncpy(f.name, name, sizeof(f.name) - 1);
	f.size = sizeof(uint16_t);
	f.align = __alignof__(uint16_t);
	return rte_mbuf_dynfield_register(&f);
}
*/
import "C"

import (
	"unsafe"

	"github.com/steer-router/steer/cgo/dpdk/rteerr"
)

// RxQueueFieldName names the dynfield holding the recorded RX queue of a
// packet: the NIC queue it arrived on, or a worker's software queue id once
// a distributor has moved it to another core.
const RxQueueFieldName = "steer_dynfield_rxq"

// RegisterRxQueueField registers (or finds) the recorded-RX-queue field and
// returns its byte offset in struct rte_mbuf.
func RegisterRxQueueField() (int, error) {
	cs := C.CString(RxQueueFieldName)
	defer C.free(unsafe.Pointer(cs))
	off := C.steer_register_u16_field(cs)
	if off < 0 {
		return 0, rteerr.FromErrno("rte_mbuf_dynfield_register", RxQueueFieldName)
	}
	return int(off), nil
}
