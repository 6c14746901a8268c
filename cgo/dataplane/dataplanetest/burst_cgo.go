package dataplanetest

/*
#cgo CFLAGS: -O2 -I${SRCDIR}/..
#include <stdlib.h>
#include <string.h>
#include "dataplane.h"

static uint64_t burst_cksum_flags(int hw_cksum) {
	return hw_cksum > 0 ? RTE_MBUF_F_RX_IP_CKSUM_GOOD :
	       hw_cksum < 0 ? RTE_MBUF_F_RX_IP_CKSUM_BAD : RTE_MBUF_F_RX_IP_CKSUM_UNKNOWN;
}

// Copy n frames (laid out back to back, lens[i] bytes each) into mbufs as
// received on lc's RX queue qi, with the NIC's checksum verdicts, run them
// through steer_process_rx_burst and flush the TX buffers.
static int test_rx_burst(void *lcp, int qi, struct rte_mempool *mp,
			 const uint8_t *frames, const uint32_t *lens, const int *hw_cksum, uint16_t n) {
	struct steer_lcore *lc = lcp;
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
		pkts[i]->ol_flags = burst_cksum_flags(hw_cksum[i]);
		pkts[i]->port = lc->rx[qi].port;
	}
	steer_process_rx_burst(lc, &lc->rx[qi], pkts, n);
	steer_flush_all(lc);
	return 0;
}
*/
import "C"

import (
	"fmt"
	"unsafe"

	"github.com/steer-router/steer/cgo/dataplane"
)

// RxBurst hands frames to lcore l as one burst from its RX queue qi (mbufs
// from pool, a *struct rte_mempool; hwCksum[i] the NIC's verdict as in
// Classify) and flushes its TX buffers.
func RxBurst(l *dataplane.Lcore, qi int, pool unsafe.Pointer, frames [][]byte, hwCksum []int) error {
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
	if rc := C.test_rx_burst(l.CPtr(), C.int(qi), (*C.struct_rte_mempool)(pool), (*C.uint8_t)(c),
		&lens[0], &flags[0], C.uint16_t(len(frames))); rc != 0 {
		return fmt.Errorf("test_rx_burst: %d", int(rc))
	}
	return nil
}
