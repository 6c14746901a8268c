/* The loop every forwarding lcore runs (rte_eal_remote_launch), until the
 * control plane sets dp->quit:
 *
 *   poll each RX queue it owns -> run the burst to completion (burst.c) or
 *   spread it over workers (distributor.c); poll its rings as a worker;
 *   between bursts, flush TX buffers when the queues run dry or every
 *   ~100 us, publish what left (distributor moves), follow a new RETA, and
 *   send the control thread's frames if it is the lcore that does.
 *
 * Every loop reports an RCU quiescent state: between iterations the lcore
 * holds no FIB or next-hop reference, so the control plane can reclaim. */
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_pause.h>

#include "dataplane.h"
#include "distributor.h"
#include "punt.h"

/* While busy, the TX drain clock is read every DRAIN_CHECK_LOOPS loops
 * only: rdtsc costs ~30 cycles in a VM, about one per packet at a burst
 * per loop. */
#define DRAIN_CHECK_LOOPS 8

static inline void
flush_and_publish(struct steer_lcore *lc)
{
	steer_flush_all(lc);
	publish_done(lc);
}

/* Poll the lcore's NIC queues once; returns packets received. */
static inline uint32_t
poll_nic_queues(struct steer_lcore *lc, struct rte_mbuf **pkts)
{
	struct steer_dp *dp = lc->dp;
	uint32_t got = 0;

	for (uint16_t i = 0; i < lc->n_rx; i++) {
		const struct steer_rxq *q = &lc->rx[i];
		if (q->distribute && dp->backpressure && !rings_have_room(lc)) {
			/* Spinning on the rings' consumer indexes would pull
			 * their cache lines away from the workers. */
			lc->c.backpressure_skips++;
			rte_pause();
			continue;
		}
		uint16_t n = rte_eth_rx_burst(q->port, q->queue, pkts, q->distribute ? dp->burst : STEER_BURST);
		if (n == 0) {
			lc->c.idle_polls++;
			continue;
		}
		lc->c.busy_polls++;
		lc->c.rx += n;
		got += n;
		if (q->distribute)
			steer_distribute(lc, pkts, n);
		else
			steer_process_rx_burst(lc, q, pkts, n);
	}
	return got;
}

/* Stop taking from the NICs; a worker then drains its rings until no lcore
 * can enqueue any more, so no mbuf is left in a ring; everything buffered
 * leaves. */
static void
drain_and_stop(struct steer_lcore *lc)
{
	struct steer_dp *dp = lc->dp;

	__atomic_sub_fetch(&dp->rx_running, 1, __ATOMIC_ACQ_REL);
	if (lc->n_in > 0) {
		while (__atomic_load_n(&dp->rx_running, __ATOMIC_ACQUIRE) > 0 || !rings_empty(lc)) {
			rte_rcu_qsbr_quiescent(dp->qsv, lc->rcu_id);
			steer_poll_rings(lc);
		}
	}
	flush_and_publish(lc);
	if (lc->ctl_drain)
		while (!rte_ring_empty(dp->ctl_tx))
			steer_ctl_drain(lc);
}

int
steer_lcore_main(void *arg)
{
	struct steer_lcore *lc = arg;
	struct steer_dp *dp = lc->dp;
	const uint64_t drain = dp->drain_tsc;
	uint64_t last_drain = rte_rdtsc();
	unsigned busy_loops = 0;
	struct rte_mbuf *pkts[STEER_BURST];

	rte_rcu_qsbr_thread_online(dp->qsv, lc->rcu_id);
	while (!__atomic_load_n(&dp->quit, __ATOMIC_RELAXED)) {
		rte_rcu_qsbr_quiescent(dp->qsv, lc->rcu_id);
		uint32_t got = poll_nic_queues(lc, pkts);
		if (lc->n_in > 0)
			got += steer_poll_rings(lc);
		/* Partial TX buffers leave when the queues run dry or after
		 * drain_tsc (~100 us), whichever comes first. */
		if (got != 0 && ++busy_loops < DRAIN_CHECK_LOOPS)
			continue;
		busy_loops = 0;
		uint64_t now = rte_rdtsc();
		if (got == 0 || now - last_drain > drain) {
			flush_and_publish(lc);
			if (lc->distributes)
				steer_reta_sweep(lc);
			if (lc->ctl_drain)
				steer_ctl_drain(lc);
			last_drain = now;
		}
	}
	drain_and_stop(lc);
	rte_rcu_qsbr_thread_offline(dp->qsv, lc->rcu_id);
	return 0;
}
