/* What a burst leaves behind besides forwarded packets: exceptions for the
 * control thread wait in slow[] and leave in one enqueue on the lcore's
 * exception ring at the end of the burst (the mbuf's tag says why), drops
 * are freed in one bulk. The fast path never waits for the control thread:
 * what its ring cannot take is counted and freed. */
#ifndef STEER_PUNT_H
#define STEER_PUNT_H

#include <rte_mbuf.h>
#include <rte_ring.h>

#include "dataplane.h"
#include "idle.h"

struct burst_rest {
	uint16_t n_slow, n_dead;
	struct rte_mbuf *slow[STEER_BURST];
	struct rte_mbuf *dead[STEER_BURST];
};

static inline void
to_slow_path(struct steer_lcore *lc, struct rte_mbuf *m, unsigned reason, int l2bcast, struct burst_rest *r)
{
	lc->c.slow[reason]++;
	m->hash.usr = STEER_EXC_TAG(reason, l2bcast);
	r->slow[r->n_slow++] = m;
}

static inline void
drop(struct steer_lcore *lc, struct rte_mbuf *m, unsigned reason, struct burst_rest *r)
{
	lc->c.drop[reason]++;
	r->dead[r->n_dead++] = m;
}

static inline void
rest_flush(struct steer_lcore *lc, struct burst_rest *r)
{
	uint16_t n = r->n_slow, sent = 0;
	if (n > 0) {
		if (likely(lc->exc != NULL))
			sent = (uint16_t)rte_ring_sp_enqueue_burst(lc->exc, (void *const *)r->slow, n, NULL);
		if (sent > 0)
			steer_kick(&lc->dp->ctl_kick);
		if (unlikely(sent < n)) {
			lc->c.exc_full += n - sent;
			rte_pktmbuf_free_bulk(&r->slow[sent], n - sent);
		}
	}
	if (r->n_dead > 0)
		rte_pktmbuf_free_bulk(r->dead, r->n_dead);
}

/* punt.c: send the control thread's frames queued on dp->ctl_tx, on the
 * TX queues this lcore uses for its ctl_row (the draining lcore only). */
void steer_ctl_drain(struct steer_lcore *lc);

#endif
