package fastpath

// C wrappers for the unit tests (cgo is not allowed in _test.go files).
// They copy Go bytes into C memory and run the real fast-path helpers.

/*
#include <stdlib.h>
#include <string.h>
#include "fastpath.h"

static uint64_t steer_test_cksum_flags(int hw_cksum) {
	return hw_cksum > 0 ? RTE_MBUF_F_RX_IP_CKSUM_GOOD :
	       hw_cksum < 0 ? RTE_MBUF_F_RX_IP_CKSUM_BAD : RTE_MBUF_F_RX_IP_CKSUM_UNKNOWN;
}

// As the burst loop calls it: only for frames of ETH_IPV4_MIN bytes or more;
// frame holds at least that many.
static int steer_test_classify_common(const uint8_t *frame, uint32_t len, uint32_t pkt_len,
				      const uint8_t *mac, int hw_cksum, uint16_t min_mtu, uint32_t *dst) {
	struct rte_ether_addr a;
	memcpy(a.addr_bytes, mac, 6);
	if (len < RTE_ETHER_HDR_LEN + sizeof(struct rte_ipv4_hdr))
		return 0;
	return steer_classify_common(frame, pkt_len, &a, steer_test_cksum_flags(hw_cksum), min_mtu, dst);
}

// Copy n frames (laid out back to back, lens[i] bytes each) into mbufs as
// received on lc's RX queue qi, with the NIC's checksum verdicts, run them
// through steer_process_rx_burst and flush the TX buffers.
static int steer_test_rx_burst(struct steer_lcore *lc, int qi, struct rte_mempool *mp,
			       const uint8_t *frames, const uint32_t *lens, const int *hw_cksum, uint16_t n) {
	struct rte_mbuf *pkts[STEER_BURST];
	if (n > STEER_BURST || rte_pktmbuf_alloc_bulk(mp, pkts, n) != 0)
		return -ENOBUFS;
	for (uint16_t i = 0; i < n; i++) {
		char *d = rte_pktmbuf_append(pkts[i], (uint16_t)lens[i]);
		if (d == NULL) {
			rte_pktmbuf_free_bulk(pkts, n);
			return -EMSGSIZE;
		}
		memcpy(d, frames, lens[i]);
		frames += lens[i];
		pkts[i]->ol_flags = steer_test_cksum_flags(hw_cksum[i]);
		pkts[i]->port = lc->rx[qi].port;
	}
	steer_process_rx_burst(lc, &lc->rx[qi], pkts, n);
	steer_flush_all(lc);
	return 0;
}

static int steer_test_classify(const uint8_t *frame, uint32_t len, uint32_t pkt_len,
			       const uint8_t *mac, int hw_cksum, uint32_t *dst) {
	struct rte_ether_addr a;
	memcpy(a.addr_bytes, mac, 6);
	return steer_classify(frame, len, pkt_len, &a, steer_test_cksum_flags(hw_cksum), dst);
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

import (
	"fmt"
	"unsafe"
)

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

// classifyCommonForTest runs the burst loop's common-case check on frame
// (as classifyForTest) with the ports' smallest MTU minMTU: ok means the
// frame needs no closer look, dst is then its destination.
func classifyCommonForTest(frame []byte, pktLen int, portMAC [6]byte, hwCksum, minMTU int) (ok bool, dst uint32) {
	if pktLen < 0 {
		pktLen = len(frame)
	}
	buf := append(append([]byte{}, frame...), make([]byte, 64)...) // the loads may read past a runt
	cf := C.CBytes(buf)
	defer C.free(cf)
	cm := C.CBytes(portMAC[:])
	defer C.free(cm)
	var d C.uint32_t
	ok = C.steer_test_classify_common((*C.uint8_t)(cf), C.uint32_t(len(frame)), C.uint32_t(pktLen),
		(*C.uint8_t)(cm), C.int(hwCksum), C.uint16_t(minMTU), &d) != 0
	return ok, uint32(d)
}

// rxBurstForTest hands frames to the lcore as one burst from its RX queue
// qi (mbufs from pool, hwCksum[i] the NIC's verdict as in classifyForTest)
// and flushes its TX buffers.
func (l *Lcore) rxBurstForTest(qi int, pool unsafe.Pointer, frames [][]byte, hwCksum []int) error {
	var all []byte
	lens := make([]C.uint32_t, len(frames)+1)
	flags := make([]C.int, len(frames)+1)
	for i, f := range frames {
		all = append(all, f...)
		lens[i] = C.uint32_t(len(f))
		flags[i] = C.int(hwCksum[i])
	}
	c := C.CBytes(append(all, 0))
	defer C.free(c)
	if rc := C.steer_test_rx_burst(l.lc, C.int(qi), (*C.struct_rte_mempool)(pool), (*C.uint8_t)(c),
		&lens[0], &flags[0], C.uint16_t(len(frames))); rc != 0 {
		return fmt.Errorf("steer_test_rx_burst: %d", int(rc))
	}
	return nil
}
