/* The slow path's two rings, seen from C:
 *
 *   exceptions: each lcore enqueues what it does not forward itself on its
 *   own SPSC ring (punt.h); the control thread takes them round robin,
 *   copies the frames out and frees the mbufs (steer_exc_take);
 *
 *   control TX: frames the control thread makes (ARP, ICMP, packets that
 *   waited for ARP) are copied into mbufs and queued on one ring
 *   (steer_ctl_send); one forwarding lcore sends them on its own TX queues
 *   between bursts (steer_ctl_drain), after what it buffered for the same
 *   queue, so no TX queue gets a second sender. */
#include <errno.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "dataplane.h"
#include "idle.h"
#include "punt.h"
#include "txbuf.h"

uint32_t
steer_exc_take(struct rte_ring *const *rings, uint32_t n_rings, uint32_t *next,
	       struct steer_exc_meta *meta, uint8_t *buf, uint32_t cap, uint32_t max)
{
	struct rte_mbuf *pkts[STEER_BURST];
	uint32_t got = 0, empty = 0;

	/* Round robin, a small burst per ring, so one flooded lcore cannot
	 * starve the others' exceptions. */
	while (got < max && empty < n_rings) {
		struct rte_ring *r = rings[*next];
		*next = (*next + 1) % n_rings;
		uint32_t want = RTE_MIN(max - got, 8u);
		unsigned n = rte_ring_sc_dequeue_burst(r, (void **)pkts, want, NULL);
		empty = n == 0 ? empty + 1 : 0;
		for (unsigned i = 0; i < n; i++, got++) {
			struct rte_mbuf *m = pkts[i];
			uint32_t len = RTE_MIN(m->pkt_len, cap);
			const void *d = rte_pktmbuf_read(m, 0, len, buf + (size_t)got * cap);
			if (d != NULL && d != buf + (size_t)got * cap)
				memcpy(buf + (size_t)got * cap, d, len);
			meta[got].tag = m->hash.usr;
			meta[got].port = m->port;
			meta[got].len = d != NULL ? (uint16_t)len : 0;
			meta[got].pkt_len = m->pkt_len;
		}
		if (n > 0)
			rte_pktmbuf_free_bulk(pkts, n);
	}
	return got;
}

int
steer_ctl_send(struct steer_dp *dp, struct rte_mempool *mp, uint16_t port,
	       const uint8_t *frame, uint32_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(mp);
	if (m == NULL)
		return -ENOBUFS;
	char *d = rte_pktmbuf_append(m, (uint16_t)len);
	if (d == NULL || dp->ctl_tx == NULL) {
		rte_pktmbuf_free(m);
		return -EMSGSIZE;
	}
	memcpy(d, frame, len);
	m->port = port;
	if (rte_ring_sp_enqueue(dp->ctl_tx, m) != 0) {
		rte_pktmbuf_free(m);
		return -ENOSPC;
	}
	steer_wake(dp->ctl_lcore);
	return 0;
}

/* m->port is each frame's egress port. Counted apart from forwarding
 * (ctl_tx): these frames were never received. */
void
steer_ctl_drain(struct steer_lcore *lc)
{
	struct rte_mbuf *pkts[STEER_BURST];
	unsigned n = rte_ring_sc_dequeue_burst(lc->dp->ctl_tx, (void **)pkts, STEER_BURST, NULL);

	for (unsigned i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		struct steer_txbuf *t = m->port < STEER_MAX_PORTS ? lc->txbuf_of[lc->ctl_row][m->port] : NULL;
		if (unlikely(t == NULL)) {
			lc->c.ctl_tx_full++;
			rte_pktmbuf_free(m);
			continue;
		}
		txbuf_flush(lc, t);
		if (likely(txq_send(t, &m, 1) == 1)) {
			lc->c.ctl_tx++;
		} else {
			lc->c.ctl_tx_full++;
			rte_pktmbuf_free(m);
		}
	}
}
