package dataplanetest

/*
#cgo CFLAGS: -O2 -I${SRCDIR}/..
#include <stdlib.h>
#include <rte_thash.h>
#include "dataplane.h"
#include "flowhash.h"

// The Toeplitz hash NICs use (Microsoft's default key), over the same flow
// key: what the flow hash was measured against.
static const uint8_t toeplitz_key[40] = {
	0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3,
	0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3,
	0x80, 0x30, 0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
};

static uint32_t test_hash(const uint8_t *frame, uint32_t len, uint8_t mode, int toeplitz) {
	struct flow_key k = flow_key(frame, len, mode);
	if (!k.ok)
		return 0;
	if (!toeplitz)
		return flow_key_crc(k);
	uint32_t t[3] = {k.src, k.dst, k.ports ^ ((uint32_t)k.proto << 24)};
	return rte_softrss(t, 3, toeplitz_key);
}

// Hash n frames laid out stride bytes apart, iters times; the xor of the
// hashes keeps the compiler from dropping the work.
static uint32_t test_hash_loop(const uint8_t *frames, uint32_t n, uint32_t stride,
			       uint32_t iters, int toeplitz) {
	uint32_t x = 0;
	for (uint32_t it = 0; it < iters; it++)
		for (uint32_t i = 0; i < n; i++)
			x ^= test_hash(frames + i * stride, stride, STEER_HASH_L4, toeplitz);
	return x;
}
*/
import "C"

import "github.com/steer-router/steer/pkg/fwd"

// FlowHash is the distributor's flow hash of a frame in mode (CRC32-C over
// the flow key), or with toeplitz the Toeplitz hash NICs use over the same
// key.
func FlowHash(frame []byte, mode fwd.HashMode, toeplitz bool) uint32 {
	c := C.CBytes(frame)
	defer C.free(c)
	return uint32(C.test_hash((*C.uint8_t)(c), C.uint32_t(len(frame)), C.uint8_t(mode), cbool(toeplitz)))
}

// HashLoop hashes frames (each cut or padded to stride bytes) iters times
// in C (the 5-tuple mode), for benchmarks without a cgo call per packet.
func HashLoop(frames [][]byte, stride, iters int, toeplitz bool) uint32 {
	buf := make([]byte, stride*len(frames))
	for i, f := range frames {
		copy(buf[i*stride:(i+1)*stride], f)
	}
	c := C.CBytes(buf)
	defer C.free(c)
	return uint32(C.test_hash_loop((*C.uint8_t)(c), C.uint32_t(len(frames)), C.uint32_t(stride), C.uint32_t(iters), cbool(toeplitz)))
}

func cbool(b bool) C.int {
	if b {
		return 1
	}
	return 0
}
