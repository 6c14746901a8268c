// Package dataplanetest runs pieces of the C data plane from Go tests: the
// header checks, the flow hash and one burst through an lcore (cgo is not
// allowed in _test.go files). It never ships in steer: only tests import it.
package dataplanetest

/*
#cgo pkg-config: libdpdk
#cgo CFLAGS: -O2 -I${SRCDIR}/..
#include <stdlib.h>
#include <string.h>
#include "checks.h"

static uint64_t cksum_flags(int hw_cksum) {
	return hw_cksum > 0 ? RTE_MBUF_F_RX_IP_CKSUM_GOOD :
	       hw_cksum < 0 ? RTE_MBUF_F_RX_IP_CKSUM_BAD : RTE_MBUF_F_RX_IP_CKSUM_UNKNOWN;
}

static int test_classify(const uint8_t *frame, uint32_t len, uint32_t pkt_len,
			 const uint8_t *mac, int hw_cksum, uint32_t *dst) {
	struct rte_ether_addr a;
	memcpy(a.addr_bytes, mac, 6);
	return classify(frame, len, pkt_len, &a, cksum_flags(hw_cksum), dst);
}

// As the burst loop calls it: only for frames of ETH_IPV4_MIN bytes or more;
// frame holds at least that many.
static int test_classify_common(const uint8_t *frame, uint32_t len, uint32_t pkt_len,
				const uint8_t *mac, int hw_cksum, uint16_t min_mtu, uint32_t *dst) {
	if (len < ETH_IPV4_MIN)
		return 0;
	return classify_common(frame, pkt_len, mac48_of(mac), cksum_flags(hw_cksum),
			       (uint32_t)min_mtu - IPV4_MIN_HDR, dst);
}
*/
import "C"

import "github.com/steer-router/steer/pkg/fwd"

// Verdict is the result of the pre-lookup checks.
type Verdict struct {
	Lookup  bool           // forwardable so far
	Drop    fwd.DropReason // with !Lookup and !IsSlow
	Slow    fwd.SlowReason // with IsSlow
	IsSlow  bool           // handed to the slow path
	L2Bcast bool           // arrived as link-layer broadcast (with Lookup)
	Options bool           // IPv4 header has options (with Lookup)
	Dst     uint32         // destination to look up (with Lookup)
}

// Classify runs the full checks (classify) on frame as received on a port
// with MAC portMAC; pktLen < 0 means len(frame). hwCksum is what the NIC
// said of the IP checksum: 1 good, -1 bad, 0 not checked.
func Classify(frame []byte, pktLen int, portMAC [6]byte, hwCksum int) Verdict {
	if pktLen < 0 {
		pktLen = len(frame)
	}
	cf := C.CBytes(append(frame, 0)) // non-empty even for a zero-length frame
	defer C.free(cf)
	cm := C.CBytes(portMAC[:])
	defer C.free(cm)
	var dst C.uint32_t
	v := int(C.test_classify((*C.uint8_t)(cf), C.uint32_t(len(frame)), C.uint32_t(pktLen), (*C.uint8_t)(cm), C.int(hwCksum), &dst))
	switch {
	case v&C.STEER_V_DROP != 0:
		return Verdict{Drop: fwd.DropReason(v & 0xff)}
	case v&C.STEER_V_SLOW != 0:
		return Verdict{IsSlow: true, Slow: fwd.SlowReason(v & 0xff)}
	}
	return Verdict{Lookup: true, L2Bcast: v&C.STEER_V_L2BCAST != 0, Options: v&C.STEER_V_OPTIONS != 0, Dst: uint32(dst)}
}

// Fate names what Classify decided: a drop or slow-path reason, or
// "lookup".
func (v Verdict) Fate() string {
	switch {
	case v.Lookup:
		return "lookup"
	case v.IsSlow:
		return v.Slow.String()
	}
	return v.Drop.String()
}

// ClassifyCommon runs the burst loop's common-case check (classify_common)
// on frame (as Classify) with the ports' smallest MTU minMTU: ok means the
// frame needs no closer look, dst is then its destination.
func ClassifyCommon(frame []byte, pktLen int, portMAC [6]byte, hwCksum, minMTU int) (ok bool, dst uint32) {
	if pktLen < 0 {
		pktLen = len(frame)
	}
	buf := append(append([]byte{}, frame...), make([]byte, 64)...) // the loads may read past a runt
	cf := C.CBytes(buf)
	defer C.free(cf)
	cm := C.CBytes(portMAC[:])
	defer C.free(cm)
	var d C.uint32_t
	ok = C.test_classify_common((*C.uint8_t)(cf), C.uint32_t(len(frame)), C.uint32_t(pktLen),
		(*C.uint8_t)(cm), C.int(hwCksum), C.uint16_t(minMTU), &d) != 0
	return ok, uint32(d)
}

// TTLDecrement runs the fast path's TTL decrement on a copy of an IPv4
// header and returns the result.
func TTLDecrement(hdr []byte) []byte {
	c := C.CBytes(hdr)
	defer C.free(c)
	C.ttl_decrement((*C.struct_rte_ipv4_hdr)(c))
	return C.GoBytes(c, C.int(len(hdr)))
}
