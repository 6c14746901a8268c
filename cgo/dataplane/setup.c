/* Creating, wiring and freeing the data plane, from the control thread,
 * before the lcores launch (next hops: also while they run, see
 * steer_nh_set). The Go driver (dataplane.go, lcore.go, distributor.go,
 * punt.go) calls these in this order: dp, distributor, ports, FIB and next
 * hops, lcores, links, shared TX queues, control rings. */
#include <errno.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <rte_cycles.h>
#include <rte_malloc.h>

#include "dataplane.h"
#include "checks.h"
#include "idle.h"

struct steer_dp *
steer_dp_create(uint32_t nh_cap, int socket)
{
	if (nh_cap == 0 || nh_cap > STEER_MAX_NEXTHOPS)
		return NULL;
	struct steer_dp *dp = rte_zmalloc_socket("steer_dp", sizeof(*dp), RTE_CACHE_LINE_SIZE, socket);
	if (dp == NULL)
		return NULL;
	dp->fib.nh = rte_zmalloc_socket("steer_nexthops", sizeof(struct steer_nexthop) * nh_cap,
					RTE_CACHE_LINE_SIZE, socket);
	if (dp->fib.nh == NULL) {
		rte_free(dp);
		return NULL;
	}
	dp->fib.nh_cap = nh_cap;
	size_t qsz = rte_rcu_qsbr_get_memsize(STEER_MAX_LCORES);
	dp->qsv = rte_zmalloc_socket("steer_rcu", qsz, RTE_CACHE_LINE_SIZE, socket);
	if (dp->qsv == NULL || rte_rcu_qsbr_init(dp->qsv, STEER_MAX_LCORES) != 0) {
		rte_free(dp->qsv);
		rte_free(dp->fib.nh);
		rte_free(dp);
		return NULL;
	}
	dp->drain_tsc = (rte_get_tsc_hz() + 9999) / 10000; /* 100 us */
	dp->ctl_kick.fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (dp->ctl_kick.fd < 0) {
		rte_free(dp->qsv);
		rte_free(dp->fib.nh);
		rte_free(dp);
		return NULL;
	}
	for (int p = 0; p < STEER_MAX_PORTS; p++)
		for (int q = 0; q < STEER_MAX_QUEUES; q++)
			rte_spinlock_init(&dp->txq_lock[p][q]);
	return dp;
}

void
steer_dp_free(struct steer_dp *dp)
{
	if (dp == NULL)
		return;
	if (dp->ctl_kick.fd >= 0)
		close(dp->ctl_kick.fd);
	rte_free(dp->fib.nh);
	rte_free(dp->qsv);
	rte_free(dp);
}

/* reta_size is a power of two. Every RX lcore's RETA starts local; the
 * control plane sets what it wants (steer_lcore_set_reta). */
int
steer_dp_set_distributor(struct steer_dp *dp, uint16_t n_workers, uint32_t reta_size,
			 int backpressure, uint64_t max_stall_ns, uint16_t burst, uint8_t hash_mode)
{
	if (n_workers == 0 || n_workers > STEER_MAX_WORKERS || reta_size == 0 ||
	    reta_size > STEER_MAX_RETA || (reta_size & (reta_size - 1)) != 0 ||
	    burst == 0 || burst > STEER_BURST || hash_mode > STEER_HASH_L4)
		return -EINVAL;
	dp->burst = burst;
	dp->n_workers = n_workers;
	dp->reta_mask = reta_size - 1;
	dp->backpressure = backpressure != 0;
	dp->max_stall_tsc = max_stall_ns * rte_get_tsc_hz() / 1000000000u;
	dp->hash_mode = hash_mode;
	return 0;
}

/* Record a started port. The fast path compares a frame's first 8 bytes,
 * masked, with mac48, and flags packets above the smallest MTU. */
void
steer_dp_set_port(struct steer_dp *dp, uint16_t id, const uint8_t *mac, uint16_t nb_txq, uint16_t mtu)
{
	struct steer_port *p = &dp->port[id];
	memcpy(p->mac.addr_bytes, mac, RTE_ETHER_ADDR_LEN);
	p->mac48 = mac48_of(mac);
	p->nb_txq = nb_txq;
	p->mtu = mtu;
	p->enabled = 1;
	dp->min_mtu = UINT16_MAX;
	for (int i = 0; i < STEER_MAX_PORTS; i++)
		if (dp->port[i].enabled && dp->port[i].mtu < dp->min_mtu)
			dp->min_mtu = dp->port[i].mtu;
}

/* Write next hop idx; the release fence orders it before the FIB update
 * that will point at it. Only ever called for an index no FIB entry uses
 * (fib.go keeps that promise with reference counts and grace periods). */
void
steer_nh_set(struct steer_dp *dp, uint32_t idx, uint8_t kind, uint16_t port,
	     const uint8_t *dst, const uint8_t *src)
{
	struct steer_nexthop *e = &dp->fib.nh[idx];
	memset(e, 0, sizeof(*e));
	e->kind = kind;
	e->port = port;
	if (dst != NULL)
		memcpy(e->dst.addr_bytes, dst, RTE_ETHER_ADDR_LEN);
	if (src != NULL)
		memcpy(e->src.addr_bytes, src, RTE_ETHER_ADDR_LEN);
	__atomic_thread_fence(__ATOMIC_RELEASE);
}

/* TX buffers for a recorded queue value (an RX queue, or a worker's id):
 * one per enabled egress port, for its TX queue rq % nb_txq. Ports must be
 * set before lcores are created. */
static void
add_txbufs(struct steer_lcore *lc, uint16_t rq)
{
	struct steer_dp *dp = lc->dp;
	for (uint16_t p = 0; p < STEER_MAX_PORTS; p++) {
		if (!dp->port[p].enabled || lc->txbuf_of[rq][p] != NULL)
			continue;
		uint16_t tq = rq % dp->port[p].nb_txq;
		uint16_t b;
		for (b = 0; b < lc->n_txbuf; b++)
			if (lc->txbuf[b].port == p && lc->txbuf[b].queue == tq)
				break;
		if (b == lc->n_txbuf) {
			lc->txbuf[b].port = p;
			lc->txbuf[b].queue = tq;
			lc->n_txbuf++;
		}
		lc->txbuf_of[rq][p] = &lc->txbuf[b];
	}
	if (lc->ctl_row < 0)
		lc->ctl_row = rq;
}

struct steer_lcore *
steer_lcore_create(struct steer_dp *dp, unsigned lcore_id, int socket,
		   const struct steer_rxq *rx, uint16_t n_rx, int worker)
{
	if (n_rx > STEER_MAX_RX_PER_LCORE || worker >= (int)dp->n_workers || worker >= STEER_MAX_QUEUES ||
	    dp->n_lcores >= STEER_MAX_LCORES)
		return NULL;
	struct steer_lcore *lc = rte_zmalloc_socket("steer_lcore", sizeof(*lc), RTE_CACHE_LINE_SIZE, socket);
	if (lc == NULL)
		return NULL;
	lc->dp = dp;
	lc->lcore_id = lcore_id;
	lc->rcu_id = dp->n_lcores;
	if (rte_rcu_qsbr_thread_register(dp->qsv, lc->rcu_id) != 0) {
		rte_free(lc);
		return NULL;
	}
	dp->n_lcores++;
	lc->n_rx = n_rx;
	if (n_rx > 0)
		memcpy(lc->rx, rx, sizeof(*rx) * n_rx);
	/* txbuf_of is all NULL from rte_zmalloc */
	lc->worker = (int16_t)worker;
	lc->ctl_row = -1;
	lc->kick.fd = -1;
	uint32_t max_bufs = ((uint32_t)n_rx + 1) * STEER_MAX_PORTS;
	lc->txbuf = rte_zmalloc_socket("steer_txbuf", sizeof(struct steer_txbuf) * max_bufs,
				       RTE_CACHE_LINE_SIZE, socket);
	if (lc->txbuf == NULL)
		goto fail;
	for (uint16_t i = 0; i < n_rx; i++) {
		/* a distributor queue's local share is sent from here too */
		lc->distributes |= rx[i].distribute;
		add_txbufs(lc, rx[i].queue);
	}
	if (worker >= 0)
		add_txbufs(lc, (uint16_t)worker);
	if (lc->distributes) {
		uint32_t reta_size = dp->reta_mask + 1;
		lc->out = rte_zmalloc_socket("steer_out", sizeof(struct steer_out) * (STEER_MAX_WORKERS + 1),
					     RTE_CACHE_LINE_SIZE, socket);
		lc->reta = rte_zmalloc_socket("steer_reta", reta_size, RTE_CACHE_LINE_SIZE, socket);
		lc->reta_want = rte_zmalloc_socket("steer_reta_want", reta_size, RTE_CACHE_LINE_SIZE, socket);
		lc->last_seq = rte_zmalloc_socket("steer_last_seq", sizeof(uint64_t) * reta_size,
						  RTE_CACHE_LINE_SIZE, socket);
		lc->bucket_pkts = rte_zmalloc_socket("steer_bucket_pkts", sizeof(uint64_t) * reta_size,
						     RTE_CACHE_LINE_SIZE, socket);
		if (dp->n_workers == 0 || lc->out == NULL || lc->reta == NULL || lc->reta_want == NULL ||
		    lc->last_seq == NULL || lc->bucket_pkts == NULL)
			goto fail;
		memset(lc->reta, STEER_LOCAL, reta_size);
		memset(lc->reta_want, STEER_LOCAL, reta_size);
		lc->hash_sample = 1;
	}
	return lc;
fail:
	steer_lcore_free(lc);
	return NULL;
}

/* Connect RX lcore from to worker w (lcore to) through ring. An RX lcore
 * that is a worker too needs no link to itself: its own id is local. */
int
steer_lcore_link(struct steer_lcore *from, uint16_t w, struct rte_ring *ring, struct steer_lcore *to)
{
	if (!from->distributes || w >= from->dp->n_workers || to->worker != (int16_t)w || to == from ||
	    ring == NULL)
		return -EINVAL;
	if (to->n_in >= STEER_MAX_RX_PER_LCORE)
		return -ENOSPC;
	struct steer_out *o = &from->out[w];
	struct steer_in *in = &to->in[to->n_in++];
	in->ring = ring;
	o->ring = ring;
	o->to = to;
	o->done = &in->done;
	o->linked = 1;
	return 0;
}

/* The RETA the control plane wants of RX lcore lc (bucket -> worker, or
 * STEER_LOCAL): written entry by entry, then announced; the lcore follows
 * as the buckets' old owners drain (distributor.c). Every worker must be
 * linked. */
int
steer_lcore_set_reta(struct steer_lcore *lc, const uint8_t *reta, uint32_t n)
{
	if (!lc->distributes || n != lc->dp->reta_mask + 1)
		return -EINVAL;
	for (uint32_t b = 0; b < n; b++)
		if (reta[b] != STEER_LOCAL && (reta[b] >= lc->dp->n_workers ||
					       (!lc->out[reta[b]].linked && reta[b] != lc->worker)))
			return -EINVAL;
	for (uint32_t b = 0; b < n; b++)
		__atomic_store_n(&lc->reta_want[b], reta[b], __ATOMIC_RELAXED);
	__atomic_add_fetch(&lc->want_gen, 1, __ATOMIC_RELEASE);
	return 0;
}

/* Give a lock to every TX queue that more than one lcore sends on. Returns
 * how many queues are shared. */
int
steer_dp_share_txqs(struct steer_dp *dp, struct steer_lcore **lc, int n)
{
	static uint8_t users[STEER_MAX_PORTS][STEER_MAX_QUEUES];
	int shared = 0;

	memset(users, 0, sizeof(users));
	for (int i = 0; i < n; i++)
		for (uint16_t b = 0; b < lc[i]->n_txbuf; b++)
			users[lc[i]->txbuf[b].port][lc[i]->txbuf[b].queue]++;
	for (int i = 0; i < n; i++)
		for (uint16_t b = 0; b < lc[i]->n_txbuf; b++) {
			struct steer_txbuf *t = &lc[i]->txbuf[b];
			t->lock = users[t->port][t->queue] > 1 ? &dp->txq_lock[t->port][t->queue] : NULL;
		}
	for (int p = 0; p < STEER_MAX_PORTS; p++)
		for (int q = 0; q < STEER_MAX_QUEUES; q++)
			shared += users[p][q] > 1;
	return shared;
}

void
steer_lcore_free(struct steer_lcore *lc)
{
	if (lc == NULL)
		return;
	rte_rcu_qsbr_thread_unregister(lc->dp->qsv, lc->rcu_id);
	if (lc->kick.fd >= 0)
		close(lc->kick.fd);
	rte_free(lc->txbuf);
	rte_free(lc->out);
	rte_free(lc->reta);
	rte_free(lc->reta_want);
	rte_free(lc->last_seq);
	rte_free(lc->bucket_pkts);
	rte_free(lc);
}

/* ctl_tx: single producer (the control thread, serialised in Go), single
 * consumer (drain, an lcore with TX queues). */
int
steer_dp_set_control(struct steer_dp *dp, struct rte_ring *ctl_tx, struct steer_lcore *drain)
{
	if (drain->ctl_row < 0)
		return -EINVAL;
	dp->ctl_tx = ctl_tx;
	dp->ctl_lcore = drain;
	drain->ctl_drain = 1;
	return 0;
}

/* A source transit packets must not have: dropped with reason drop. */
int
steer_dp_add_martian_source(struct steer_dp *dp, uint32_t addr_be, uint8_t drop)
{
	struct steer_martians *ms = &dp->martians;
	if (ms->n >= STEER_MAX_MARTIAN_SOURCES || drop >= STEER_DROP_MAX)
		return -ENOSPC;
	ms->addr[ms->n] = addr_be;
	ms->drop[ms->n++] = drop;
	uint32_t bit = martian_bit(addr_be);
	ms->filter[bit >> 3] |= (uint8_t)(1u << (bit & 7));
	return 0;
}

/* How lc waits when idle (idle.h); before launch. A mode that sleeps gets
 * an eventfd to be woken by. */
int
steer_lcore_set_poll(struct steer_lcore *lc, uint8_t mode, uint64_t max_sleep_ns)
{
	if (mode > STEER_POLL_INTERRUPT || max_sleep_ns < STEER_SLEEP_MIN_NS)
		return -EINVAL;
	lc->poll_mode = mode;
	lc->dp->max_sleep_ns = max_sleep_ns;
	if (mode == STEER_POLL_BUSY)
		return 0;
	if (lc->kick.fd < 0) {
		lc->kick.fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (lc->kick.fd < 0)
			return -errno;
	}
	if (lc->worker >= 0)
		lc->dp->kick_workers = 1;
	return 0;
}

void
steer_lcore_set_exc(struct steer_lcore *lc, struct rte_ring *exc)
{
	lc->exc = exc;
}
