/* TX buffers: each lcore buffers what it forwards per (egress port, TX
 * queue) and sends a buffer when it is full, when its queues run dry, or
 * after dp->drain_tsc (lcore.c). A queue that several lcores send on is
 * locked per burst; a short tx_burst frees the rest and counts tx_full. */
#ifndef STEER_TXBUF_H
#define STEER_TXBUF_H

#include <rte_ethdev.h>
#include <rte_spinlock.h>

#include "dataplane.h"

static inline uint16_t
txq_send(const struct steer_txbuf *b, struct rte_mbuf **m, uint16_t n)
{
	uint16_t sent;

	if (b->lock == NULL)
		return rte_eth_tx_burst(b->port, b->queue, m, n);
	rte_spinlock_lock(b->lock);
	sent = rte_eth_tx_burst(b->port, b->queue, m, n);
	rte_spinlock_unlock(b->lock);
	return sent;
}

static inline void
txbuf_flush(struct steer_lcore *lc, struct steer_txbuf *b)
{
	uint16_t n = b->n;

	if (n == 0)
		return;
	uint16_t sent = txq_send(b, b->m, n);
	lc->c.tx += sent;
	if (unlikely(sent < n)) {
		lc->c.drop[STEER_DROP_TX_FULL] += n - sent;
		rte_pktmbuf_free_bulk(&b->m[sent], n - sent);
	}
	b->n = 0;
}

static inline void
txbuf_add(struct steer_lcore *lc, struct steer_txbuf *b, struct rte_mbuf *m)
{
	b->m[b->n++] = m;
	if (b->n == STEER_BURST)
		txbuf_flush(lc, b);
}

#endif
