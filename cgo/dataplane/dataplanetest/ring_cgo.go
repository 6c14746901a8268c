package dataplanetest

/*
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

// Copy n frames (back to back, lens[i] bytes each) into mbufs from mp and
// enqueue them on ring r; returns how many it took or -errno.
static int test_ring_inject(struct rte_ring *r, struct rte_mempool *mp, const uint8_t *frames,
			    const uint32_t *lens, unsigned n) {
	unsigned done = 0;
	while (done < n) {
		struct rte_mbuf *m = rte_pktmbuf_alloc(mp);
		if (m == NULL)
			return done > 0 ? (int)done : -ENOBUFS;
		char *d = rte_pktmbuf_append(m, (uint16_t)lens[done]);
		if (d == NULL) {
			rte_pktmbuf_free(m);
			return -EMSGSIZE;
		}
		memcpy(d, frames, lens[done]);
		frames += lens[done];
		if (rte_ring_enqueue(r, m) != 0) {
			rte_pktmbuf_free(m);
			break;
		}
		done++;
	}
	return (int)done;
}

// Dequeue everything on r into buf (cap bytes per frame, lens[i] each) and
// free the mbufs; returns the count (at most max; the rest stay).
static unsigned test_ring_drain(struct rte_ring *r, uint8_t *buf, uint32_t cap, uint32_t *lens, unsigned max) {
	unsigned n = 0;
	void *m;
	while (n < max && rte_ring_dequeue(r, &m) == 0) {
		struct rte_mbuf *mb = m;
		uint32_t len = RTE_MIN(mb->pkt_len, cap);
		rte_memcpy(buf + (size_t)n * cap, rte_pktmbuf_mtod(mb, void *), len);
		lens[n++] = len;
		rte_pktmbuf_free(mb);
	}
	return n;
}
*/
import "C"

import (
	"fmt"
	"syscall"
	"unsafe"
)

// A net_ring port made by `--vdev net_ringN` loops TX queue q back to RX
// queue q through one rte_ring, "ETH_RXTX<q>_<name>": a test can put
// frames on a port's RX side, and read what steer sent, from outside.

func ringByName(name string) (*C.struct_rte_ring, error) {
	cs := C.CString(name)
	defer C.free(unsafe.Pointer(cs))
	r := C.rte_ring_lookup(cs)
	if r == nil {
		return nil, fmt.Errorf("no rte_ring %q", name)
	}
	return r, nil
}

// RingName is the ring of a net_ring port's queue q.
func RingName(port string, q int) string { return fmt.Sprintf("ETH_RXTX%d_%s", q, port) }

// RingInject copies frames into mbufs from pool (a *struct rte_mempool) and
// enqueues them on the named ring, in order; it returns how many went in
// (fewer when the ring filled).
func RingInject(ring string, pool unsafe.Pointer, frames [][]byte) (int, error) {
	r, err := ringByName(ring)
	if err != nil || len(frames) == 0 {
		return 0, err
	}
	var flat []byte
	lens := make([]C.uint32_t, len(frames))
	for i, f := range frames {
		flat = append(flat, f...)
		lens[i] = C.uint32_t(len(f))
	}
	n := C.test_ring_inject(r, (*C.struct_rte_mempool)(pool), (*C.uint8_t)(unsafe.Pointer(&flat[0])), &lens[0], C.unsigned(len(frames)))
	if n < 0 {
		return 0, fmt.Errorf("%s: %w", ring, syscall.Errno(-n))
	}
	return int(n), nil
}

// RingDrain takes every frame off the named ring (at most max), frees the
// mbufs and returns copies of the first 128 bytes of each.
func RingDrain(ring string, max int) ([][]byte, error) {
	r, err := ringByName(ring)
	if err != nil || max == 0 {
		return nil, err
	}
	const cap = 128
	buf := make([]byte, cap*max)
	lens := make([]C.uint32_t, max)
	n := int(C.test_ring_drain(r, (*C.uint8_t)(unsafe.Pointer(&buf[0])), cap, &lens[0], C.unsigned(max)))
	out := make([][]byte, n)
	for i := range out {
		out[i] = append([]byte(nil), buf[i*cap:i*cap+int(lens[i])]...)
	}
	return out, nil
}
