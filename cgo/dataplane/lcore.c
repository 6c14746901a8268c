/* The loop every forwarding lcore runs (rte_eal_remote_launch), until the
 * control plane sets dp->quit:
 *
 *   poll each RX queue it owns -> run the burst to completion (burst.c),
 *   or spread it by flow hash over itself and the workers (distributor.c)
 *   while its RETA gives some buckets away; poll its rings as a worker;
 *   between bursts, flush TX buffers when the queues run dry or every
 *   ~100 us, publish what left (distributor moves), follow a new RETA, and
 *   send the control thread's frames if it is the lcore that does; when a
 *   loop found nothing at all, wait as its poll mode says (idle.h).
 *
 * Every loop reports an RCU quiescent state: between iterations the lcore
 * holds no FIB or next-hop reference, so the control plane can reclaim.
 * Every loop's cycles count as busy or idle (cycles.h). */
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_pause.h>

#include "dataplane.h"
#include "cycles.h"
#include "distributor.h"
#include "idle.h"
#include "punt.h"

/* While busy, the clock is read every DRAIN_CHECK_LOOPS loops only: rdtsc
 * costs ~30 cycles in a VM, about one per packet at a burst per loop. */
#define DRAIN_CHECK_LOOPS 8

static inline uint32_t
flush_and_publish(struct steer_lcore *lc)
{
	uint32_t n = steer_flush_all(lc);
	publish_done(lc);
	return n;
}

/* Backpressure: whether to skip polling distributor queue q because a ring
 * to a worker lacks room for a burst. The wait is bounded (max_stall):
 * after it the queue is polled anyway and what a full ring cannot take is
 * dropped, so one slow worker cannot hold every flow of the queue. */
static inline int
stalled(struct steer_lcore *lc, struct steer_rxq *q)
{
	if (rings_have_room(lc)) {
		if (unlikely(q->stall_since != 0)) {
			uint64_t d = rte_rdtsc() - q->stall_since;
			q->stall_cycles += d;
			lc->c.stall_cycles += d;
			q->stall_since = 0;
		}
		return 0;
	}
	uint64_t now = rte_rdtsc();
	if (q->stall_since == 0)
		q->stall_since = now;
	if (now - q->stall_since >= lc->dp->max_stall_tsc) {
		q->stall_cycles += now - q->stall_since;
		lc->c.stall_cycles += now - q->stall_since;
		q->stall_since = now; /* poll once, then wait again if need be */
		return 0;
	}
	q->stall_skips++;
	lc->c.backpressure_skips++;
	/* Spinning on the rings' consumer indexes would pull their cache
	 * lines away from the workers. */
	rte_pause();
	return 1;
}

/* Poll the lcore's NIC queues once; returns packets received. *stall is
 * set when a queue was skipped for backpressure (the loop is not idle). */
static inline uint32_t
poll_nic_queues(struct steer_lcore *lc, struct rte_mbuf **pkts, int *stall)
{
	struct steer_dp *dp = lc->dp;
	uint32_t got = 0;

	for (uint16_t i = 0; i < lc->n_rx; i++) {
		struct steer_rxq *q = &lc->rx[i];
		if (q->distribute && dp->backpressure && stalled(lc, q)) {
			*stall = 1;
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
		if (q->distribute && spreading(lc)) {
			sample_pkts(lc, n, 0);
			steer_distribute(lc, q, pkts, n);
			continue;
		}
		sample_pkts(lc, n, n);
		if (q->distribute) {
			lc->c.local += n;
			steer_count_buckets(lc, pkts, n);
		}
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
	uint64_t last_drain = rte_rdtsc(), last = last_drain;
	unsigned busy_loops = 0;
	int busy = 0;   /* a loop since the clock was last read found work */
	struct rte_mbuf *pkts[STEER_BURST];

	lc->sample_in = STEER_SAMPLE_LOOPS;
	steer_poll_start(lc);
	rte_rcu_qsbr_thread_online(dp->qsv, lc->rcu_id);
	while (!__atomic_load_n(&dp->quit, __ATOMIC_RELAXED)) {
		rte_rcu_qsbr_quiescent(dp->qsv, lc->rcu_id);
		sample_begin(lc);
		int stall = 0;
		uint32_t got = poll_nic_queues(lc, pkts, &stall);
		if (lc->n_in > 0)
			got += steer_poll_rings(lc);
		busy |= got != 0 || stall;
		/* Partial TX buffers leave when the queues run dry or after
		 * drain_tsc (~100 us), whichever comes first. */
		if (got != 0 && ++busy_loops < DRAIN_CHECK_LOOPS) {
			steer_busy_again(lc);
			sample_end(lc);
			continue;
		}
		busy_loops = 0;
		uint64_t now = rte_rdtsc();
		if (busy)
			lc->c.busy_cycles += now - last;
		else
			lc->c.idle_cycles += now - last;
		busy = 0;
		last = now;
		if (got == 0 || now - last_drain > drain) {
			/* Sending what is buffered is work: it counts as busy. */
			busy = flush_and_publish(lc) != 0;
			if (lc->distributes)
				steer_reta_sweep(lc);
			if (lc->ctl_drain)
				steer_ctl_drain(lc);
			last_drain = now;
		}
		sample_end(lc);
		if (got != 0 || stall || busy)
			steer_busy_again(lc);
		else if (lc->poll_mode != STEER_POLL_BUSY && steer_idle(lc, now))
			last = last_drain = rte_rdtsc(); /* asleep is neither busy nor idle */
	}
	steer_poll_stop(lc);
	drain_and_stop(lc);
	rte_rcu_qsbr_thread_offline(dp->qsv, lc->rcu_id);
	return 0;
}
