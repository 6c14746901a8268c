package fastpath

// C wrappers for the unit tests (cgo is not allowed in _test.go files).
// They copy Go bytes into C memory and run the real fast-path helpers.

/*
#include <stdlib.h>
#include <string.h>
#include "fastpath.h"

static int steer_test_classify(const uint8_t *frame, uint32_t len, uint32_t pkt_len,
			       const uint8_t *mac, int hw_cksum, uint32_t *dst) {
	struct rte_ether_addr a;
	memcpy(a.addr_bytes, mac, 6);
	uint64_t f = hw_cksum > 0 ? RTE_MBUF_F_RX_IP_CKSUM_GOOD :
		     hw_cksum < 0 ? RTE_MBUF_F_RX_IP_CKSUM_BAD : RTE_MBUF_F_RX_IP_CKSUM_UNKNOWN;
	return steer_classify(frame, len, pkt_len, &a, f, dst);
}
*/
import "C"

// Verdict is the result of the pre-lookup checks.
type Verdict struct {
	Lookup  bool   // forwardable so far
	Drop    string // drop reason, if dropped
	Slow    string // slow-path reason, if handed over
	L2Bcast bool   // arrived as link-layer broadcast (with Lookup)
	Options bool   // IPv4 header has options (with Lookup)
	Dst     uint32 // destination to look up (with Lookup)
}

// classifyForTest runs steer_classify on frame as received on a port with
// MAC portMAC; pktLen < 0 means len(frame). hwCksum is what the NIC said of
// the IP checksum: 1 good, -1 bad, 0 not checked.
func classifyForTest(frame []byte, pktLen int, portMAC [6]byte, hwCksum int) Verdict {
	if pktLen < 0 {
		pktLen = len(frame)
	}
	cf := C.CBytes(append(frame, 0)) // non-empty even for a zero-length frame
	defer C.free(cf)
	cm := C.CBytes(portMAC[:])
	defer C.free(cm)
	var dst C.uint32_t
	v := int(C.steer_test_classify((*C.uint8_t)(cf), C.uint32_t(len(frame)), C.uint32_t(pktLen), (*C.uint8_t)(cm), C.int(hwCksum), &dst))
	switch {
	case v&C.STEER_V_DROP != 0:
		return Verdict{Drop: DropReasons[v&0xff]}
	case v&C.STEER_V_SLOW != 0:
		return Verdict{Slow: SlowReasons[v&0xff]}
	}
	return Verdict{Lookup: true, L2Bcast: v&C.STEER_V_L2BCAST != 0, Options: v&C.STEER_V_OPTIONS != 0, Dst: uint32(dst)}
}

// ttlDecrementForTest runs steer_ttl_decrement on a copy of an IPv4 header
// and returns the result.
func ttlDecrementForTest(hdr []byte) []byte {
	c := C.CBytes(hdr)
	defer C.free(c)
	C.steer_ttl_decrement((*C.struct_rte_ipv4_hdr)(c))
	return C.GoBytes(c, C.int(len(hdr)))
}
