/* One burst through steer's L3 pipeline, in three stages like l3fwd:
 *
 *   1. classify every packet (checks.h): the common case in one branch,
 *      classify_odd() for anything it doubts;
 *   2. one bulk FIB lookup (rte_fib DIR24_8) for the burst;
 *   3. decide and rewrite: TTL and checksum in one 32-bit update, MACs from
 *      the next hop, into a TX buffer (txbuf.h); decide_odd() for anything
 *      that is not a plain forward (RFC 1812 5.3 in order).
 *
 * Packets that are not forwarded are dropped or handed to the slow path
 * (punt.h) at the end of the burst. The loop is one always-inline function
 * instantiated per caller with constants (struct steer_rxq opts), so each
 * RX queue gets a version without the work its device does not need. */
#include <rte_branch_prediction.h>
#include <rte_fib.h>
#include <rte_prefetch.h>

#include "dataplane.h"
#include "checks.h"
#include "cycles.h"
#include "punt.h"
#include "txbuf.h"

#define STEER_NAME(e, s) s,
const char *const steer_drop_names[STEER_DROP_MAX] = {STEER_DROP_REASONS(STEER_NAME)};
const char *const steer_slow_names[STEER_SLOW_MAX] = {STEER_SLOW_REASONS(STEER_NAME)};
#undef STEER_NAME

/* Packet data is prefetched four packets ahead of the one being worked on. */
#define PREFETCH_AHEAD 4

static inline void
prefetch_head(struct rte_mbuf **pkts, uint16_t n)
{
	for (uint16_t i = 0; i < n && i < PREFETCH_AHEAD; i++)
		rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void *));
}

static inline void
prefetch_ahead(struct rte_mbuf **pkts, uint16_t i, uint16_t n)
{
	if (i + PREFETCH_AHEAD < n)
		rte_prefetch0(rte_pktmbuf_mtod(pkts[i + PREFETCH_AHEAD], void *));
}

/* Stands in for the frame of a packet stage 1 has dropped or handed over
 * (MARK_GONE), which stage 3 skips but reads a header word of first. */
static const uint8_t gone_frame[ETH_IPV4_MIN];

/* Stage 1 marks of a packet for stage 3. */
#define MARK_PLAIN 0       /* forward if the next hop and TTL allow */
#define MARK_GONE 0xff     /* dropped or handed to the slow path already */
/* else STEER_V_{L2BCAST,OPTIONS,CHECK} >> 8: decide_odd() */

/* Stage 1 for what classify_common() doubts: the full checks, in RFC order.
 * Drops and hands over what must not be looked up (MARK_GONE, 0.0.0.0:
 * looked up for nothing); what may still be forwarded goes to decide_odd()
 * in stage 3. Returns the destination to look up. cksum_flags: as the
 * common case saw them (UNKNOWN where the port does not verify). */
/* Whether a frame's IPv4 source may be one of dp's martian sources: the
 * filter, one load; frame holds an IPv4 header. */
static inline int
martian_source_maybe(const struct steer_dp *dp, const uint8_t *frame)
{
	uint32_t src;
	memcpy(&src, frame + RTE_ETHER_HDR_LEN + 12, 4);
	uint32_t bit = martian_bit(src);
	return (dp->martians.filter[bit >> 3] >> (bit & 7)) & 1;
}

/* The drop reason for a martian source, or -1. */
static int
martian_source(const struct steer_dp *dp, const uint8_t *frame)
{
	uint32_t src;
	memcpy(&src, frame + RTE_ETHER_HDR_LEN + 12, 4);
	for (uint16_t i = 0; i < dp->martians.n; i++)
		if (dp->martians.addr[i] == src)
			return dp->martians.drop[i];
	return -1;
}

static __rte_noinline uint32_t
classify_odd(struct steer_lcore *lc, struct rte_mbuf *m, uint64_t cksum_flags, uint8_t *mark,
	     struct burst_rest *r)
{
	struct steer_dp *dp = lc->dp;
	uint32_t dst = 0;
	const uint8_t *frame = rte_pktmbuf_mtod(m, const uint8_t *);
	int v = classify(frame, m->data_len, m->pkt_len, &dp->port[m->port].mac, cksum_flags, &dst);
	int martian;
	if (!(v & (STEER_V_SLOW | STEER_V_DROP)) && unlikely((martian = martian_source(dp, frame)) >= 0))
		v = STEER_V_DROP | martian;
	if (v & STEER_V_SLOW) {
		to_slow_path(lc, m, STEER_V_REASON(v), 0, r);
	} else if (v & STEER_V_DROP) {
		drop(lc, m, STEER_V_REASON(v), r);
	} else {
		*mark = (uint8_t)((v | STEER_V_CHECK) >> 8);
		return dst;
	}
	*mark = MARK_GONE;
	return 0;
}

/* Stage 3 for a packet the common case does not cover (RFC 1812 5.3):
 * no route, a FIB entry being recycled, a next hop that is not a plain
 * forward, or a flag from stage 1. Forwards it if after all it may go. */
static __rte_noinline void
decide_odd(struct steer_lcore *lc, struct rte_mbuf *m, uint64_t h, int flags,
	   struct steer_txbuf *const *txbuf_of, struct burst_rest *r)
{
	struct steer_dp *dp = lc->dp;
	int l2bcast = (flags & STEER_V_L2BCAST) != 0;

	if (h == STEER_FIB_NO_ROUTE) {
		if (l2bcast)
			drop(lc, m, STEER_DROP_LINK_BROADCAST, r);
		else
			to_slow_path(lc, m, STEER_SLOW_NO_ROUTE, 0, r);
		return;
	}
	if (h == STEER_FIB_RECYCLED || h - 1 >= dp->fib.nh_cap) {
		/* The lookup raced a tbl8 group being recycled (see struct
		 * steer_fib), or (never seen, but no index past the table is
		 * followed) gave a value beyond it: the slow path looks the
		 * destination up again. A link-layer broadcast is not forwarded
		 * (5.3.4); it cannot be for one of our own addresses either:
		 * their /32s keep their group non-uniform, so that group is
		 * never recycled. */
		if (l2bcast)
			drop(lc, m, STEER_DROP_LINK_BROADCAST, r);
		else
			to_slow_path(lc, m, STEER_SLOW_UNRESOLVED, 0, r);
		return;
	}
	const struct steer_nexthop *nh = &dp->fib.nh[h - 1];
	if (nh->kind >= STEER_NH_LOCAL) {
		to_slow_path(lc, m, nh->kind == STEER_NH_LOCAL ? STEER_SLOW_LOCAL : STEER_SLOW_BROADCAST,
			     l2bcast, r);
		return;
	}
	/* 5.3.4: a link-layer broadcast is not forwarded */
	if (l2bcast) {
		drop(lc, m, STEER_DROP_LINK_BROADCAST, r);
		return;
	}
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eth + 1);
	/* 5.3.1: TTL is checked only for packets we would forward */
	if (ip->time_to_live <= 1) {
		to_slow_path(lc, m, STEER_SLOW_TTL_EXCEEDED, 0, r);
		return;
	}
	if (flags & STEER_V_OPTIONS) {
		to_slow_path(lc, m, STEER_SLOW_IP_OPTIONS, 0, r);
		return;
	}
	if (nh->kind == STEER_NH_UNRESOLVED) {
		to_slow_path(lc, m, STEER_SLOW_UNRESOLVED, 0, r);
		return;
	}
	uint16_t out = nh->port;
	uint32_t tot = rte_be_to_cpu_16(ip->total_length);
	if (tot > dp->port[out].mtu) {
		to_slow_path(lc, m, STEER_SLOW_FRAGMENTATION_NEEDED, 0, r);
		return;
	}
	/* What follows the IP packet, beyond a minimum frame's padding, is
	 * not the packet's and does not travel on. */
	uint32_t len = RTE_MAX(RTE_ETHER_HDR_LEN + tot, (uint32_t)(RTE_ETHER_MIN_LEN - RTE_ETHER_CRC_LEN));
	if (unlikely(m->pkt_len > len) && rte_pktmbuf_trim(m, (uint16_t)(m->pkt_len - len)) != 0) {
		drop(lc, m, STEER_DROP_BAD_LENGTH, r); /* excess beyond the last segment: never seen */
		return;
	}
	ttl_decrement(ip);
	memcpy(eth, nh, 2 * RTE_ETHER_ADDR_LEN);
	txbuf_add(lc, txbuf_of[out], m);
}

/* One burst through the pipeline. in is the port every packet came from,
 * or NULL when a burst mixes ports (after a distributor hop). in and opts
 * are constants where this is inlined, so each caller gets a version
 * without the work it does not need. */
static __rte_always_inline void
process_burst(struct steer_lcore *lc, uint16_t recorded, struct rte_mbuf **pkts, uint16_t n,
	      const struct steer_port *in, unsigned opts)
{
	struct steer_dp *dp = lc->dp;
	uint32_t ips[STEER_BURST];
	uint64_t hops[STEER_BURST];
	uint8_t mark[STEER_BURST];
	struct burst_rest rest;
	const uint32_t mtu_less20 = dp->min_mtu - IPV4_MIN_HDR;
	/* Every mbuf of the burst records the same queue, so its TX buffers
	 * come from one row without reading the mbuf back. */
	struct steer_txbuf *const *txbuf_of = lc->txbuf_of[recorded];

	rest.n_slow = rest.n_dead = 0;
	memset(mark, MARK_PLAIN, sizeof(mark));
	if (opts & BURST_PREFETCH)
		prefetch_head(pkts, n);

	/* Stage 1: validate and classify. Every packet keeps its slot, so
	 * the common case does no bookkeeping; a slot whose packet is gone
	 * is looked up for nothing and skipped by stage 3. */
	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		if (opts & BURST_PREFETCH)
			prefetch_ahead(pkts, i, n);
		uint8_t *frame = rte_pktmbuf_mtod(m, uint8_t *);
		uint64_t mac48 = in != NULL ? in->mac48 : dp->port[m->port].mac48;
		uint64_t cksum = opts & BURST_HW_CKSUM ? m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK
						       : RTE_MBUF_F_RX_IP_CKSUM_UNKNOWN;
		uint32_t dst;
		if (unlikely(m->data_len < ETH_IPV4_MIN ||
			     !classify_common(frame, m->pkt_len, mac48, cksum, mtu_less20, &dst) ||
			     martian_source_maybe(dp, frame)))
			dst = classify_odd(lc, m, cksum, &mark[i], &rest);
		ips[i] = dst;
	}

	/* Stage 2: one bulk FIB lookup for the burst. */
	rte_fib_lookup_bulk(dp->fib.fib, ips, hops, n);

	/* Stage 3: rewrite and buffer for TX what may simply go (a forward
	 * next hop, TTL > 1, a plain mark); decide_odd() takes the rest. An
	 * index out of the table is no route (STEER_FIB_NO_ROUTE - 1) or a
	 * group being recycled (STEER_FIB_RECYCLED - 1 wraps). */
	const struct steer_nexthop *nh_tab = dp->fib.nh;
	const uint32_t nh_cap = dp->fib.nh_cap;
	/* The TX buffer in use and its fill count live in registers: a count
	 * kept in memory chains every packet to the one before through a
	 * store and a load (~5 cycles each). Written back before anything
	 * else may touch the buffer. */
	struct steer_txbuf *cur = NULL;
	uint16_t cur_n = 0;
	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		uint8_t *eth = rte_pktmbuf_mtod(m, uint8_t *);   /* cheaper than keeping it */
		uint32_t idx = (uint32_t)hops[i] - 1;
		uint32_t w;   /* TTL, protocol, checksum */
		/* A packet stage 1 dropped or handed over may be a runt: its
		 * word is read from a stand-in (a select, not a branch). */
		const uint8_t *hdr = mark[i] != MARK_GONE ? eth : gone_frame;
		memcpy(&w, hdr + RTE_ETHER_HDR_LEN + 8, 4);
		if (unlikely(idx >= nh_cap || mark[i] != MARK_PLAIN || (uint8_t)w <= 1 ||
			     nh_tab[idx].kind != STEER_NH_FORWARD)) {
			if (mark[i] == MARK_GONE)
				continue;
			if (cur != NULL)
				cur->n = cur_n;
			cur = NULL;
			decide_odd(lc, m, hops[i], mark[i] << 8, txbuf_of, &rest);
			continue;
		}
		const struct steer_nexthop *nh = &nh_tab[idx];
		w = ttl_decrement_word(w);
		memcpy(eth + RTE_ETHER_HDR_LEN + 8, &w, 4);
		memcpy(eth, nh, 2 * RTE_ETHER_ADDR_LEN);
		struct steer_txbuf *b = txbuf_of[nh->port];
		if (unlikely(b != cur)) {
			if (cur != NULL)
				cur->n = cur_n;
			cur = b;
			cur_n = b->n;
		}
		cur->m[cur_n++] = m;
		if (unlikely(cur_n == STEER_BURST)) {
			cur->n = cur_n;
			txbuf_flush(lc, cur);
			cur_n = 0;
		}
	}
	if (cur != NULL)
		cur->n = cur_n;

	if (rest.n_slow + rest.n_dead > 0)
		rest_flush(lc, &rest);
}

/* A burst that mixes ports (a worker's, after a distributor hop). */
void
steer_process_burst(struct steer_lcore *lc, uint16_t recorded, struct rte_mbuf **pkts, uint16_t n)
{
	uint8_t was = stage_enter(lc, STEER_STAGE_PROCESS);
	process_burst(lc, recorded, pkts, n, NULL, BURST_PREFETCH | BURST_HW_CKSUM);
	stage_enter(lc, was);
}

/* A burst from a NIC queue in run to completion: one port, and what the
 * port is known to do. */
void
steer_process_rx_burst(struct steer_lcore *lc, const struct steer_rxq *q, struct rte_mbuf **pkts, uint16_t n)
{
	const struct steer_port *in = &lc->dp->port[q->port];
	uint8_t was = stage_enter(lc, STEER_STAGE_PROCESS);
	switch (q->opts) {
	case 0:
		process_burst(lc, q->queue, pkts, n, in, 0);
		break;
	case BURST_PREFETCH:
		process_burst(lc, q->queue, pkts, n, in, BURST_PREFETCH);
		break;
	case BURST_HW_CKSUM:
		process_burst(lc, q->queue, pkts, n, in, BURST_HW_CKSUM);
		break;
	default:
		process_burst(lc, q->queue, pkts, n, in, BURST_PREFETCH | BURST_HW_CKSUM);
		break;
	}
	stage_enter(lc, was);
}

uint32_t
steer_flush_all(struct steer_lcore *lc)
{
	/* Timed as tx here only: a buffer that fills mid-burst is sent from
	 * the pipeline's loop, where timing it would cost every packet. */
	uint8_t was = stage_enter(lc, STEER_STAGE_TX);
	uint32_t n = 0;
	for (uint16_t i = 0; i < lc->n_txbuf; i++) {
		n += lc->txbuf[i].n;
		txbuf_flush(lc, &lc->txbuf[i]);
	}
	stage_enter(lc, was);
	return n;
}
