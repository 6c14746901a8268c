/* steer's data path. See fastpath.h for the data structures. */
#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_byteorder.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_lpm.h>
#include <rte_malloc.h>
#include <rte_mbuf_dyn.h>
#include <rte_prefetch.h>

#include "fastpath.h"

#define STEER_NAME(e, s) s,
const char *const steer_drop_names[STEER_DROP_MAX] = {STEER_DROP_REASONS(STEER_NAME)};
const char *const steer_slow_names[STEER_SLOW_MAX] = {STEER_SLOW_REASONS(STEER_NAME)};
#undef STEER_NAME

#define IPV4_MIN_HDR 20
#define ETH_IPV4_MIN (RTE_ETHER_HDR_LEN + IPV4_MIN_HDR)

/* One's-complement sum of an IPv4 header, folded to 16 bits: 0xffff when
 * the checksum is right. The usual 20-byte header is five 32-bit loads
 * (~10 instructions); headers with options take the generic loop. */
static inline uint16_t
ipv4_hdr_sum(const struct rte_ipv4_hdr *ip, uint32_t hlen)
{
	if (likely(hlen == IPV4_MIN_HDR)) {
		uint32_t w[5];
		memcpy(w, ip, sizeof(w)); /* compiles to five loads */
		uint64_t s = (uint64_t)w[0] + w[1] + w[2] + w[3] + w[4];
		s = (s & 0xffffffff) + (s >> 32);
		s = (s & 0xffff) + (s >> 16);
		s = (s & 0xffff) + (s >> 16);
		s = (s & 0xffff) + (s >> 16);
		return (uint16_t)s;
	}
	return rte_raw_cksum(ip, hlen);
}

/* RFC 1812 5.2.2 (header validation) and 5.3.7 (martian addresses), in the
 * order a router must apply them, ending with the destination to look up.
 * Link-layer length checks use data_len (headers must sit in the first
 * segment), the IP total length is checked against pkt_len. cksum_flags are
 * the mbuf's RX IP checksum flags: a NIC that verified the checksum saves
 * us the sum. */
static inline int
classify(const uint8_t *frame, uint32_t data_len, uint32_t pkt_len,
	 const struct rte_ether_addr *port_mac, uint64_t cksum_flags, uint32_t *dst_ip)
{
	const struct rte_ether_hdr *eth = (const struct rte_ether_hdr *)frame;
	int flags = 0;

	if (unlikely(data_len < RTE_ETHER_HDR_LEN))
		return STEER_V_DROP | STEER_DROP_RUNT;
	/* The L2 filter first: a unicast frame for another host is not ours,
	 * whatever it carries (a NIC not in promiscuous mode does this itself). */
	if (unlikely(!rte_is_unicast_ether_addr(&eth->dst_addr)))
		flags |= STEER_V_L2BCAST;
	else if (unlikely(!rte_is_same_ether_addr(&eth->dst_addr, port_mac)))
		return STEER_V_DROP | STEER_DROP_L2_OTHER_HOST;
	if (unlikely(eth->ether_type != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4))) {
		if (eth->ether_type == rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP))
			return STEER_V_SLOW | STEER_SLOW_ARP;
		return STEER_V_DROP | STEER_DROP_UNKNOWN_ETHERTYPE;
	}

	/* 5.2.2: link-layer length >= minimum IP header */
	if (unlikely(data_len < ETH_IPV4_MIN))
		return STEER_V_DROP | STEER_DROP_RUNT;
	const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)(eth + 1);
	uint8_t vihl = ip->version_ihl;
	if (unlikely((vihl >> 4) != 4))
		return STEER_V_DROP | STEER_DROP_BAD_VERSION;
	uint32_t hlen = (uint32_t)(vihl & 0xf) * 4;
	if (unlikely(hlen < IPV4_MIN_HDR))
		return STEER_V_DROP | STEER_DROP_BAD_IHL;
	if (unlikely(data_len < RTE_ETHER_HDR_LEN + hlen))
		return STEER_V_DROP | STEER_DROP_BAD_LENGTH;
	/* 5.2.2: checksum, unless the NIC has checked it */
	if (unlikely(cksum_flags != RTE_MBUF_F_RX_IP_CKSUM_GOOD)) {
		if (cksum_flags == RTE_MBUF_F_RX_IP_CKSUM_BAD || ipv4_hdr_sum(ip, hlen) != 0xffff)
			return STEER_V_DROP | STEER_DROP_BAD_CHECKSUM;
	}
	/* 5.2.2: header length <= total length <= link-layer length */
	uint32_t tot = rte_be_to_cpu_16(ip->total_length);
	if (unlikely(tot < hlen || tot > pkt_len - RTE_ETHER_HDR_LEN))
		return STEER_V_DROP | STEER_DROP_BAD_LENGTH;

	/* 5.3.7: never forward from {0,*}, loopback, multicast or class E
	 * sources (255.255.255.255 is class E here). */
	uint32_t src = rte_be_to_cpu_32(ip->src_addr);
	uint32_t dst = rte_be_to_cpu_32(ip->dst_addr);
	uint8_t s8 = src >> 24, d8 = dst >> 24;
	if (unlikely(s8 == 0 || s8 == 127 || s8 >= 224))
		return STEER_V_DROP | STEER_DROP_MARTIAN_SOURCE;
	/* 5.3.5.1: limited broadcast is never forwarded: it is for us */
	if (unlikely(dst == 0xffffffff))
		return STEER_V_SLOW | STEER_SLOW_LOCAL;
	if (unlikely(d8 == 0 || d8 == 127 || d8 >= 240))
		return STEER_V_DROP | STEER_DROP_MARTIAN_DESTINATION;
	if (unlikely(d8 >= 224))
		return STEER_V_DROP | STEER_DROP_MULTICAST;
	if (unlikely(hlen != IPV4_MIN_HDR))
		flags |= STEER_V_OPTIONS;
	*dst_ip = dst;
	return STEER_V_LOOKUP | flags;
}

int
steer_classify(const uint8_t *frame, uint32_t data_len, uint32_t pkt_len,
	       const struct rte_ether_addr *port_mac, uint64_t cksum_flags, uint32_t *dst_ip)
{
	return classify(frame, data_len, pkt_len, port_mac, cksum_flags, dst_ip);
}

/* RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'). TTL is the high byte of the
 * (TTL, protocol) word, so m' = m - 0x0100 and ~m + m' = 0xfeff: the new
 * checksum needs neither the old word nor a branch on the 0/0xffff case. */
static inline void
ttl_decrement(struct rte_ipv4_hdr *ip)
{
	uint32_t sum = (uint16_t)~rte_be_to_cpu_16(ip->hdr_checksum) + 0xfeffu;
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	ip->hdr_checksum = rte_cpu_to_be_16((uint16_t)~sum);
	ip->time_to_live--;
}

void
steer_ttl_decrement(struct rte_ipv4_hdr *ip)
{
	ttl_decrement(ip);
}

static inline uint16_t *
recorded_rxq(const struct steer_dp *dp, struct rte_mbuf *m)
{
	return RTE_MBUF_DYNFIELD(m, dp->rxq_field, uint16_t *);
}

static inline void
txbuf_flush(struct steer_lcore *lc, struct steer_txbuf *b)
{
	uint16_t n = b->n, sent;

	if (n == 0)
		return;
	if (b->lock != NULL) {
		rte_spinlock_lock(b->lock);
		sent = rte_eth_tx_burst(b->port, b->queue, b->m, n);
		rte_spinlock_unlock(b->lock);
	} else {
		sent = rte_eth_tx_burst(b->port, b->queue, b->m, n);
	}
	lc->c.tx += sent;
	if (unlikely(sent < n)) {
		lc->c.drop[STEER_DROP_TX_FULL] += n - sent;
		rte_pktmbuf_free_bulk(&b->m[sent], n - sent);
	}
	b->n = 0;
}

void
steer_flush_all(struct steer_lcore *lc)
{
	for (uint16_t i = 0; i < lc->n_txbuf; i++)
		txbuf_flush(lc, &lc->txbuf[i]);
}

static inline void
txbuf_add(struct steer_lcore *lc, struct steer_txbuf *b, struct rte_mbuf *m)
{
	b->m[b->n++] = m;
	if (b->n == STEER_BURST)
		txbuf_flush(lc, b);
}

/* For now the slow path counts and frees; the control thread's ring comes
 * with ARP and ICMP. */
static inline void
to_slow_path(struct steer_lcore *lc, struct rte_mbuf *m, unsigned reason,
	     struct rte_mbuf **dead, uint16_t *n_dead)
{
	lc->c.slow[reason]++;
	dead[(*n_dead)++] = m;
}

static inline void
drop(struct steer_lcore *lc, struct rte_mbuf *m, unsigned reason,
     struct rte_mbuf **dead, uint16_t *n_dead)
{
	lc->c.drop[reason]++;
	dead[(*n_dead)++] = m;
}

void
steer_process_burst(struct steer_lcore *lc, uint16_t port, uint16_t queue,
		    struct rte_mbuf **pkts, uint16_t n)
{
	struct steer_dp *dp = lc->dp;
	const struct rte_ether_addr *mac = &dp->port[port].mac;
	struct rte_mbuf *look[STEER_BURST], *dead[STEER_BURST];
	uint32_t ips[STEER_BURST], hops[STEER_BURST];
	uint16_t flags[STEER_BURST];
	uint16_t n_look = 0, n_dead = 0;
	/* Run to completion: the queue recorded in each mbuf is this burst's,
	 * so its TX buffers come from one row without reading the mbuf back. */
	const uint16_t *txbuf_of = lc->txbuf_of[queue];

	for (uint16_t i = 0; i < n && i < 4; i++)
		rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void *));

	/* Stage 1: validate and classify; gather destinations to look up. */
	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		if (i + 4 < n)
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i + 4], void *));
		*recorded_rxq(dp, m) = queue;
		int v = classify(rte_pktmbuf_mtod(m, const uint8_t *), m->data_len, m->pkt_len, mac,
				 m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK, &ips[n_look]);
		if (likely((v & (STEER_V_DROP | STEER_V_SLOW)) == 0)) {
			flags[n_look] = v;
			look[n_look++] = m;
		} else if (v & STEER_V_SLOW) {
			to_slow_path(lc, m, STEER_V_REASON(v), dead, &n_dead);
		} else {
			drop(lc, m, STEER_V_REASON(v), dead, &n_dead);
		}
	}

	/* Stage 2: one bulk LPM lookup for the burst. */
	if (n_look > 0)
		rte_lpm_lookup_bulk(dp->fib.lpm, ips, hops, n_look);

	/* Stage 3: decide (RFC 1812 5.3), rewrite, buffer for TX. */
	for (uint16_t i = 0; i < n_look; i++) {
		struct rte_mbuf *m = look[i];
		uint32_t h = hops[i];
		if (unlikely(!(h & RTE_LPM_LOOKUP_SUCCESS))) {
			if (flags[i] & STEER_V_L2BCAST)
				drop(lc, m, STEER_DROP_LINK_BROADCAST, dead, &n_dead);
			else
				to_slow_path(lc, m, STEER_SLOW_NO_ROUTE, dead, &n_dead);
			continue;
		}
		const struct steer_nexthop *nh = &dp->fib.nh[h & 0x00ffffff];
		if (unlikely(nh->kind >= STEER_NH_LOCAL)) {
			to_slow_path(lc, m, nh->kind == STEER_NH_LOCAL ? STEER_SLOW_LOCAL : STEER_SLOW_BROADCAST,
				     dead, &n_dead);
			continue;
		}
		/* 5.3.4: a link-layer broadcast is not forwarded */
		if (unlikely(flags[i] & STEER_V_L2BCAST)) {
			drop(lc, m, STEER_DROP_LINK_BROADCAST, dead, &n_dead);
			continue;
		}
		struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
		struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eth + 1);
		/* 5.3.1: TTL is checked only for packets we would forward */
		if (unlikely(ip->time_to_live <= 1)) {
			to_slow_path(lc, m, STEER_SLOW_TTL_EXCEEDED, dead, &n_dead);
			continue;
		}
		if (unlikely(flags[i] & STEER_V_OPTIONS)) {
			to_slow_path(lc, m, STEER_SLOW_IP_OPTIONS, dead, &n_dead);
			continue;
		}
		if (unlikely(nh->kind == STEER_NH_UNRESOLVED)) {
			to_slow_path(lc, m, STEER_SLOW_UNRESOLVED, dead, &n_dead);
			continue;
		}
		uint16_t out = nh->port;
		if (unlikely(rte_be_to_cpu_16(ip->total_length) > dp->port[out].mtu)) {
			to_slow_path(lc, m, STEER_SLOW_FRAGMENTATION_NEEDED, dead, &n_dead);
			continue;
		}
		ttl_decrement(ip);
		memcpy(eth, nh, 2 * RTE_ETHER_ADDR_LEN);
		txbuf_add(lc, &lc->txbuf[txbuf_of[out]], m);
	}

	if (n_dead > 0)
		rte_pktmbuf_free_bulk(dead, n_dead);
}

int
steer_lcore_main(void *arg)
{
	struct steer_lcore *lc = arg;
	struct steer_dp *dp = lc->dp;
	const uint64_t drain = dp->drain_tsc;
	uint64_t last_drain = rte_rdtsc();
	struct rte_mbuf *pkts[STEER_BURST];

	while (!__atomic_load_n(&dp->quit, __ATOMIC_RELAXED)) {
		uint32_t got = 0;
		for (uint16_t i = 0; i < lc->n_rx; i++) {
			const struct steer_rxq *q = &lc->rx[i];
			uint16_t n = rte_eth_rx_burst(q->port, q->queue, pkts, STEER_BURST);
			if (n == 0) {
				lc->c.idle_polls++;
				continue;
			}
			lc->c.busy_polls++;
			lc->c.rx += n;
			got += n;
			steer_process_burst(lc, q->port, q->queue, pkts, n);
		}
		/* Partial TX buffers leave when the queues run dry or after
		 * drain_tsc (~100 us), whichever comes first. */
		uint64_t now = rte_rdtsc();
		if (got == 0 || now - last_drain > drain) {
			steer_flush_all(lc);
			last_drain = now;
		}
	}
	steer_flush_all(lc);
	return 0;
}

struct steer_dp *
steer_dp_create(int rxq_field, uint32_t nh_cap, int socket)
{
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
	dp->rxq_field = rxq_field;
	dp->drain_tsc = (rte_get_tsc_hz() + 9999) / 10000; /* 100 us */
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
	rte_free(dp->fib.nh);
	rte_free(dp);
}

/* An lcore gets one TX buffer per (egress port, TX queue) its packets can
 * reach: for each RX queue it polls, queue % nb_txq of every enabled port.
 * Ports must be set in dp before lcores are created. */
struct steer_lcore *
steer_lcore_create(struct steer_dp *dp, unsigned lcore_id, int socket,
		   const struct steer_rxq *rx, uint16_t n_rx)
{
	if (n_rx > STEER_MAX_RX_PER_LCORE)
		return NULL;
	struct steer_lcore *lc = rte_zmalloc_socket("steer_lcore", sizeof(*lc), RTE_CACHE_LINE_SIZE, socket);
	if (lc == NULL)
		return NULL;
	lc->dp = dp;
	lc->lcore_id = lcore_id;
	lc->n_rx = n_rx;
	memcpy(lc->rx, rx, sizeof(*rx) * n_rx);
	for (int p = 0; p < STEER_MAX_PORTS; p++)
		for (int q = 0; q < STEER_MAX_QUEUES; q++)
			lc->txbuf_of[q][p] = STEER_NO_TXBUF;

	uint32_t max_bufs = (uint32_t)n_rx * STEER_MAX_PORTS;
	lc->txbuf = rte_zmalloc_socket("steer_txbuf", sizeof(struct steer_txbuf) * (max_bufs ? max_bufs : 1),
				       RTE_CACHE_LINE_SIZE, socket);
	if (lc->txbuf == NULL) {
		rte_free(lc);
		return NULL;
	}
	for (uint16_t i = 0; i < n_rx; i++) {
		uint16_t rq = rx[i].queue;
		for (uint16_t p = 0; p < STEER_MAX_PORTS; p++) {
			if (!dp->port[p].enabled || lc->txbuf_of[rq][p] != STEER_NO_TXBUF)
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
			lc->txbuf_of[rq][p] = b;
		}
	}
	return lc;
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
	rte_free(lc->txbuf);
	rte_free(lc);
}
