/* The software distributor as the lcore loop (lcore.c) drives it: an RX
 * lcore spreads the bursts of its distributor queues over worker lcores
 * by flow hash (distributor.c); a worker takes its share from its rings. */
#ifndef STEER_DISTRIBUTOR_H
#define STEER_DISTRIBUTOR_H

#include <rte_ring.h>

#include "dataplane.h"

/* Spread a burst from a NIC queue over the workers. */
void steer_distribute(struct steer_lcore *lc, struct rte_mbuf **pkts, uint16_t n);
/* A worker's share from its rings; returns packets processed. */
uint32_t steer_poll_rings(struct steer_lcore *lc);
/* Between bursts, after a RETA replacement: move the buckets that drained. */
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
	if (lc->distributes && lc->worker >= 0)
		__atomic_store_n(&lc->local_done, lc->out[lc->worker].seq, __ATOMIC_RELEASE);
}

#endif
