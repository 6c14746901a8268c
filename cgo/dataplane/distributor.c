/* The software distributor (software RPS): for NICs that cannot spread flows
 * over queues themselves. An RX lcore hashes each packet's flow
 * (flowhash.h), looks the hash's bucket up in its view of the RETA (bucket
 * -> worker) and hands the packet to that worker: inline when the worker is
 * itself (the local shortcut), else over one SPSC ring per (RX lcore,
 * worker). Workers run the same burst pipeline (burst.c) with their own
 * queue id as the burst's recorded queue.
 *
 * Reorder-free RETA changes (RFS's "last queue tail" rule): per bucket the
 * RX lcore remembers the link sequence number of the bucket's last packet;
 * a worker publishes, per input link, how many packets it had dequeued at
 * its last complete TX flush (publish_done, distributor.h). A bucket follows
 * the control plane's wanted RETA only once its old worker has published
 * that number. */
#include <rte_prefetch.h>

#include "dataplane.h"
#include "distributor.h"
#include "flowhash.h"

/* Hand a link's buffered packets over: inline for the local worker share,
 * else one burst enqueue. Buckets record the sequence number of their last
 * packet on the link, which a RETA move waits for. */
static inline void
out_flush(struct steer_lcore *lc, uint16_t w)
{
	struct steer_out *o = &lc->out[w];
	uint16_t n = o->n, sent = n;

	if (n == 0)
		return;
	if (o->ring == NULL) {
		steer_process_burst(lc, (uint16_t)w, o->m, n);
		lc->c.local += n;
	} else {
		sent = (uint16_t)rte_ring_sp_enqueue_burst(o->ring, (void *const *)o->m, n, NULL);
		lc->c.handed_off += sent;
		if (unlikely(sent < n)) {
			o->full += n - sent;
			lc->c.drop[STEER_DROP_RING_FULL] += n - sent;
			rte_pktmbuf_free_bulk(&o->m[sent], n - sent);
		}
	}
	for (uint16_t i = 0; i < sent; i++)
		lc->last_seq[o->bucket[i]] = o->seq + i + 1;
	o->seq += sent;
	o->n = 0;
}

/* A bucket may follow the wanted RETA once its old worker has sent all it
 * was given of it (nothing of it is buffered here: out buffers are empty
 * between bursts). */
static inline int
bucket_drained(const struct steer_lcore *lc, uint32_t b, uint16_t w)
{
	return lc->out[w].n == 0 &&
	       __atomic_load_n(lc->out[w].done, __ATOMIC_ACQUIRE) >= lc->last_seq[b];
}

void
steer_distribute(struct steer_lcore *lc, struct rte_mbuf **pkts, uint16_t n)
{
	struct steer_dp *dp = lc->dp;
	const uint32_t mask = dp->reta_mask;

	for (uint16_t i = 0; i < n && i < 4; i++)
		rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void *));
	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		if (i + 4 < n)
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i + 4], void *));
		uint32_t b = mbuf_flow_hash(m) & mask;
		uint16_t w = lc->reta[b];
		uint16_t want = __atomic_load_n(&dp->reta_want[b], __ATOMIC_RELAXED);
		if (unlikely(w != want)) {
			/* Move the bucket only once the old worker has sent
			 * everything it got of it (RFS's "last queue tail"). */
			if (bucket_drained(lc, b, w)) {
				lc->reta[b] = (uint8_t)want;
				w = want;
			}
		}
		struct steer_out *o = &lc->out[w];
		o->bucket[o->n] = (uint16_t)b;
		o->m[o->n++] = m;
	}
	for (uint16_t w = 0; w < dp->n_workers; w++)
		out_flush(lc, w);
}

/* Between bursts, after a RETA replacement: move every bucket that has
 * drained, including those no packet arrives for. Stops once the view
 * matches the generation it started from. */
void
steer_reta_sweep(struct steer_lcore *lc)
{
	struct steer_dp *dp = lc->dp;
	uint32_t gen = __atomic_load_n(&dp->reta_gen, __ATOMIC_ACQUIRE);
	int pending = 0;

	if (gen == lc->reta_gen)
		return;
	for (uint32_t b = 0; b <= dp->reta_mask; b++) {
		uint8_t want = __atomic_load_n(&dp->reta_want[b], __ATOMIC_RELAXED);
		if (lc->reta[b] == want)
			continue;
		if (bucket_drained(lc, b, lc->reta[b]))
			lc->reta[b] = want;
		else
			pending = 1;
	}
	if (!pending)
		lc->reta_gen = gen;
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
		in->deq += n;
		lc->c.from_rings += n;
		lc->c.worker_bursts++;
		lc->c.busy_polls++;
		got += n;
		steer_process_burst(lc, (uint16_t)lc->worker, pkts, (uint16_t)n);
	}
	return got;
}
