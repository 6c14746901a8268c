/* Waiting when idle: see idle.h. */
#define _GNU_SOURCE /* ppoll */
#include <errno.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <time.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_pause.h>

#include "dataplane.h"
#include "distributor.h"
#include "idle.h"

static void
drain_kick(int fd, void *arg)
{
	uint64_t n;
	ssize_t r = read(fd, &n, sizeof(n));
	(void)r;
	(void)arg;
}

static void
intr_queues(struct steer_lcore *lc, uint16_t n, int op)
{
	for (uint16_t i = 0; i < n; i++)
		rte_eth_dev_rx_intr_ctl_q(lc->rx[i].port, lc->rx[i].queue, RTE_EPOLL_PER_THREAD, op, NULL);
}

/* Register the RX queues and the kick eventfd in this thread's epoll. A
 * queue the PMD cannot interrupt for makes the lcore adaptive (the control
 * plane checks first and says so; this is the last line). */
static void
intr_register(struct steer_lcore *lc)
{
	for (uint16_t i = 0; i < lc->n_rx; i++) {
		if (rte_eth_dev_rx_intr_ctl_q(lc->rx[i].port, lc->rx[i].queue, RTE_EPOLL_PER_THREAD,
					      RTE_INTR_EVENT_ADD, NULL) != 0) {
			intr_queues(lc, i, RTE_INTR_EVENT_DEL);
			lc->poll_mode = STEER_POLL_ADAPTIVE;
			return;
		}
	}
	lc->kick_ev.epdata.event = EPOLLIN;
	lc->kick_ev.epdata.cb_fun = drain_kick;
	rte_epoll_ctl(RTE_EPOLL_PER_THREAD, EPOLL_CTL_ADD, lc->kick.fd, &lc->kick_ev);
}

void
steer_poll_start(struct steer_lcore *lc)
{
	lc->idle_since = 0;
	lc->sleep_ns = STEER_SLEEP_MIN_NS;
	if (lc->poll_mode == STEER_POLL_BUSY)
		return;
	/* Sleeps of microseconds: the kernel's default slack is 50 us. */
	prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0);
	if (lc->poll_mode == STEER_POLL_INTERRUPT)
		intr_register(lc);
}

void
steer_poll_stop(struct steer_lcore *lc)
{
	if (lc->poll_mode != STEER_POLL_INTERRUPT)
		return;
	intr_queues(lc, lc->n_rx, RTE_INTR_EVENT_DEL);
	rte_epoll_ctl(RTE_EPOLL_PER_THREAD, EPOLL_CTL_DEL, lc->kick.fd, &lc->kick_ev);
}

/* Work that arrived while it decided to sleep: rings from RX lcores,
 * control frames to send, quit. (NIC queues: adaptive sleeps are short,
 * and interrupt mode re-polls after arming.) */
static int
work_pending(const struct steer_lcore *lc)
{
	if (__atomic_load_n(&lc->dp->quit, __ATOMIC_RELAXED) || !rings_empty(lc))
		return 1;
	return lc->ctl_drain && !rte_ring_empty(lc->dp->ctl_tx);
}

static void
set_intr(const struct steer_lcore *lc, int on)
{
	for (uint16_t i = 0; i < lc->n_rx; i++) {
		if (on)
			rte_eth_dev_rx_intr_enable(lc->rx[i].port, lc->rx[i].queue);
		else
			rte_eth_dev_rx_intr_disable(lc->rx[i].port, lc->rx[i].queue);
	}
}

/* A packet that came in before the interrupts were armed raises none:
 * look once more. */
static int
rx_pending(const struct steer_lcore *lc)
{
	for (uint16_t i = 0; i < lc->n_rx; i++)
		if (rte_eth_rx_queue_count(lc->rx[i].port, lc->rx[i].queue) > 0)
			return 1;
	return 0;
}

static void
wait_interrupt(struct steer_lcore *lc)
{
	struct rte_epoll_event ev[STEER_MAX_RX_PER_LCORE + 1];

	set_intr(lc, 1);
	if (!rx_pending(lc))
		rte_epoll_wait(RTE_EPOLL_PER_THREAD, ev, RTE_DIM(ev), STEER_INTR_TIMEOUT_MS);
	set_intr(lc, 0);
}

static void
wait_adaptive(struct steer_lcore *lc)
{
	struct pollfd p = {.fd = lc->kick.fd, .events = POLLIN};
	struct timespec ts = {.tv_sec = 0, .tv_nsec = (long)lc->sleep_ns};

	if (ppoll(&p, 1, &ts, NULL) > 0)
		drain_kick(lc->kick.fd, NULL);
	lc->sleep_ns = RTE_MIN(2 * lc->sleep_ns, lc->dp->max_sleep_ns);
}

int
steer_idle(struct steer_lcore *lc, uint64_t now)
{
	struct steer_dp *dp = lc->dp;

	if (lc->idle_since == 0)
		lc->idle_since = now;
	if (now - lc->idle_since < STEER_IDLE_SPIN_US * (rte_get_tsc_hz() / 1000000)) {
		rte_pause();
		return 0;
	}
	steer_kick_wait_begin(&lc->kick);
	if (work_pending(lc)) {
		steer_kick_wait_end(&lc->kick);
		return 0;
	}
	uint64_t t0 = rte_rdtsc();
	rte_rcu_qsbr_thread_offline(dp->qsv, lc->rcu_id);
	if (lc->poll_mode == STEER_POLL_INTERRUPT)
		wait_interrupt(lc);
	else
		wait_adaptive(lc);
	steer_kick_wait_end(&lc->kick);
	rte_rcu_qsbr_thread_online(dp->qsv, lc->rcu_id);
	lc->c.asleep_cycles += rte_rdtsc() - t0;
	lc->c.sleeps++;
	lc->slept = 1;
	return 1;
}
