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

// Hash n frames laid out stride bytes apart, iters times; the xor of the
// hashes keeps the compiler from dropping the work.
static uint32_t steer_test_hash_loop(const uint8_t *frames, uint32_t n, uint32_t stride,
				     uint32_t iters, int toeplitz) {
	uint32_t x = 0;
	for (uint32_t it = 0; it < iters; it++)
		for (uint32_t i = 0; i < n; i++)
			x ^= toeplitz ? steer_flow_hash_toeplitz(frames + i * stride, stride)
				      : steer_flow_hash_crc(frames + i * stride, stride);
	return x;
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

// flowHashForTest is the distributor's software flow hash of a frame: CRC32
// (what the fast path uses) or Toeplitz (the comparison).
func flowHashForTest(frame []byte, toeplitz bool) uint32 {
	c := C.CBytes(frame)
	defer C.free(c)
	if toeplitz {
		return uint32(C.steer_flow_hash_toeplitz((*C.uint8_t)(c), C.uint32_t(len(frame))))
	}
	return uint32(C.steer_flow_hash_crc((*C.uint8_t)(c), C.uint32_t(len(frame))))
}

// hashLoopForTest hashes frames (each cut or padded to stride bytes) iters
// times in C, for benchmarks without a cgo call per packet.
func hashLoopForTest(frames [][]byte, stride, iters int, toeplitz bool) uint32 {
	buf := make([]byte, stride*len(frames))
	for i, f := range frames {
		copy(buf[i*stride:(i+1)*stride], f)
	}
	c := C.CBytes(buf)
	defer C.free(c)
	t := C.int(0)
	if toeplitz {
		t = 1
	}
	return uint32(C.steer_test_hash_loop((*C.uint8_t)(c), C.uint32_t(len(frames)), C.uint32_t(stride), C.uint32_t(iters), t))
}

// ttlDecrementForTest runs steer_ttl_decrement on a copy of an IPv4 header
// and returns the result.
func ttlDecrementForTest(hdr []byte) []byte {
	c := C.CBytes(hdr)
	defer C.free(c)
	C.steer_ttl_decrement((*C.struct_rte_ipv4_hdr)(c))
	return C.GoBytes(c, C.int(len(hdr)))
}
