/* How an lcore waits when its queues and rings run dry (pkg/config poll):
 *
 *   busy       never: it polls without pause (dedicated, isolated cores).
 *   adaptive   after STEER_IDLE_SPIN_US of empty loops it sleeps, first
 *              STEER_SLEEP_MIN_NS, each sleep twice the last, up to
 *              dp->max_sleep_ns; the first packet puts it back to busy
 *              polling. The sleep is a ppoll on its kick eventfd, so an RX
 *              lcore handing it packets, or the control plane, wakes it at
 *              once.
 *   interrupt  it arms its RX queues' interrupts and blocks in epoll on them
 *              and on its kick eventfd (DPDK's per-thread epoll), for at most
 *              STEER_INTR_TIMEOUT_MS: a safety net, not a poll.
 *
 * Asleep, an lcore is RCU-offline, so route and neighbour changes never
 * wait for it; and it holds nothing: the idle loop has flushed its TX
 * buffers and published what left before it sleeps. */
#ifndef STEER_IDLE_H
#define STEER_IDLE_H

#include <unistd.h>
#include <rte_branch_prediction.h>

#include "dataplane.h"

/* Idle this long before the first sleep: a worker fed a burst every few
 * tens of microseconds must not sleep between them, or every hand-off
 * would pay a wake-up (a syscall on the RX lcore, the kernel's on its). */
#define STEER_IDLE_SPIN_US 50
#define STEER_SLEEP_MIN_NS 4000
#define STEER_INTR_TIMEOUT_MS 10

/* Wake k's waiter if it waits. The caller has just made work for it (a
 * ring enqueue, a control frame, quit): the fence orders that before
 * reading asleep, as the waiter orders setting asleep before looking for
 * work (steer_kick_wait_begin), so one of the two always sees the other. */
static inline void
steer_kick(struct steer_kick *k)
{
	if (k->fd < 0)
		return;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (unlikely(__atomic_load_n(&k->asleep, __ATOMIC_RELAXED))) {
		uint64_t one = 1;
		ssize_t r = write(k->fd, &one, sizeof(one));
		(void)r; /* the counter saturating is a wake-up too */
	}
}

/* The waiter's half: announce the wait; then look for work once more, and
 * block only if there is none. */
static inline void
steer_kick_wait_begin(struct steer_kick *k)
{
	__atomic_store_n(&k->asleep, 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

static inline void
steer_kick_wait_end(struct steer_kick *k)
{
	__atomic_store_n(&k->asleep, 0, __ATOMIC_RELAXED);
}

/* Wake lcore lc if it sleeps. */
static inline void
steer_wake(struct steer_lcore *lc)
{
	if (lc != NULL)
		steer_kick(&lc->kick);
}

/* poll.c, on the lcore itself. */
void steer_poll_start(struct steer_lcore *lc);
void steer_poll_stop(struct steer_lcore *lc);
/* An idle loop at TSC now: spin a little, then sleep. Returns 1 if it
 * slept. */
int steer_idle(struct steer_lcore *lc, uint64_t now);

/* The loop found work: back to busy polling, counting a wake-up. */
static inline void
steer_busy_again(struct steer_lcore *lc)
{
	if (likely(lc->idle_since == 0))
		return;
	lc->idle_since = 0;
	lc->sleep_ns = STEER_SLEEP_MIN_NS;
	if (lc->slept) {
		lc->slept = 0;
		lc->c.wakeups++;
	}
}

#endif
