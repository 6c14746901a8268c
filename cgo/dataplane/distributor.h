/* The software distributor as the lcore loop (lcore.c) drives it: an RX
 * lcore runs a distributor queue's bursts itself while every bucket of its
 * RETA is local (exactly as run to completion), and spreads them by flow
 * hash over itself and the workers once some are not (distributor.c); a
 * worker takes its share from its rings. */
#ifndef STEER_DISTRIBUTOR_H
#define STEER_DISTRIBUTOR_H

#include <rte_mbuf.h>
#include <rte_prefetch.h>
#include <rte_ring.h>

#include "dataplane.h"

/* A burst from distributor queue q. */
void steer_distribute(struct steer_lcore *lc, const struct steer_rxq *q, struct rte_mbuf **pkts, uint16_t n);
/* All-local mode: count a sample of bursts per bucket. */
void steer_count_buckets(struct steer_lcore *lc, struct rte_mbuf **pkts, uint16_t n);
/* A worker's share from its rings; returns packets processed. */
uint32_t steer_poll_rings(struct steer_lcore *lc);
/* Between bursts, with the TX buffers just flushed: follow a new RETA as
 * far as the buckets' old owners have drained. */
void steer_reta_sweep(struct steer_lcore *lc);

/* Backpressure: poll a distributor queue only when every ring can take a
 * whole burst, so overload leaves packets in the NIC (imissed) instead of
 * costing CPU to drop them at the ring. */
static inline int
rings_have_room(const struct steer_lcore *lc)
{
	for (uint16_t w = 0; w < lc->dp->n_workers; w++) {
		const struct steer_out *o = &lc->out[w];
		if (o->ring != NULL && rte_ring_free_count(o->ring) < lc->dp->burst)
			return 0;
	}
	return 1;
}

static inline int
rings_empty(const struct steer_lcore *lc)
{
	for (uint16_t i = 0; i < lc->n_in; i++)
		if (!rte_ring_empty(lc->in[i].ring))
			return 0;
	return 1;
}

/* Publish, per input link, what has left through TX: called right after a
 * complete TX flush, so an RX lcore may move a bucket away from this worker
 * once its last packet is counted here. */
static inline void
publish_done(struct steer_lcore *lc)
{
	for (uint16_t i = 0; i < lc->n_in; i++)
		__atomic_store_n(&lc->in[i].done, lc->in[i].deq, __ATOMIC_RELEASE);
}

/* What crossing cores costs (docs/BENCH.md): a handed packet's mbuf and
 * data lines come to the worker from the RX lcore's cache, and the mbufs
 * the worker frees (TX) come back to the RX lcore's pool cache with their
 * lines in the worker's. Each is a cache-to-cache transfer; taken one
 * packet after the other they serialise. On the worker, prefetching the
 * burst's lines first lets them overlap (-20 to -60 cycles a packet);
 * on the RX lcore, prefetching the pool cache's next mbufs for writing did
 * not help (the PMD's own writes dominate) and was dropped. */

/* Worker, after a ring dequeue: every mbuf's two lines first, then the
 * headers (where the PMD put them: data_off as received). */
static inline void
prefetch_handed(struct rte_mbuf **pkts, uint16_t n)
{
	for (uint16_t i = 0; i < n; i++) {
		rte_prefetch0(pkts[i]);
		rte_prefetch0((char *)pkts[i] + RTE_CACHE_LINE_SIZE);
	}
	for (uint16_t i = 0; i < n; i++)
		rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void *));
}

/* Whether a distributor queue's burst needs the distributor: some bucket
 * is another lcore's, or the RETA is changing. Else it runs to completion
 * here, no hash. */
static inline int
spreading(const struct steer_lcore *lc)
{
	return lc->n_remote != 0 || lc->reta_gen != __atomic_load_n(&lc->want_gen, __ATOMIC_ACQUIRE);
}

#endif
