/* The software distributor (software RPS): for NICs that cannot spread flows
 * over queues themselves. An RX lcore hashes each packet's flow
 * (flowhash.h), looks the hash's bucket up in its RETA (bucket -> worker,
 * or STEER_LOCAL) and processes the packet itself (the local shortcut: no
 * ring) or hands it to that worker over one SPSC ring per (RX lcore,
 * worker). Workers run the same burst pipeline (burst.c) with their own
 * queue id as the burst's recorded queue; local packets keep their RX
 * queue's, as in run to completion.
 *
 * Local first: the control plane's balancer (pkg/balance) starts every
 * bucket local and moves buckets to workers only while the RX lcore cannot
 * keep up. While all buckets are local the lcore loop does not come here
 * (spreading(), distributor.h), except to count a sample of bursts per
 * bucket (steer_count_buckets) so the balancer knows the load it could
 * move.
 *
 * Reorder-free RETA changes (RFS's "last queue tail" rule): per bucket the
 * RX lcore remembers the link sequence number of the bucket's last packet
 * handed over; a worker publishes, per input link, how many packets it had
 * dequeued at its last complete TX flush (publish_done, distributor.h). A
 * bucket leaves a worker only once that worker has published that number.
 * A bucket leaves the RX lcore itself only right after the lcore flushed
 * its TX buffers (steer_reta_sweep), when nothing of it is still buffered. */
#include <rte_prefetch.h>

#include "dataplane.h"
#include "cycles.h"
#include "distributor.h"
#include "flowhash.h"
#include "idle.h"

static inline int
is_local(const struct steer_lcore *lc, uint8_t w)
{
	return w == STEER_LOCAL;
}

/* What the control plane wants for bucket b; the lcore's own worker id is
 * itself: local. */
static inline uint8_t
wanted(const struct steer_lcore *lc, uint32_t b)
{
	uint8_t w = __atomic_load_n(&lc->reta_want[b], __ATOMIC_RELAXED);
	return w == lc->worker ? STEER_LOCAL : w;
}

/* Hand a link's buffered packets over: one burst enqueue. Buckets record the
 * sequence number of their last packet on the link, which a RETA move waits
 * for. */
static inline void
out_flush(struct steer_lcore *lc, uint16_t w)
{
	struct steer_out *o = &lc->out[w];
	uint16_t n = o->n;

	if (n == 0)
		return;
	uint16_t sent = (uint16_t)rte_ring_sp_enqueue_burst(o->ring, (void *const *)o->m, n, NULL);
	lc->c.handed_off += sent;
	if (unlikely(lc->dp->kick_workers))
		steer_wake(o->to);
	if (unlikely(sent < n)) {
		o->full += n - sent;
		lc->c.drop[STEER_DROP_RING_FULL] += n - sent;
		rte_pktmbuf_free_bulk(&o->m[sent], n - sent);
	}
	for (uint16_t i = 0; i < sent; i++)
		lc->last_seq[o->bucket[i]] = o->seq + i + 1;
	o->seq += sent;
	o->n = 0;
}

/* Whether bucket b may leave remote worker w: w has sent all it was given
 * of it (nothing of it is buffered here: out buffers are empty between
 * bursts). */
static inline int
worker_drained(const struct steer_lcore *lc, uint32_t b, uint8_t w)
{
	return __atomic_load_n(lc->out[w].done, __ATOMIC_ACQUIRE) >= lc->last_seq[b];
}

/* Apply bucket b's move from old to want. */
static inline void
move_bucket(struct steer_lcore *lc, uint32_t b, uint8_t old, uint8_t want)
{
	lc->reta[b] = want;
	lc->n_remote += is_local(lc, old) - is_local(lc, want);
}

void
steer_distribute(struct steer_lcore *lc, const struct steer_rxq *q, struct rte_mbuf **pkts, uint16_t n)
{
	struct steer_dp *dp = lc->dp;
	const uint32_t mask = dp->reta_mask;
	const uint8_t mode = dp->hash_mode;
	struct rte_mbuf *local[STEER_BURST];
	uint16_t n_local = 0;
	uint8_t was = stage_enter(lc, STEER_STAGE_HANDOFF);

	for (uint16_t i = 0; i < n && i < 4; i++)
		rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void *));
	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		if (i + 4 < n)
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i + 4], void *));
		uint32_t b = mbuf_flow_hash(m, mode) & mask;
		uint8_t w = lc->reta[b];
		lc->bucket_pkts[b]++;
		uint8_t want = wanted(lc, b);
		if (unlikely(w != want) && !is_local(lc, w) && lc->out[w].n == 0 && worker_drained(lc, b, w)) {
			/* leaving a worker that has sent all of it: RFS's
			 * "last queue tail". Not while this burst has
			 * buffered anything for that worker: last_seq learns
			 * of those packets only at out_flush, so one of this
			 * bucket's could still be among them and the move
			 * would let a later packet overtake it. Leaving this
			 * lcore waits for the sweep after a flush. */
			move_bucket(lc, b, w, want);
			w = want;
		}
		if (is_local(lc, w)) {
			local[n_local++] = m;
			continue;
		}
		struct steer_out *o = &lc->out[w];
		o->bucket[o->n] = (uint16_t)b;
		o->m[o->n++] = m;
	}
	for (uint16_t w = 0; w < dp->n_workers; w++)
		if (lc->out[w].n != 0)
			out_flush(lc, w);
	sample_pkts(lc, 0, n_local);
	if (n_local != 0) {
		lc->c.local += n_local;
		steer_process_rx_burst(lc, q, local, n_local);
	}
	stage_enter(lc, was);
}

void
steer_reta_sweep(struct steer_lcore *lc)
{
	uint32_t gen = __atomic_load_n(&lc->want_gen, __ATOMIC_ACQUIRE);
	int pending = 0;

	if (gen == lc->reta_gen)
		return;
	for (uint32_t b = 0; b <= lc->dp->reta_mask; b++) {
		uint8_t want = wanted(lc, b);
		uint8_t w = lc->reta[b];
		if (w == want)
			continue;
		/* The TX buffers were just flushed: a local bucket may go. */
		if (is_local(lc, w) || worker_drained(lc, b, w))
			move_bucket(lc, b, w, want);
		else
			pending = 1;
	}
	if (!pending)
		lc->reta_gen = gen;
}

/* All-local mode: count one burst in STEER_HASH_SAMPLE per bucket (its
 * hashes are all the extra work), so the balancer sees the spread of the
 * load before it moves any of it. */
#define STEER_HASH_SAMPLE 16

void
steer_count_buckets(struct steer_lcore *lc, struct rte_mbuf **pkts, uint16_t n)
{
	if (likely(--lc->hash_sample != 0))
		return;
	lc->hash_sample = STEER_HASH_SAMPLE;
	const uint32_t mask = lc->dp->reta_mask;
	const uint8_t mode = lc->dp->hash_mode;
	for (uint16_t i = 0; i < n; i++)
		lc->bucket_pkts[mbuf_flow_hash(pkts[i], mode) & mask] += STEER_HASH_SAMPLE;
}

uint32_t
steer_poll_rings(struct steer_lcore *lc)
{
	struct rte_mbuf *pkts[STEER_BURST];
	uint32_t got = 0;

	for (uint16_t i = 0; i < lc->n_in; i++) {
		struct steer_in *in = &lc->in[i];
		unsigned n = rte_ring_sc_dequeue_burst(in->ring, (void **)pkts, lc->dp->burst, NULL);
		if (n == 0) {
			lc->c.idle_polls++;
			continue;
		}
		prefetch_handed(pkts, (uint16_t)n);
		in->deq += n;
		lc->c.from_rings += n;
		lc->c.worker_bursts++;
		lc->c.busy_polls++;
		got += n;
		sample_pkts(lc, n, n);
		steer_process_burst(lc, (uint16_t)lc->worker, pkts, (uint16_t)n);
	}
	return got;
}
