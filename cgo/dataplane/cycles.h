/* Where an lcore's cycles go. Two measures, both cheap enough to keep on:
 *
 *   busy and idle: every loop that found work adds the TSC cycles since
 *   the last reading to busy_cycles, every loop that found none to
 *   idle_cycles. While busy the clock is read only every few loops (the
 *   loop reads it anyway for the TX drain timer), so this costs nothing
 *   more than before; idle loops read it every time (they are idle).
 *
 *   by stage: one busy loop in STEER_SAMPLE_LOOPS is timed phase by phase
 *   (rx, handoff, process, tx) with stage_enter(), which costs one
 *   predictable branch when not sampling. The sample is committed only if
 *   the loop found packets: stage cycles per sampled packet estimate each
 *   stage's cost per packet (pkg/fwd, the balancer, steer stats). */
#ifndef STEER_CYCLES_H
#define STEER_CYCLES_H

#include <rte_branch_prediction.h>
#include <rte_cycles.h>

#include "dataplane.h"

#define STEER_SAMPLE_LOOPS 64

/* Switch the timed stage; returns the one it replaces (to go back to). */
static inline uint8_t
stage_enter(struct steer_lcore *lc, uint8_t stage)
{
	if (likely(!lc->sampling))
		return stage;
	uint64_t now = rte_rdtsc();
	lc->stage_acc[lc->stage] += now - lc->stage_t;
	uint8_t prev = lc->stage;
	lc->stage = stage;
	lc->stage_t = now;
	return prev;
}

/* Count packets into the sample: received, and how many of them this
 * lcore processes itself. */
static inline void
sample_pkts(struct steer_lcore *lc, uint32_t got, uint32_t local)
{
	if (unlikely(lc->sampling)) {
		lc->acc_pkts += got;
		lc->acc_local += local;
	}
}

/* At the top of a loop: decide whether to time it. */
static inline void
sample_begin(struct steer_lcore *lc)
{
	if (likely(--lc->sample_in != 0))
		return;
	lc->sample_in = STEER_SAMPLE_LOOPS;
	lc->sampling = 1;
	lc->stage = STEER_STAGE_RX;
	lc->acc_pkts = lc->acc_local = 0;
	for (int r = 0; r < STEER_STAGE_MAX; r++)
		lc->stage_acc[r] = 0;
	lc->stage_t = rte_rdtsc();
}

/* At the end of a sampled loop: keep it if it did work. */
static inline void
sample_end(struct steer_lcore *lc)
{
	if (likely(!lc->sampling))
		return;
	stage_enter(lc, STEER_STAGE_RX);
	lc->sampling = 0;
	if (lc->acc_pkts == 0) {
		lc->sample_in = 1; /* an idle loop: sample the next one */
		return;
	}
	lc->c.sampled_loops++;
	lc->c.sampled_pkts += lc->acc_pkts;
	lc->c.sampled_local += lc->acc_local;
	for (int r = 0; r < STEER_STAGE_MAX; r++)
		lc->c.stage_cycles[r] += lc->stage_acc[r];
}

#endif
